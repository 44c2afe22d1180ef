// LowerSteps.cpp: the steps of a schedule as loops (materialized tensors, riding sums,
// reductions, scatters), the entry checks and their failure path, the workspace layout, and
// the entry and chunk functions.
#include "loops/FunctionLowering.h"

#include "ir/OpTable.h"

#include <algorithm>
#include <limits>

namespace gradc::loops {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
} // namespace

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
  });
}

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
  if (gathers.empty()) {
    std::vector<ExprId> extents = extentsOf(node.type.shape);
    auto small = [&](ExprId e) { return f_->expr(e).op == Op::Int && f_->expr(e).i <= kTransposeBlock; };
    if (extents.size() >= 2 && readsAcrossRows(g_, s_, n) &&
        !(small(extents[extents.size() - 2]) && small(extents.back())))
      blockedNest(extents, body);
    else
      b_->loopNest(extents, body);
    return;
  }
  // Split the outer loop where every fused gather's slice is inside: there they read their
  // operand unconditionally, so the long middle part is branch-free and vectorizes.
  ExprId extent = dimValue(node.type.shape[0]);
  ExprId lo = f_->i64(0), hi = extent;
  for (NodeId gnode : gathers) {
    IndexAxis ax = decodeIndexSpec(g_.node(gnode).ints)[0];
    lo = f_->max(dimValue(ax.start), lo);
    hi = f_->min(dimValue(ax.stop), hi);
  }
  lo = keep(f_->min(lo, extent), "lo");
  hi = keep(f_->max(hi, lo), "hi");
  std::vector<ExprId> inner = extentsOf(Shape(node.type.shape.begin() + 1, node.type.shape.end()));
  std::vector<const SumRider *> riders;
  for (const SumRider &r : s_.riders)
    if (r.loop == n)
      riders.push_back(&r);
  std::vector<int32_t> sums = beginRiders(riders);
  auto part = [&](ExprId from, ExprId to) {
    b_->loop(from, to, [&](ExprId i) {
      b_->loopNest(inner, [&](const std::vector<ExprId> &rest) {
        std::vector<ExprId> idx{i};
        idx.insert(idx.end(), rest.begin(), rest.end());
        body(idx);
      });
      addRiders(riders, sums, i);
    });
  };
  part(f_->i64(0), lo);
  knownInside_ = gathers;
  part(lo, hi);
  knownInside_.clear();
  part(hi, extent);
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
    if (std::find(knownInside_.begin(), knownInside_.end(), r.gather) != knownInside_.end()) {
      add(); // the loop's middle part: start <= i < stop
      continue;
    }
    ExprId inside = f_->logic(Op::And, f_->compare(Op::Ge, i, start), f_->compare(Op::Lt, i, dimValue(ax.stop)));
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
    });
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
  });
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
  });
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
    });
  }
}

// Every dim argument in 0..2^56 (then no `dim + offset` below can wrap: offsets are at most
// 2^56 in magnitude, sema/ExprBuilder.cpp), every extent non-negative and every value's
// size in range (ir/Type.h).
ExprId FunctionLowering::sizesOk() {
  ExprId ok = f_->boolImm(true);
  auto both = [&](ExprId c) { ok = f_->logic(Op::And, ok, c); };
  for (size_t i = 0; i < plan_.abi.args.size(); ++i)
    if (plan_.abi.args[i].role == ArgRole::Dim)
      both(f_->compare(Op::Le, f_->cast(kU64, f_->arg(static_cast<int32_t>(i))),
                       f_->u64(static_cast<uint64_t>(kMaxElements))));
  for (const Dim &d : s_.extents)
    if (!d.isLiteral())
      both(f_->compare(Op::Ge, dimValue(d), f_->i64(0)));
  for (const Shape &shape : s_.shapes)
    both(shapeFits(*f_, g_, dims_, shape));
  return ok;
}

