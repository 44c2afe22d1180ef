// LoopParts.cpp: where a loop over a value read through slices (a shift, a piece of a
// concat) is cut into parts, and what is known of each slice's index in a part.
#include "loops/FunctionLowering.h"

#include "ir/OpTable.h"

#include <algorithm>
#include <set>

namespace gradc::loops {

// The outer loop of n cut where every fused gather's slice is inside: there they read their
// operand unconditionally, so the long middle part is branch-free and vectorizes. The edge
// parts are as long as the furthest shift: at most one index for slices that start at 1 or
// stop at n - 1 (every shift of ODE's), whatever n is; none for slices that all start at 0 or
// all reach the end (sizes are never negative: the entry checks them).
std::vector<FunctionLowering::SlicePart> FunctionLowering::partsAroundSlices(NodeId n, const std::vector<NodeId> &gathers) {
  const Dim &extentDim = g_.node(n).type.shape[0];
  ExprId extent = dimValue(extentDim);
  ExprId lo = f_->i64(0), hi = extent;
  bool singleLo = true, singleHi = true, noLo = true, noHi = true, sameEnd = true;
  int64_t lastStop = extentDim.off; // with sameEnd: the earliest stop is extent - this
  for (NodeId gnode : gathers) {
    IndexAxis ax = decodeIndexSpec(g_.node(gnode).ints)[0];
    lo = f_->max(dimValue(ax.start), lo);
    hi = f_->min(dimValue(ax.stop), hi);
    bool literal = ax.start.sym == -1;
    sameEnd = sameEnd && ax.stop.sym == extentDim.sym;
    lastStop = std::min(lastStop, ax.stop.off);
    singleLo = singleLo && literal && ax.start.off <= 1;
    singleHi = singleHi && sameEnd && extentDim.off - ax.stop.off <= 1;
    noLo = noLo && literal && ax.start.off <= 0;
    noHi = noHi && sameEnd && ax.stop.off >= extentDim.off;
  }
  // A stop of the extent's dim is a checked size: n - 1 >= 0 (so the middle part's end is
  // n - 1 itself, and its loop may merge with the others over n - 1).
  if (sameEnd)
    hi = dimValue(Dim{extentDim.sym, lastStop});
  lo = noLo ? f_->i64(0) : keep(f_->min(lo, extent), "lo");
  hi = noHi ? extent : noLo ? hi : keep(f_->max(hi, lo), "hi");
  std::vector<SlicePart> parts;
  if (!noLo)
    parts.push_back({f_->i64(0), lo, false, singleLo});
  parts.push_back({lo, hi, true, false});
  if (!noHi)
    parts.push_back({hi, extent, false, singleHi});
  return parts;
}

// The places where the outer loop of n is cut so that every gather n's element reads along
// that axis is inside its slice or outside it in each part: the gathers fused into n, those
// inside their operands (a shift of a shift: ODE's concat(x[0:1], x[1:n] * y[0:n-1]) of a
// value that is itself such a concat), and those under a slice n is, followed through fused
// elementwise ops, gathers and slices of the outer axis. Sorted, from 0 to the extent; empty
// when a bound is not a constant, and when there would be more than kMaxLoopParts parts (the
// body is copied into each).
std::vector<int64_t> FunctionLowering::constantCuts(NodeId n) {
  const Node &node = g_.node(n);
  std::vector<int64_t> cuts;
  auto known = [&](const Dim &d, int64_t &v) {
    const Expr &x = f_->expr(dimValue(d));
    v = x.i;
    return x.op == Op::Int;
  };
  int64_t extent;
  if (node.type.shape.empty() || !known(node.type.shape[0], extent))
    return {};
  cuts = {0, extent};
  // (node, shift, depth): the node's outer index is the loop's index minus shift.
  struct Item {
    NodeId node;
    int64_t shift;
    int depth;
  };
  std::vector<Item> stack{{n, 0, 0}}; // n itself is stored: what it reads is fused
  std::set<std::pair<NodeId, int64_t>> seen; // each (node, shift) once: x * x is one path
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    const Node &x = g_.node(it.node);
    if ((it.depth > 0 && s_.storage[static_cast<size_t>(it.node)] != Storage::Inline) ||
        g_.type(it.node).isScalar() || it.depth > 64 || !seen.insert({it.node, it.shift}).second)
      continue;
    LoopKind kind = opInfo(x.op).loop;
    if (kind == LoopKind::Elementwise) {
      for (NodeId o : x.operands)
        stack.push_back({o, it.shift, it.depth + 1});
      continue;
    }
    bool gather = kind == LoopKind::Scatter, slice = kind == LoopKind::View && x.op == IrOp::Index;
    if (!gather && !slice)
      continue;
    IndexAxis ax = decodeIndexSpec(x.ints)[0];
    int64_t start, stop;
    if (!ax.slice || !known(ax.start, start) || !known(ax.stop, stop)) {
      if (gather)
        return {}; // a gather whose region is not known now
      continue;
    }
    if (gather)
      for (int64_t c : {start + it.shift, stop + it.shift})
        if (c > 0 && c < extent && std::find(cuts.begin(), cuts.end(), c) == cuts.end()) {
          if (cuts.size() > kMaxLoopParts)
            return {};
          cuts.push_back(c);
        }
    // A gather's operand is read at index - start, a slice's at index + start.
    stack.push_back({x.operands[0], gather ? it.shift + start : it.shift - start, it.depth + 1});
  }
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

// Whether index e, in a part of a split loop with constant bounds, is in [start, stop) for
// every value of the part's variable (`inside`), or outside it for every value (!inside): an
// interval of e over the part's range. False when that is not known.
bool FunctionLowering::provably(bool inside, ExprId e, ExprId start, ExprId stop) const {
  if (part_.var == kNone)
    return false;
  const Expr &a = f_->expr(start), &b = f_->expr(stop);
  if (a.op != Op::Int || b.op != Op::Int)
    return false;
  auto range = [&](auto &self, ExprId x, int depth, int64_t &lo, int64_t &hi) -> bool {
    const Expr &ex = f_->expr(x);
    if (depth > 16 || ex.type != kI64)
      return false;
    if (ex.op == Op::Int) {
      lo = hi = ex.i;
      return true;
    }
    if (x == part_.var) {
      lo = part_.lo;
      hi = part_.hi - 1;
      return lo <= hi;
    }
    if (ex.op != Op::Add && ex.op != Op::Sub)
      return false;
    int64_t l0, h0, l1, h1;
    if (!self(self, ex.ops[0], depth + 1, l0, h0) || !self(self, ex.ops[1], depth + 1, l1, h1))
      return false;
    if (ex.op == Op::Add)
      return !__builtin_add_overflow(l0, l1, &lo) && !__builtin_add_overflow(h0, h1, &hi);
    return !__builtin_sub_overflow(l0, h1, &lo) && !__builtin_sub_overflow(h0, l1, &hi);
  };
  int64_t lo, hi;
  if (!range(range, e, 0, lo, hi))
    return false;
  return inside ? lo >= a.i && hi < b.i : hi < a.i || lo >= b.i;
}

} // namespace gradc::loops
