// LowerSteps.cpp: the steps of a schedule as loops (materialized tensors, riding sums,
// reductions, scatters).
#include "loops/FunctionLowering.h"

#include "ir/OpTable.h"

#include <algorithm>
#include <functional>
#include <set>

namespace gradc::loops {

// The op table's join of an accumulator and an element (sum: +, max: the NaN-propagating
// maximum), as a combine with Hole 0 the accumulator and Hole 1 the element.
ExprId FunctionLowering::combineOf(const OpInfo &info, DType dt) {
  ExprElementBuilder eb(*f_, dt);
  Val both[] = {wrap(f_->hole(0, registerTy(dt))), wrap(f_->hole(1, registerTy(dt)))};
  return unwrap(info.reduceCombine(eb, std::span<Val const>(both, 2)));
}

void FunctionLowering::emitStep(NodeId n) {
  memo_.clear();
  if (const RowSweep *sw = s_.rowSweepOf(n)) {
    if (n == sw->matvec) // a row sweep's other steps are lowered with its matvec
      emitRowSweep(*sw);
    return;
  }
  if (s_.riderOfSum(n)) // computed in its loop, the step before
    return;
  if (g_.type(n).isScalar())
    emitScalar(n);
  else
    emitMaterialize(n);
  memo_.clear();
}

void FunctionLowering::emitScalar(NodeId n) {
  const Node &node = g_.node(n);
  ExprId v;
  switch (opInfo(node.op).loop) {
  case LoopKind::Reduce:
    v = emitReduce(n, kNone);
    break;
  case LoopKind::MatMul:
    v = emitMatMul(n, kNone);
    break;
  default:
    v = compute(n, {});
  }
  storeScalar(n, v);
}

// A scalar step's value: kept for its readers in this function, and on the tape for other
// chunks' readers.
void FunctionLowering::storeScalar(NodeId n, ExprId v) {
  v = keep(v, "s" + std::to_string(n));
  scalars_[static_cast<size_t>(n)] = v;
  setScalars_.push_back(n);
  int32_t slot = plan_.tapeSlot.empty() ? -1 : plan_.tapeSlot[static_cast<size_t>(n)];
  if (chunked() && slot >= 0) {
    DType dt = g_.type(n).dtype;
    if (dt == DType::Bool)
      b_->store(tapeView(dt), f_->i64(slot), f_->cast(kI64, v));
    else
      b_->store(tapeView(dt), f_->i64(slot * (8 / kindBytes(memoryTy(dt).kind))), v);
  }
}

void FunctionLowering::fill(int32_t buffer, DType dtype, const Shape &shape, ExprId v) {
  b_->loopNest(extentsOf(shape), [&](const std::vector<ExprId> &idx) {
    storeValue(buffer, linearIndex(shape, idx), v, dtype, dtype);
  }, kRolled);
}

namespace {

// The number of elements of a nest of extents, when all are constants and it is at most
// `cap`; cap + 1 otherwise.
int64_t constantElements(const Func &f, const std::vector<ExprId> &extents, int64_t cap) {
  int64_t n = 1;
  for (ExprId e : extents)
    n = f.expr(e).op == Op::Int && n <= cap ? n * f.expr(e).i : cap + 1;
  return std::min(n, cap + 1);
}

// Each of the `count` indices of a nest of constant extents, as constants, in row-major order.
void forEachConstantIndex(Func &f, const std::vector<ExprId> &extents, int64_t count,
                          const std::function<void(const std::vector<ExprId> &)> &visit) {
  for (int64_t k = 0; k < count; ++k) {
    std::vector<ExprId> idx(extents.size());
    int64_t left = k;
    for (size_t d = extents.size(); d-- > 0;) {
      idx[d] = f.i64(left % f.expr(extents[d]).i);
      left /= f.expr(extents[d]).i;
    }
    visit(idx);
  }
}

} // namespace

void FunctionLowering::emitMaterialize(NodeId n) {
  const Node &node = g_.node(n);
  int32_t out = bufferOf(n);
  switch (opInfo(node.op).loop) {
  case LoopKind::Reduce:
    emitReduce(n, out);
    return;
  case LoopKind::MatMul:
    emitMatMul(n, out);
    return;
  case LoopKind::Scatter:
    emitScatter(n, out);
    return;
  case LoopKind::ScatterAdd:
    emitScatterAdd(n, out);
    return;
  case LoopKind::Scan:
    emitScan(n, out);
    return;
  default:
    break;
  }
  auto body = [&](const std::vector<ExprId> &idx) {
    memo_.clear();
    ExprId v = compute(n, idx);
    storeValue(out, linearIndex(node.type.shape, idx), v, node.type.dtype, node.type.dtype);
    memo_.clear();
  };
  std::vector<NodeId> gathers = fusedGathers(g_, s_, n);
  std::vector<int64_t> cuts = constantCuts(n);
  if (gathers.empty() && cuts.size() <= 2) {
    std::vector<ExprId> extents = extentsOf(node.type.shape);
    auto small = [&](ExprId e) { return f_->expr(e).op == Op::Int && f_->expr(e).i <= kTransposeBlock; };
    if (extents.size() >= 2 && readsAcrossRows(g_, s_, n) &&
        !(small(extents[extents.size() - 2]) && small(extents.back())))
      blockedNest(extents, body);
    else
      b_->loopNest(extents, body, kRolled);
    return;
  }
  std::vector<ExprId> inner = extentsOf(Shape(node.type.shape.begin() + 1, node.type.shape.end()));
  std::vector<const SumRider *> riders;
  for (const SumRider &r : s_.riders)
    if (r.loop == n)
      riders.push_back(&r);
  std::vector<int32_t> sums = beginRiders(riders);
  // A part of a few elements, known now, is lowered at each index: its tests of the index
  // (det's gradient: sums of one-hot pieces, each read where it is) fold as it is made.
  int64_t innerElements = constantElements(*f_, inner, kUnrolledElements);
  // One part of the outer loop; `middle`: every fused gather is inside there; `single`: the
  // part holds at most one index.
  auto part = [&](ExprId from, ExprId to, bool middle, bool single = false) {
    int64_t trips = f_->constantTrips(from, to);
    bool unrolled = !single && trips >= 0 && trips <= kUnrolledElements && trips * innerElements <= kUnrolledElements;
    auto iteration = [&](ExprId i) {
      for (NodeId gnode : gathers)
        if (middle)
          knownInside_.push_back({gnode, i});
      if (f_->expr(from).op == Op::Int && f_->expr(to).op == Op::Int)
        part_ = {i, f_->expr(from).i, f_->expr(to).i};
      auto element = [&](const std::vector<ExprId> &rest) {
        std::vector<ExprId> idx{i};
        idx.insert(idx.end(), rest.begin(), rest.end());
        body(idx);
      };
      if (unrolled)
        forEachConstantIndex(*f_, inner, innerElements, element);
      else
        b_->loopNest(inner, element, kRolled);
      addRiders(riders, sums, i);
      knownInside_.clear();
      part_ = {};
    };
    if (single)
      b_->atMostOnce(from, to, iteration);
    else if (unrolled)
      for (int64_t v = f_->expr(from).i; v < f_->expr(to).i; ++v)
        iteration(f_->i64(v));
    else
      b_->loop(from, to, iteration, kRolled);
  };
  if (cuts.size() >= 2) {
    // Every gather's slice bounds known now: a part between each two, in which each gather
    // (also one inside another's operand) is inside its slice or outside, so no part branches.
    for (size_t k = 0; k + 1 < cuts.size(); ++k)
      part(f_->i64(cuts[k]), f_->i64(cuts[k + 1]), false);
  } else {
    for (const SlicePart &p : partsAroundSlices(n, gathers))
      part(p.from, p.to, p.middle, p.single);
  }
  endRiders(riders, sums);
}

// The loop nest over `extents` with its last two axes in square blocks of kTransposeBlock:
// a loop that reads across rows (a transpose) then touches kTransposeBlock lines of the
// operand, each for a whole block, instead of a line per element a row apart (rows a power of
// two apart all fall in one cache set: 1024 x 1024 f32 transposed took 10 ms unblocked).
void FunctionLowering::blockedNest(const std::vector<ExprId> &extents,
                                   const std::function<void(const std::vector<ExprId> &)> &body) {
  std::vector<ExprId> outer(extents.begin(), extents.end() - 2);
  ExprId rows = extents[extents.size() - 2], cols = extents.back(), step = f_->i64(kTransposeBlock);
  auto blocks = [&](ExprId n) { return f_->div(f_->add(n, f_->i64(kTransposeBlock - 1)), step); };
  b_->loopNest(outer, [&](const std::vector<ExprId> &head) {
    b_->loop(f_->i64(0), blocks(rows), [&](ExprId ib) {
      ExprId i0 = keep(f_->mul(ib, step), "row_lo");
      ExprId i1 = keep(f_->min(f_->add(i0, step), rows), "row_hi");
      b_->loop(f_->i64(0), blocks(cols), [&](ExprId jb) {
        ExprId j0 = keep(f_->mul(jb, step), "col_lo");
        ExprId j1 = keep(f_->min(f_->add(j0, step), cols), "col_hi");
        b_->loop(i0, i1, [&](ExprId i) {
          b_->loop(j0, j1, [&](ExprId j) {
            std::vector<ExprId> idx = head;
            idx.push_back(i);
            idx.push_back(j);
            body(idx);
          });
        });
      });
    });
  });
}

// Sums riding on a loop (Schedule.h's SumRider): an accumulator each; the loop adds the
// element its gather aligns with at index i.
std::vector<int32_t> FunctionLowering::beginRiders(const std::vector<const SumRider *> &riders) {
  std::vector<int32_t> sums;
  for (const SumRider *r : riders) {
    DType dt = g_.type(r->sum).dtype;
    sums.push_back(b_->let(registerTy(dt), konst(opInfo(IrOp::Sum).reduceInit, dt), "sum" + std::to_string(r->sum)));
  }
  return sums;
}

void FunctionLowering::addRiders(const std::vector<const SumRider *> &riders, const std::vector<int32_t> &sums,
                                 ExprId i) {
  for (size_t k = 0; k < riders.size(); ++k) {
    const SumRider &r = *riders[k];
    NodeId e = g_.node(r.sum).operands[0];
    DType dt = g_.type(r.sum).dtype;
    IndexAxis ax = decodeIndexSpec(g_.node(r.gather).ints)[0];
    ExprId start = dimValue(ax.start);
    auto add = [&] {
      memo_.clear();
      ExprId v = convert(*f_, element(e, {f_->sub(i, start)}), g_.type(e).dtype, dt);
      b_->emit(f_->accumulate(sums[k], v, combineOf(opInfo(IrOp::Sum), dt), kReassocAcc,
                                     konst(opInfo(IrOp::Sum).reduceInit, dt)));
      memo_.clear();
    };
    ExprId stop = dimValue(ax.stop);
    if (knownInside(r.gather, i) || provably(true, i, start, stop)) {
      add(); // a part of the loop where start <= i < stop
      continue;
    }
    if (provably(false, i, start, stop))
      continue;
    ExprId inside = f_->logic(Op::And, f_->compare(Op::Ge, i, start), f_->compare(Op::Lt, i, stop));
    b_->when(inside, add);
  }
}

void FunctionLowering::endRiders(const std::vector<const SumRider *> &riders, const std::vector<int32_t> &sums) {
  for (size_t k = 0; k < riders.size(); ++k)
    storeScalar(riders[k]->sum, f_->localRef(sums[k]));
}

// Reductions join elements in an order of the code generator's choosing (they may be
// reordered), so they vectorize; docs/NUMERICS.md: compiled code may reorder the terms of a sum. The op table
// gives the start value and the join.
ExprId FunctionLowering::emitReduce(NodeId n, int32_t out) {
  const Node &node = g_.node(n);
  const OpInfo &info = opInfo(node.op);
  NodeId a = node.operands[0];
  const Shape &inShape = g_.type(a).shape;
  DType dt = node.type.dtype;
  std::vector<bool> reduced(inShape.size(), false);
  for (int64_t ax : node.ints)
    reduced[static_cast<size_t>(ax)] = true;
  if (out == kNone) { // a scalar: an accumulator
    int32_t acc = b_->let(registerTy(dt), konst(info.reduceInit, dt), "acc" + std::to_string(n));
    ExprId combine = combineOf(info, dt);
    b_->loopNest(extentsOf(inShape), [&](const std::vector<ExprId> &idx) {
      memo_.clear();
      b_->emit(f_->accumulate(acc, convert(*f_, element(a, idx), g_.type(a).dtype, dt), combine, kReassocAcc,
                                     konst(info.reduceInit, dt)));
      memo_.clear();
    }, kRolled);
    return f_->localRef(acc);
  }
  fill(out, dt, node.type.shape, konst(info.reduceInit, dt));
  ExprElementBuilder eb(*f_, dt);
  b_->loopNest(extentsOf(inShape), [&](const std::vector<ExprId> &idx) {
    memo_.clear();
    std::vector<ExprId> kept;
    for (size_t k = 0; k < idx.size(); ++k)
      if (!reduced[k])
        kept.push_back(idx[k]);
    ExprId p = linearIndex(node.type.shape, kept);
    Val both[] = {wrap(f_->load(out, p, memoryTy(dt))), wrap(convert(*f_, element(a, idx), g_.type(a).dtype, dt))};
    b_->store(out, p, unwrap(info.reduceCombine(eb, std::span<Val const>(both, 2))));
    memo_.clear();
  }, kRolled);
  return kNone;
}

// index_grad: zeros, then the operand written at the selected places. Each selected place
// is written once, so the operand's elements are computed in this loop.
void FunctionLowering::emitScatter(NodeId n, int32_t out) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  NodeId a = node.operands[0];
  fill(out, dt, node.type.shape, konst(0.0, dt));
  std::vector<IndexAxis> axes = decodeIndexSpec(node.ints);
  b_->loopNest(extentsOf(g_.type(a).shape), [&](const std::vector<ExprId> &sel) {
    memo_.clear();
    std::vector<ExprId> dst;
    size_t j = 0;
    for (const IndexAxis &ax : axes)
      dst.push_back(ax.slice ? f_->add(dimValue(ax.start), sel[j++]) : dimValue(ax.start));
    storeValue(out, linearIndex(node.type.shape, dst), element(a, sel), g_.type(a).dtype, dt);
    memo_.clear();
  }, kRolled);
}