// After sizesOk: the workspace given when one is needed, every index and slice in range,
// every label of every pick a class.
ExprId FunctionLowering::boundsOk() {
  ExprId ok = f_->boolImm(true);
  auto both = [&](ExprId c) { ok = f_->logic(Op::And, ok, c); };
  ExprId zero = f_->i64(0);
  if (plan_.wsArg >= 0 && (plan_.tapeSlots > 0 || !s_.buffers.empty())) {
    ExprId layoutOk = kNone;
    ExprId bytes = layout(*f_, *b_, dims_, nullptr, &layoutOk);
    ExprId given = f_->logic(Op::Or, f_->compare(Op::Eq, bytes, f_->u64(0)),
                             f_->compare(Op::Ne, f_->cast(kU64, f_->arg(plan_.wsArg)), f_->u64(0)));
    both(f_->logic(Op::And, layoutOk, given));
  }
  for (NodeId n : s_.indexNodes) {
    const Node &node = g_.node(n);
    const Shape &full = node.op == IrOp::Index ? g_.type(node.operands[0]).shape : node.type.shape;
    std::vector<IndexAxis> axes = decodeIndexSpec(node.ints);
    for (size_t k = 0; k < axes.size(); ++k) {
      ExprId start = dimValue(axes[k].start);
      ExprId stop = axes[k].slice ? dimValue(axes[k].stop) : f_->add(start, f_->i64(1));
      both(f_->compare(Op::Ge, start, zero));
      both(f_->compare(Op::Le, stop, dimValue(full[k])));
      both(f_->compare(Op::Le, start, stop));
    }
  }
  // Every label of every pick is a valid class: one pass over the labels.
  for (NodeId n : s_.pickNodes) {
    const Node &node = g_.node(n);
    NodeId y = node.operands[1];
    ExprId classes = dimValue(g_.type(node.operands[0]).shape[1]);
    int32_t flag = b_->let(kBool, ok, "labels_ok");
    b_->loopNest(extentsOf(g_.type(y).shape), [&](const std::vector<ExprId> &i) {
      memo_.clear();
      ExprId label = convert(*f_, element(y, i), g_.type(y).dtype, DType::I64);
      ExprId good = f_->logic(Op::And, f_->compare(Op::Ge, label, zero), f_->compare(Op::Lt, label, classes));
      b_->assign(flag, f_->logic(Op::And, f_->localRef(flag), good));
      memo_.clear();
    });
    ok = f_->localRef(flag);
  }
  return ok;
}

void FunctionLowering::returnNaN() {
  const AbiFunction &abi = plan_.abi;
  b_->emit(abi.returnsValue ? f_->returnStmt(konst(kNaN, abi.returnType)) : f_->returnStmt());
}

// An index out of range: every output is NaN (docs/ABI.md), nothing is read.
void FunctionLowering::emitFailure() {
  for (size_t r = 0; r < plan_.roots.size(); ++r) {
    if (plan_.roots[r] == kNoNode || plan_.outputArg[r] < 0)
      continue;
    DType to = outputDtype(r);
    const Type &t = g_.type(plan_.roots[r]);
    int32_t out = argBuffer(plan_.outputArg[r], to);
    if (t.isScalar())
      storeValue(out, f_->i64(0), konst(kNaN, to), to, to);
    else
      fill(out, to, t.shape, konst(kNaN, to));
  }
  returnNaN();
}

// The entry function up to its body: arguments bound; sizes no array can have make the value
// NaN with nothing read or written; indices out of range make every output NaN.
void FunctionLowering::beginEntry(Func &f) {
  begin(f);
  inChunk_ = false;
  b_->when(f.logicalNot(sizesOk()), [&] { returnNaN(); });
  ExprId ok = boundsOk();
  b_->when(f.logicalNot(ok), [&] { emitFailure(); });
}

