// LowerEntry.cpp: the entry checks and their failure path, the workspace layout, and the
// entry and chunk functions around the steps (LowerSteps.cpp).
#include "loops/FunctionLowering.h"

#include "ir/Function.h"
#include "loops/DerivedDims.h"

#include <algorithm>
#include <limits>

namespace gradc::loops {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
} // namespace

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
  both(derivedDimsOk(*f_, g_.dims(), dims_, neededDims()));
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
  // Every label of every pick is a valid class, every index of a gather or scatter_add
  // inside its axis: one pass over each index array and size (a gather and its adjoint's
  // scatter_add read the same array against the same axis: checked once).
  std::set<std::pair<NodeId, ExprId>> checked;
  for (NodeId n : s_.pickNodes) {
    const Node &node = g_.node(n);
    const Shape &indexed = node.op == IrOp::ScatterAdd ? node.type.shape : g_.type(node.operands[0]).shape;
    for (size_t k = 1; k < node.operands.size(); ++k) {
      NodeId y = indexArraySource(g_, node.operands[k]);
      size_t axis = node.op == IrOp::Pick ? 1 : static_cast<size_t>(node.ints[0]) + k - 1;
      ExprId classes = dimValue(indexed[axis]);
      if (!checked.insert({y, classes}).second)
        continue;
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
