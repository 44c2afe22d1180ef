// SumRider.cpp: finds the full sums of vectors a later loop can compute as it goes
// (Schedule.h's SumRider) and moves them after that loop.
#include "backend/Schedule.h"

#include "ir/OpTable.h"

#include <algorithm>

namespace gradc {

namespace {

// How far ahead a sum's loop may be: the steps between are checked for reads of the sum.
constexpr size_t kRideWindow = 16;

bool isVectorSum(const Graph &g, const Schedule &s, NodeId n) {
  const Node &node = g.node(n);
  DType dt = node.type.dtype;
  return node.op == Op::Sum && node.type.isScalar() && (dt == DType::F64 || dt == DType::F32) &&
         g.type(node.operands[0]).shape.size() == 1 &&
         s.storage[static_cast<size_t>(n)] == Storage::Scalar && !s.rowSweepOf(n);
}

// The gather of loop step m that a sum of e can ride on: m a vector computed elementwise
// into memory, one of whose fused gathers reads an operand as long as e.
NodeId rideableGather(const Graph &g, const Schedule &s, NodeId m, NodeId e) {
  Storage st = s.storage[static_cast<size_t>(m)];
  if (g.type(m).shape.size() != 1 || (st != Storage::Output && st != Storage::Workspace) ||
      s.rowSweepOf(m))
    return kNoNode;
  for (NodeId gather : fusedGathers(g, s, m))
    if (g.type(g.node(gather).operands[0]).shape == g.type(e).shape)
      return gather;
  return kNoNode;
}

} // namespace

void fuseSumRiders(const Graph &g, Schedule &s) {
  s.riderOf.assign(g.size(), -1);
  std::vector<NodeId> stack;
  // Decide on the original order, then move: each sum goes right after its loop.
  std::vector<bool> moved(s.steps.size(), false);
  for (size_t k = 0; k < s.steps.size(); ++k) {
    NodeId sum = s.steps[k];
    if (!isVectorSum(g, s, sum))
      continue;
    NodeId e = g.node(sum).operands[0];
    for (size_t j = k + 1; j < std::min(s.steps.size(), k + 1 + kRideWindow); ++j) {
      NodeId step = s.steps[j];
      bool reads = false;
      forEachRead(g, s, step, false, stack, [&](NodeId x) { reads |= x == sum; });
      if (reads)
        break;
      NodeId gather = rideableGather(g, s, step, e);
      if (gather == kNoNode)
        continue;
      // The sums on one loop share a dtype (backends keep them in lanes of one type).
      bool sameType = true;
      for (const SumRider &other : s.riders)
        sameType &= other.loop != step || g.type(other.sum).dtype == g.type(sum).dtype;
      if (!sameType)
        break;
      s.riderOf[static_cast<size_t>(sum)] = static_cast<int32_t>(s.riders.size());
      s.riders.push_back({sum, step, gather});
      moved[k] = true;
      break;
    }
  }
  if (s.riders.empty())
    return;
  std::vector<std::vector<NodeId>> followers(g.size());
  for (const SumRider &r : s.riders)
    followers[static_cast<size_t>(r.loop)].push_back(r.sum);
  std::vector<NodeId> steps;
  steps.reserve(s.steps.size());
  for (size_t k = 0; k < s.steps.size(); ++k) {
    if (moved[k])
      continue;
    steps.push_back(s.steps[k]);
    for (NodeId sum : followers[static_cast<size_t>(s.steps[k])])
      steps.push_back(sum);
  }
  s.steps = std::move(steps);
}

} // namespace gradc