// The workspace: the tape (chunked code only), then one 64-byte aligned buffer per slot.
// Sizes are summed with overflow checks: `valid` is false when a buffer is too large or the
// sum wraps (f_workspace_size then returns SIZE_MAX and the entry functions fail).
ExprId FunctionLowering::layout(Func &f, Builder &, const std::vector<ExprId> &dims, std::vector<ExprId> *offsets,
                                ExprId *valid) const {
  ExprIndexMapper im(f, g_, dims);
  auto align = [&](ExprId v) { return alignToBuffer(f, v); };
  ExprId ok = f.boolImm(true);
  ExprId total = align(f.u64(plan_.tapeSlots * 8));
  for (NodeId n : s_.buffers) {
    if (offsets)
      offsets->push_back(total);
    const Type &t = g_.type(n);
    ExprId count = f.u64(static_cast<uint64_t>(kindBytes(memoryTy(t.dtype).kind)));
    for (const Dim &d : t.shape) {
      ExprId e = unwrap(im.dim(d));
      count = f.mul(count, f.cast(kU64, f.max(e, f.i64(0))));
    }
    ok = f.logic(Op::And, ok, shapeFits(f, g_, dims, t.shape));
    ExprId sum = f.add(total, align(count)); // at most 2^59 bytes: aligning cannot wrap, the sum can
    ok = f.logic(Op::And, ok, f.compare(Op::Ge, sum, total));
    total = sum;
  }
  if (valid)
    *valid = ok;
  return total;
}

void FunctionLowering::setupWorkspace(bool inChunk) {
  if (inChunk || s_.buffers.empty())
    return; // a chunk reads buffer addresses from the tape when first used
  std::vector<ExprId> offsets;
  layout(*f_, *b_, dims_, &offsets, nullptr);
  // Distinct slots never overlap (each has its own bytes; slots are shared only by nodes
  // whose lifetimes do not): a disjoint group, which lets the code generator tell LLVM. Not
  // for chunked code, or for very many slots.
  constexpr size_t kMaxDisjointSlots = 64;
  bool disjoint = !chunked() && s_.buffers.size() >= 2 && s_.buffers.size() <= kMaxDisjointSlots;
  for (size_t k = 0; k < s_.buffers.size(); ++k) {
    ExprId base = keep(f_->addr(ws_, f_->cast(kI64, offsets[k])), "w" + std::to_string(k) + "_at");
    slotBuffers_[k] = f_->viewBuffer(base, memoryTy(g_.type(s_.buffers[k]).dtype), "w" + std::to_string(k),
                                     disjoint ? 0 : -1);
    if (chunked())
      b_->store(tapeView(DType::I64), f_->i64(static_cast<int64_t>(k)), base);
  }
}

std::string FunctionLowering::chunkSymbol(size_t c) const {
  return plan_.abi.symbol + ".chunk" + std::to_string(c);
}

std::unique_ptr<Func> FunctionLowering::entry(bool externalChunks) {
  const AbiFunction &abi = plan_.abi;
  auto f = std::make_unique<Func>(abi.symbol, returnTy(abi), params());
  setCSignature(*f);
  beginEntry(*f);
  setupWorkspace(false);
  if (chunked()) {
    std::vector<ExprId> args;
    std::vector<Ty> types;
    for (int32_t k = 0; k < static_cast<int32_t>(f->params.size()); ++k) {
      args.push_back(f->arg(k));
      types.push_back(f->params[static_cast<size_t>(k)].type);
    }
    for (size_t c = 0; c < plan_.chunkCount(); ++c) {
      (void)externalChunks;
      int32_t callee = f->callee({chunkSymbol(c), kVoid, types});
      b_->emit(f->eval(f->call(callee, args)));
    }
  } else {
    for (NodeId step : s_.steps)
      emitStep(step);
  }
  emitCopies();
  for (size_t r = 1; r < plan_.roots.size(); ++r) {
    NodeId id = plan_.roots[r];
    if (id != kNoNode && g_.type(id).isScalar())
      storeValue(argBuffer(plan_.outputArg[r], outputDtype(r)), f->i64(0), scalarOf(id), g_.type(id).dtype,
                 outputDtype(r));
  }
  if (abi.returnsValue)
    b_->emit(f->returnStmt(convert(*f, scalarOf(plan_.roots[0]), g_.type(plan_.roots[0]).dtype, abi.returnType)));
  else
    b_->emit(f->returnStmt());
  f->body = b_->finish();
  return f;
}

