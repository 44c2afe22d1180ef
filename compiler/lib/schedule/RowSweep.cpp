// RowSweep.cpp: finds the steps one sweep over a matrix's rows can compute with its
// matrix-vector product (Schedule.h's RowSweep) and moves them next to it.
#include "schedule/Schedule.h"

#include "ir/OpTable.h"

#include <algorithm>

namespace gradc {

namespace {

NodeId bufferOf(const Schedule &s, NodeId x) {
  while (s.storage[static_cast<size_t>(x)] == Storage::Alias)
    x = s.slot[static_cast<size_t>(x)];
  return x;
}

// A vector read straight from memory, element j at offset j.
bool vectorInMemory(const Graph &g, const Schedule &s, NodeId x, DType dt) {
  Storage st = s.storage[static_cast<size_t>(x)];
  return g.type(x).dtype == dt && g.type(x).shape.size() == 1 &&
         (st == Storage::Param || st == Storage::Output || st == Storage::Workspace || st == Storage::Alias);
}

class SweepFinder {
public:
  SweepFinder(const Graph &g, Schedule &s) : g_(g), s_(s), stepIndex_(g.size(), -1) {
    for (size_t k = 0; k < s.steps.size(); ++k)
      stepIndex_[static_cast<size_t>(s.steps[k])] = static_cast<int64_t>(k);
  }

  // A sweep led by step `head` when it is a matvec with at least one product to fuse.
  bool find(size_t head, RowSweep &sw) {
    NodeId q = s_.steps[head];
    const Node &node = g_.node(q);
    DType dt = node.type.dtype;
    if (node.op != Op::MatMul || (dt != DType::F64 && dt != DType::F32) || s_.sweepOf[static_cast<size_t>(q)] >= 0)
      return false;
    NodeId w = node.operands[0], x = node.operands[1];
    MatrixInMemory wm;
    if (g_.type(w).shape.size() != 2 || !matrixInMemory(g_, s_, w, dt, wm) || wm.transposed ||
        !vectorInMemory(g_, s_, x, dt))
      return false;
    head_ = static_cast<int64_t>(head);
    rows_ = node.type.shape[0];
    matrix_ = bufferOf(s_, wm.buffer);
    matrixShape_ = g_.type(w).shape;
    sw = RowSweep{q, {}, {}, {}};
    members_ = {q};
    for (size_t k = head + 1; k < s_.steps.size(); ++k) {
      NodeId c = s_.steps[k];
      if (s_.sweepOf[static_cast<size_t>(c)] >= 0 || g_.type(c).isScalar())
        continue;
      const Node &cn = g_.node(c);
      if (opInfo(cn.op).loop == LoopKind::Elementwise && isRowShape(cn.type.shape, false) && rowLocal(c, true)) {
        sw.rowValues.push_back(c);
        members_.push_back(c);
      } else if (cn.op == Op::MatMul && cn.type.dtype == dt && isOuter(c)) {
        sw.outers.push_back(c);
      } else if (cn.op == Op::MatMul && cn.type.dtype == dt && isTransposed(c)) {
        sw.transposed.push_back(c);
      }
    }
    return !sw.outers.empty() || !sw.transposed.empty();
  }

private:
  // [m], or [m, 1] when `column`.
  bool isRowShape(const Shape &sh, bool column) const {
    return column ? sh.size() == 2 && sh[0] == rows_ && sh[1] == Dim::lit(1) : sh.size() == 1 && sh[0] == rows_;
  }

  // Ready when the sweep starts: computed by an earlier step, a parameter, or the sweep's.
  bool ready(NodeId x) const {
    if (std::find(members_.begin(), members_.end(), x) != members_.end())
      return true;
    int64_t k = stepIndex_[static_cast<size_t>(x)];
    return k < 0 || k < head_;
  }