// scatter_add: zeros, then one pass over the operand adding each element where its index
// says, in order: repeated indices add up without atomics, and each index is read once.
void FunctionLowering::emitScatterAdd(NodeId n, int32_t out) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  NodeId v = node.operands[0];
  fill(out, dt, node.type.shape, konst(0.0, dt));
  b_->loopNest(extentsOf(g_.type(v).shape), [&](const std::vector<ExprId> &idx) {
    memo_.clear();
    ExprId at = linearIndex(node.type.shape, gatheredFrom(n, idx));
    ExprId add = convert(*f_, element(v, idx), g_.type(v).dtype, dt);
    storeValue(out, at, f_->add(f_->load(out, at, memoryTy(dt)), add), dt, dt);
    memo_.clear();
  }, kRolled);
}

// cumsum: one pass along each line of the axis, the running sum carried from one element to
// the next in a local (the loop IR's carried state); from the end when reversed (its adjoint).
void FunctionLowering::emitScan(NodeId n, int32_t out) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  NodeId x = node.operands[0];
  size_t axis = static_cast<size_t>(node.ints[0]);
  bool reverse = node.ints[1] != 0;
  Shape lines = node.type.shape;
  lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(axis));
  ExprId length = dimValue(node.type.shape[axis]);
  b_->loopNest(extentsOf(lines), [&](const std::vector<ExprId> &line) {
    int32_t sum = b_->let(registerTy(dt), konst(0.0, dt), "sum");
    b_->loop(f_->i64(0), length, [&](ExprId k) {
      std::vector<ExprId> idx = line;
      ExprId at = reverse ? f_->sub(f_->sub(length, f_->i64(1)), k) : k;
      idx.insert(idx.begin() + static_cast<std::ptrdiff_t>(axis), at);
      memo_.clear();
      b_->assign(sum, f_->add(f_->localRef(sum), convert(*f_, element(x, idx), g_.type(x).dtype, dt)));
      storeValue(out, linearIndex(node.type.shape, idx), f_->localRef(sum), dt, dt);
      memo_.clear();
    }, kRolled);
  }, kRolled);
}

void FunctionLowering::emitCopies() {
  for (size_t r : s_.copies) {
    NodeId id = plan_.roots[r];
    const Type &t = g_.type(id);
    DType to = outputDtype(r);
    int32_t out = argBuffer(plan_.outputArg[r], to);
    b_->loopNest(extentsOf(t.shape), [&](const std::vector<ExprId> &idx) {
      memo_.clear();
      storeValue(out, linearIndex(t.shape, idx), element(id, idx), t.dtype, to);
      memo_.clear();
    }, kRolled);
  }
}

} // namespace gradc::loops