std::unique_ptr<Func> FunctionLowering::chunk(size_t c, bool external) {
  auto f = std::make_unique<Func>(chunkSymbol(c), kVoid, params(), external ? Linkage::Export : Linkage::Internal);
  f->noinline = true;
  size_t first = c * plan_.opts.chunkSteps, end = std::min(s_.steps.size(), first + plan_.opts.chunkSteps);
  // A step of scalar code (a chain's) takes about 2.5 expressions and 1.5 statements.
  f->reserve((end - first) * 3, (end - first) * 2);
  begin(*f);
  inChunk_ = true;
  for (size_t k = first; k < end; ++k)
    emitStep(s_.steps[k]);
  b_->emit(f->returnStmt());
  f->body = b_->finish();
  inChunk_ = false;
  return f;
}

std::unique_ptr<Func> FunctionLowering::entryRunning(const FunctionPlan &other, size_t chunks, bool) {
  const AbiFunction &abi = plan_.abi;
  GRADC_ASSERT(abi.returnsValue && plan_.roots.size() == 1, "f's entry runs chunks only for a scalar f");
  auto f = std::make_unique<Func>(abi.symbol, returnTy(abi), params());
  setCSignature(*f);
  beginEntry(*f);
  // The chunks write f_grad's tape, which f's own plan (checked above) may not have: without
  // a workspace, NaN.
  if (other.tapeSlots > 0)
    b_->when(f->compare(Op::Eq, f->cast(kU64, f->arg(plan_.wsArg)), f->u64(0)), [&] { returnNaN(); });
  // f's arguments in f_grad's order: the same parameters, dims and workspace; no outputs.
  std::vector<ExprId> args;
  std::vector<Ty> types;
  for (const AbiArg &a : other.abi.args) {
    ExprId v = kNone;
    for (size_t i = 0; i < abi.args.size() && v == kNone; ++i)
      if (abi.args[i].role == a.role && abi.args[i].index == a.index &&
          (a.role == ArgRole::Param || a.role == ArgRole::Dim || a.role == ArgRole::Workspace))
        v = f->arg(static_cast<int32_t>(i));
    if (v == kNone)
      v = f->nullPtr();
    args.push_back(v);
    types.push_back(f->type(v));
  }
  FunctionLowering otherLowering(other);
  for (size_t c = 0; c < chunks; ++c)
    b_->emit(f->eval(f->call(f->callee({otherLowering.chunkSymbol(c), kVoid, types}), args)));
  NodeId value = other.roots[0];
  DType dt = g_.type(value).dtype;
  // The value from f_grad's tape (f's own plan has no tape: f_grad's slot, read directly).
  int64_t perSlot = dt == DType::Bool ? 1 : 8 / kindBytes(memoryTy(dt).kind);
  int32_t tape = f->viewBuffer(f->addr(ws_, f->i64(0)), dt == DType::Bool ? kI64 : memoryTy(dt), "grad_tape");
  ExprId v = f->load(tape, f->i64(other.tapeSlot[static_cast<size_t>(value)] * perSlot),
                     dt == DType::Bool ? kI64 : memoryTy(dt));
  if (dt == DType::Bool)
    v = f->compare(Op::Ne, v, f->i64(0));
  b_->emit(f->returnStmt(convert(*f, v, dt, abi.returnType)));
  f->body = b_->finish();
  return f;
}

} // namespace gradc::loops