  // Whether element i of `x` (a row shape) reads only element i of row-shaped values ready
  // at the sweep, scalars ready before it, and constants. `self`: x is the step being tested,
  // computed by its own loop (not yet a member).
  bool rowLocal(NodeId x, bool self) {
    stack_.clear();
    if (self)
      for (NodeId o : g_.node(x).operands)
        stack_.push_back({o, g_.type(x).shape});
    else
      stack_.push_back({x, g_.type(x).shape});
    while (!stack_.empty()) {
      auto [y, consumerShape] = stack_.back();
      stack_.pop_back();
      const Type &t = g_.type(y);
      if (t.isScalar()) {
        if (!ready(y) && s_.storage[static_cast<size_t>(y)] != Storage::Inline)
          return false;
        if (s_.storage[static_cast<size_t>(y)] == Storage::Inline && g_.node(y).op != Op::Const)
          for (NodeId o : g_.node(y).operands)
            stack_.push_back({o, t.shape});
        continue;
      }
      // Same shape as its consumer (no broadcasting along the rows), or a reshape between
      // [m] and [m, 1], which keeps element i at position i.
      if (!(isRowShape(t.shape, false) || isRowShape(t.shape, true)))
        return false;
      if (t.shape != consumerShape && s_.storage[static_cast<size_t>(y)] != Storage::Alias)
        return false;
      switch (s_.storage[static_cast<size_t>(y)]) {
      case Storage::Alias:
        stack_.push_back({s_.slot[static_cast<size_t>(y)], g_.type(s_.slot[static_cast<size_t>(y)]).shape});
        break;
      case Storage::Param:
      case Storage::Output:
      case Storage::Workspace:
        if (!ready(y))
          return false;
        break;
      case Storage::Inline:
        if (g_.node(y).op == Op::Const)
          break;
        if (opInfo(g_.node(y).op).loop != LoopKind::Elementwise)
          return false;
        for (NodeId o : g_.node(y).operands)
          stack_.push_back({o, t.shape});
        break;
      default:
        return false;
      }
    }
    return true;
  }

  // C [m, n] = g [m, 1] @ v^T [1, n], v contiguous and ready (n: W's columns, which the
  // sweep's loop runs over).
  bool isOuter(NodeId c) {
    const Node &n = g_.node(c);
    NodeId a = n.operands[0], v = n.operands[1];
    MatrixInMemory vm;
    if (!isRowShape(g_.type(a).shape, true) || g_.type(v).shape != Shape{Dim::lit(1), matrixShape_[1]} ||
        !matrixInMemory(g_, s_, v, n.type.dtype, vm) || !ready(bufferOf(s_, vm.buffer)))
      return false;
    // Row-major [1, n'] or the transpose of [n', 1]: columns one element apart.
    if (vm.transposed && g_.type(vm.buffer).shape[1] != Dim::lit(1))
      return false;
    return rowLocal(a, false);
  }

  // r = W^T @ g for this sweep's W, g [m] or [m, 1].
  bool isTransposed(NodeId c) {
    const Node &n = g_.node(c);
    NodeId a = n.operands[0], gv = n.operands[1];
    if (!readsColumnMajor(g_, s_, a))
      return false;
    NodeId w = g_.node(a).operands[0];
    Storage st = s_.storage[static_cast<size_t>(w)];
    if (g_.type(w).dtype != n.type.dtype || (st != Storage::Param && st != Storage::Output &&
                                            st != Storage::Workspace && st != Storage::Alias) ||
        bufferOf(s_, w) != matrix_ || g_.type(w).shape != matrixShape_)
      return false;
    bool column = g_.type(gv).shape.size() == 2;
    return isRowShape(g_.type(gv).shape, column) && rowLocal(gv, false);
  }

  const Graph &g_;
  Schedule &s_;
  std::vector<int64_t> stepIndex_;
  int64_t head_ = -1;
  Dim rows_;
  NodeId matrix_ = kNoNode; // W's buffer
  Shape matrixShape_;
  std::vector<NodeId> members_; // the matvec and the row values so far
  std::vector<std::pair<NodeId, Shape>> stack_;
};

} // namespace

void fuseRowSweeps(const Graph &g, Schedule &s) {
  s.sweepOf.assign(g.size(), -1);
  SweepFinder finder(g, s);
  for (size_t k = 0; k < s.steps.size(); ++k) {
    RowSweep sw;
    if (!finder.find(k, sw))
      continue;
    int32_t id = static_cast<int32_t>(s.rowSweeps.size());
    for (const auto *list : {&sw.rowValues, &sw.outers, &sw.transposed})
      for (NodeId n : *list)
        s.sweepOf[static_cast<size_t>(n)] = id;
    s.sweepOf[static_cast<size_t>(sw.matvec)] = id;
    s.rowSweeps.push_back(std::move(sw));
  }
  if (s.rowSweeps.empty())
    return;
  // Each sweep's steps right after its matvec, in their order; the rest keep theirs. The
  // moved steps read only what is ready at the matvec, and every step that reads them
  // came after them, so it still does.
  std::vector<NodeId> order;
  order.reserve(s.steps.size());
  for (NodeId n : s.steps) {
    int32_t id = s.sweepOf[static_cast<size_t>(n)];
    if (id < 0) {
      order.push_back(n);
      continue;
    }
    const RowSweep &sw = s.rowSweeps[static_cast<size_t>(id)];
    if (n != sw.matvec)
      continue;
    order.push_back(n);
    for (NodeId m : s.steps)
      if (m != n && s.sweepOf[static_cast<size_t>(m)] == id)
        order.push_back(m);
  }
  s.steps = std::move(order);
}

} // namespace gradc
