// SumRider.cpp: finds the full sums of vectors a later loop can compute as it goes
// (Schedule.h's SumRider) and moves them after that loop.
#include "schedule/Schedule.h"

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

// A scalar step computed in place (no loop), which can as well run after a loop.
bool isCheapScalar(const Graph &g, const Schedule &s, NodeId n) {
  LoopKind kind = opInfo(g.node(n).op).loop;
  return g.type(n).isScalar() && s.storage[static_cast<size_t>(n)] == Storage::Scalar &&
         kind != LoopKind::Reduce && kind != LoopKind::MatMul && kind != LoopKind::ScatterAdd;
}

void fuseSumRiders(const Graph &g, Schedule &s) {
  s.riderOf.assign(g.size(), -1);
  std::vector<NodeId> stack;
  // Decide on the original order, then move: each sum goes right after its loop, followed by
  // the cheap scalar steps that read it before the loop (sum1 + sum2), deferred with it.
  std::vector<bool> moved(s.steps.size(), false);
  std::vector<NodeId> deferredTo(s.steps.size(), kNoNode); // a deferred step's loop
  for (size_t k = 0; k < s.steps.size(); ++k) {
    NodeId sum = s.steps[k];
    if (!isVectorSum(g, s, sum))
      continue;
    NodeId e = g.node(sum).operands[0];
    std::vector<NodeId> pending{sum}; // the sum, and the steps that would read it early
    std::vector<size_t> defer;
    NodeId required = kNoNode; // a step deferred already reads the sum: ride on its loop
    for (size_t j = k + 1; j < std::min(s.steps.size(), k + 1 + kRideWindow); ++j) {
      NodeId step = s.steps[j];
      bool reads = false;
      forEachRead(g, s, step, false, stack,
                  [&](NodeId x) { reads |= std::find(pending.begin(), pending.end(), x) != pending.end(); });
      if (reads) {
        if (deferredTo[j] != kNoNode && (required == kNoNode || required == deferredTo[j])) {
          required = deferredTo[j];
        } else if (deferredTo[j] == kNoNode && !moved[j] && isCheapScalar(g, s, step)) {
          defer.push_back(j);
        } else {
          break;
        }
        pending.push_back(step);
        continue;
      }
      if (moved[j] || deferredTo[j] != kNoNode)
        continue;
      NodeId gather = rideableGather(g, s, step, e);
      if (gather == kNoNode)
        continue;
      // The sums on one loop share a dtype (backends keep them in lanes of one type).
      bool sameType = true;
      for (const SumRider &other : s.riders)
        sameType &= other.loop != step || g.type(other.sum).dtype == g.type(sum).dtype;
      if (!sameType || (required != kNoNode && required != step))
        break;
      s.riderOf[static_cast<size_t>(sum)] = static_cast<int32_t>(s.riders.size());
      s.riders.push_back({sum, step, gather});
      moved[k] = true;
      for (size_t d : defer)
        deferredTo[d] = step;
      break;
    }
  }
  if (s.riders.empty())
    return;
  // After each loop: its sums, then the steps deferred to it, each in their old order.
  std::vector<std::vector<NodeId>> followers(g.size());
  for (const SumRider &r : s.riders)
    followers[static_cast<size_t>(r.loop)].push_back(r.sum);
  for (size_t j = 0; j < s.steps.size(); ++j)
    if (deferredTo[j] != kNoNode)
      followers[static_cast<size_t>(deferredTo[j])].push_back(s.steps[j]);
  std::vector<NodeId> steps;
  steps.reserve(s.steps.size());
  for (size_t k = 0; k < s.steps.size(); ++k) {
    if (moved[k] || deferredTo[k] != kNoNode)
      continue;
    steps.push_back(s.steps[k]);
    for (NodeId x : followers[static_cast<size_t>(s.steps[k])])
      steps.push_back(x);
  }
  s.steps = std::move(steps);
}

} // namespace gradc
