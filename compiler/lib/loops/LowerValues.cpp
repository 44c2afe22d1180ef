// LowerValues.cpp: where a function's values come from (arguments, workspace buffers, the
// tape of long code) and how one element of a node is computed: the op table supplies each
// element's arithmetic (ElementFn) and each view's index map (IndexMapFn).
#include "loops/FunctionLowering.h"

#include "ir/OpTable.h"
#include "loops/DerivedDims.h"

#include <algorithm>

namespace gradc::loops {

Ty argTy(const AbiArg &a) {
  return a.role == ArgRole::Dim                      ? kI64
         : a.pointer || a.role == ArgRole::Workspace ? kPtr
                                                     : registerTy(a.dtype);
}

Ty returnTy(const AbiFunction &abi) { return abi.returnsValue ? registerTy(abi.returnType) : kVoid; }

std::vector<Param> FunctionLowering::params() const {
  std::vector<Param> out;
  for (const AbiArg &a : plan_.abi.args) {
    Ty t = argTy(a);
    // Outputs never overlap inputs or each other, and inputs are only read (ABI.md).
    out.push_back({a.name, t, t == kPtr && a.role != ArgRole::Workspace});
  }
  return out;
}

void FunctionLowering::setCSignature(Func &f) const {
  std::vector<std::string> types = plan_.abi.cTypes();
  f.cReturn = types[0];
  f.cParams.assign(types.begin() + 1, types.end());
}

void FunctionLowering::begin(Func &f) {
  f_ = &f;
  b_ = std::make_unique<Builder>(f);
  dims_.assign(g_.dims().names.size(), kNone);
  for (auto [sym, v] : plan_.in.boundDims)
    dims_[static_cast<size_t>(sym)] = f.i64(v);
  for (size_t i = 0; i < plan_.abi.args.size(); ++i)
    if (plan_.abi.args[i].role == ArgRole::Dim)
      dims_[static_cast<size_t>(plan_.abi.args[i].index)] = f.arg(static_cast<int32_t>(i));
  deriveDims(f, g_.dims(), dims_, neededDims());
  // Forget the previous function's values. Only what it set is reset, so that lowering many
  // chunks costs time linear in the program, not chunks x nodes.
  if (scalars_.size() != g_.size())
    scalars_.assign(g_.size(), kNone);
  for (NodeId n : setScalars_)
    scalars_[static_cast<size_t>(n)] = kNone;
  setScalars_.clear();
  slotBuffers_.assign(s_.buffers.size(), kNone);
  argBuffers_.clear();
  tapeViews_.clear();
  memo_.clear();
  knownInside_.clear();
  part_ = {};
  ws_ = plan_.wsArg >= 0 ? f.argBuffer(plan_.wsArg, kI8, "ws") : kNone;
  argBuffers_[plan_.wsArg] = ws_;
  // Every array argument's buffer now, in the arguments' order: made at first use instead,
  // their order would follow which of two uses in one call's arguments the C++ compiler
  // that built gradc evaluates first.
  for (size_t i = 0; i < plan_.abi.args.size(); ++i)
    if (plan_.abi.args[i].pointer && plan_.abi.args[i].role != ArgRole::Workspace)
      argBuffer(static_cast<int>(i), plan_.abi.args[i].dtype);
}

// The dims this plan's roots mention, found once (begin() runs once per chunk).
const std::vector<int32_t> &FunctionLowering::neededDims() {
  if (!neededDims_)
    neededDims_ = mentionedDims(g_, plan_.roots);
  return *neededDims_;
}

ExprId FunctionLowering::dimValue(const Dim &d) {
  if (d.isLiteral())
    return f_->i64(d.off);
  return f_->add(dims_[static_cast<size_t>(d.sym)], f_->i64(d.off));
}

std::vector<ExprId> FunctionLowering::extentsOf(const Shape &shape) {
  std::vector<ExprId> e;
  for (const Dim &d : shape)
    e.push_back(dimValue(d));
  return e;
}

int32_t FunctionLowering::argBuffer(int arg, DType dt) {
  auto it = argBuffers_.find(arg);
  if (it != argBuffers_.end())
    return it->second;
  int32_t b = f_->argBuffer(arg, memoryTy(dt), plan_.abi.args[static_cast<size_t>(arg)].name);
  argBuffers_[arg] = b;
  return b;
}

// The tape as an array of `dt` (8-byte slots: slot k of an f32 is element 2k).
int32_t FunctionLowering::tapeView(DType dt) {
  auto it = tapeViews_.find(dt);
  if (it != tapeViews_.end())
    return it->second;
  int32_t b = f_->viewBuffer(f_->addr(ws_, f_->i64(0)), dt == DType::Bool ? kI64 : memoryTy(dt),
                             std::string("tape_") + dtypeName(dt));
  tapeViews_[dt] = b;
  return b;
}

ExprId FunctionLowering::keep(ExprId v, const std::string &name) {
  const Expr &x = f_->expr(v);
  if (x.op == Op::Int || x.op == Op::Float || x.op == Op::Arg || x.op == Op::Local)
    return v;
  return f_->localRef(b_->let(f_->type(v), v, name));
}

// --- values ---

int32_t FunctionLowering::bufferOf(NodeId n) {
  while (s_.storage[static_cast<size_t>(n)] == Storage::Alias)
    n = s_.slot[static_cast<size_t>(n)];
  size_t i = static_cast<size_t>(n);
  DType dt = g_.type(n).dtype;
  switch (s_.storage[i]) {
  case Storage::Param:
    return argBuffer(plan_.paramArg[static_cast<size_t>(g_.node(n).ints[0])], dt);
  case Storage::Output:
    return argBuffer(plan_.outputArg[static_cast<size_t>(s_.slot[i])], dt);
  case Storage::Workspace: {
    size_t k = static_cast<size_t>(s_.slot[i]);
    if (slotBuffers_[k] == kNone) { // in a chunk: its address, from the tape, read once
      GRADC_ASSERT(inChunk_, "workspace buffer used before the layout is computed");
      int32_t addrs = tapeView(DType::I64);
      ExprId base = f_->localRef(f_->local(kPtr, "slot" + std::to_string(k)));
      int32_t l = f_->expr(base).ref;
      b_->prologue(f_->let(l, f_->load(addrs, f_->i64(static_cast<int64_t>(k)), kPtr)));
      slotBuffers_[k] = f_->viewBuffer(base, memoryTy(dt), "w" + std::to_string(k));
    }
    return slotBuffers_[k];
  }
  default:
    internalError("node %" + std::to_string(n) + " has no buffer");
  }
}

ExprId FunctionLowering::linearIndex(const Shape &shape, const std::vector<ExprId> &idx) {
  GRADC_ASSERT(idx.size() == shape.size(), "index rank mismatch");
  ExprId lin = f_->i64(0);
  for (size_t k = 0; k < shape.size(); ++k)
    lin = k == 0 ? idx[0] : f_->add(f_->mul(lin, dimValue(shape[k])), idx[k]);
  return lin;
}

ExprId FunctionLowering::loadElement(NodeId n, const std::vector<ExprId> &idx) {
  const Type &t = g_.type(n);
  ExprId v = f_->load(bufferOf(n), linearIndex(t.shape, idx), memoryTy(t.dtype));
  return t.dtype == DType::Bool ? f_->compare(Op::Ne, v, f_->intImm(kI8, 0)) : v;
}

void FunctionLowering::storeValue(int32_t buffer, ExprId index, ExprId v, DType from, DType to) {
  v = convert(*f_, v, from, to);
  if (to == DType::Bool)
    v = f_->cast(kI8, v);
  b_->store(buffer, index, v);
}

ExprId FunctionLowering::readTape(int32_t slot, DType dt) {
  int32_t tape = tapeView(dt);
  if (dt == DType::Bool) // a mask is stored as an i64
    return f_->compare(Op::Ne, f_->load(tape, f_->i64(slot), kI64), f_->i64(0));
  int64_t perSlot = 8 / kindBytes(memoryTy(dt).kind);
  return f_->load(tape, f_->i64(slot * perSlot), memoryTy(dt));
}

ExprId FunctionLowering::scalarOf(NodeId n) {
  size_t i = static_cast<size_t>(n);
  const Node &node = g_.node(n);
  if (node.op == IrOp::Const)
    return konst(node.num, node.type.dtype);
  if (node.op == IrOp::Param)
    return f_->arg(plan_.paramArg[static_cast<size_t>(node.ints[0])]);
  if (scalars_[i] == kNone) {
    // Computed in another chunk: read from the tape, once in a chunk (its prologue), where it
    // is used in the entry function.
    GRADC_ASSERT(chunked() && plan_.tapeSlot[i] >= 0, "scalar %" + std::to_string(n) + " used before it is computed");
    ExprId v = readTape(plan_.tapeSlot[i], node.type.dtype);
    if (!inChunk_)
      return v;
    int32_t l = f_->local(f_->type(v), "tape" + std::to_string(n));
    b_->prologue(f_->let(l, v));
    scalars_[i] = f_->localRef(l);
    setScalars_.push_back(n);
  }
  return scalars_[i];
}

ExprId FunctionLowering::element(NodeId n, const std::vector<ExprId> &idx) {
  size_t i = static_cast<size_t>(n);
  const Type &t = g_.type(n);
  if (t.isScalar())
    return scalarOf(n);
  switch (s_.storage[i]) {
  case Storage::Param:
  case Storage::Output:
  case Storage::Workspace:
  case Storage::Alias:
    return loadElement(n, idx);
  default:
    break;
  }
  auto key = std::make_pair(n, idx);
  auto it = memo_.find(key);
  if (it != memo_.end())
    return it->second;
  ExprId v = compute(n, idx);
  memo_.emplace(std::move(key), v);
  return v;
}

ExprId FunctionLowering::compute(NodeId n, const std::vector<ExprId> &idx) {
  const Node &node = g_.node(n);
  const OpInfo &info = opInfo(node.op);
  switch (info.loop) {
  case LoopKind::Leaf:
    if (node.op == IrOp::Const)
      return konst(node.num, node.type.dtype);
    if (node.op == IrOp::DimValue)
      return f_->cast(registerTy(node.type.dtype), dimValue(Dim{static_cast<int32_t>(node.ints[0]), 0}));
    break;
  case LoopKind::Elementwise: {
    DType ct = elementComputeDtype(g_, node);
    Val in[3]; // elementwise ops have at most three operands (where)
    GRADC_ASSERT(node.operands.size() <= 3, "an elementwise op with more than three operands");
    for (size_t k = 0; k < node.operands.size(); ++k) {
      NodeId o = node.operands[k];
      DType want = node.op == IrOp::Where && k == 0 ? DType::Bool : ct;
      in[k] = wrap(convert(*f_, element(o, idx), g_.type(o).dtype, want));
    }
    ExprElementBuilder eb(*f_, ct);
    return unwrap(info.element(eb, std::span<Val const>(in, node.operands.size())));
  }
  case LoopKind::View: {
    ExprIndexMapper im(*f_, g_, dims_);
    std::vector<Val> from;
    info.indexMap(im, node, wrapAll(idx), from);
    std::vector<ExprId> at;
    for (Val v : from)
      at.push_back(unwrap(v));
    return element(node.operands[0], at);
  }
  case LoopKind::Scatter:
    return gatherElement(n, idx);
  case LoopKind::Iota:
    return convert(*f_, idx[static_cast<size_t>(node.ints[0])], DType::I64, node.type.dtype);
  case LoopKind::Gather: { // the indices were checked on entry
    if (node.op == IrOp::Gather) {
      NodeId x = node.operands[0];
      return convert(*f_, element(x, gatheredFrom(n, idx)), g_.type(x).dtype, node.type.dtype);
    }
    // pick: s[i, y[i]]
    NodeId y = node.operands[1];
    ExprId label = convert(*f_, element(y, {idx[0]}), g_.type(y).dtype, DType::I64);
    NodeId sc = node.operands[0];
    return convert(*f_, element(sc, {idx[0], label}), g_.type(sc).dtype, node.type.dtype);
  }
  case LoopKind::Reshape: {
    NodeId o = node.operands[0];
    if (g_.type(o).isScalar())
      return element(o, {});
    // A reshape reads its operand's buffer at the same linear position.
    ExprId v = f_->load(bufferOf(o), linearIndex(node.type.shape, idx), memoryTy(node.type.dtype));
    return node.type.dtype == DType::Bool ? f_->compare(Op::Ne, v, f_->intImm(kI8, 0)) : v;
  }
  default:
    break;
  }
  internalError(std::string("cannot compute '") + info.name + "' element by element");
}

// For gather (and scatter_add) from axis a with index arrays y1..ym [S...]: the element of the
// indexed operand [pre..., N1..Nm, post...] that element idx = (pre..., s..., post...) of the
// gathered shape reads, (pre..., y1[s...], ..., ym[s...], post...).
std::vector<ExprId> FunctionLowering::gatheredFrom(NodeId n, const std::vector<ExprId> &idx) {
  const Node &node = g_.node(n);
  auto axis = static_cast<std::ptrdiff_t>(node.ints[0]);
  auto rank = static_cast<std::ptrdiff_t>(g_.type(node.operands[1]).shape.size());
  std::vector<ExprId> at(idx.begin(), idx.begin() + axis);
  std::vector<ExprId> s(idx.begin() + axis, idx.begin() + axis + rank);
  for (size_t k = 1; k < node.operands.size(); ++k) {
    NodeId y = node.operands[k];
    at.push_back(convert(*f_, element(y, s), g_.type(y).dtype, DType::I64));
  }
  at.insert(at.end(), idx.begin() + axis + rank, idx.end());
  return at;
}

// index_grad in gather form (each element of the adjoint reads what it sums): element I is the
// operand's element I - start inside the selected region and 0 outside. The operand is
// read under a condition, so nothing outside its range is touched; LLVM vectorizes the
// branch with masked loads or splits the loop at the region's bounds.
ExprId FunctionLowering::gatherElement(NodeId n, const std::vector<ExprId> &idx) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  ExprId inside = f_->boolImm(true);
  std::vector<ExprId> src;
  std::vector<IndexAxis> axes = decodeIndexSpec(node.ints);
  bool outerKnown = knownInside(n, idx[0]) ||
                    (axes[0].slice && provably(true, idx[0], dimValue(axes[0].start), dimValue(axes[0].stop)));
  if (axes[0].slice && provably(false, idx[0], dimValue(axes[0].start), dimValue(axes[0].stop)))
    return konst(0.0, dt);
  for (size_t k = 0; k < axes.size(); ++k) {
    ExprId start = dimValue(axes[k].start);
    if (k == 0 && outerKnown) {
      src.push_back(f_->sub(idx[k], start));
      continue;
    }
    if (!axes[k].slice) {
      inside = f_->logic(Op::And, inside, f_->compare(Op::Eq, idx[k], start));
      continue;
    }
    inside = f_->logic(Op::And, inside, f_->compare(Op::Ge, idx[k], start));
    inside = f_->logic(Op::And, inside, f_->compare(Op::Lt, idx[k], dimValue(axes[k].stop)));
    src.push_back(f_->sub(idx[k], start));
  }
  NodeId a = node.operands[0];
  if (f_->expr(inside).op == Op::Int) { // known at compile time (a constant index)
    if (f_->expr(inside).i == 0)
      return konst(0.0, dt);
    return convert(*f_, element(a, src), g_.type(a).dtype, dt);
  }
  int32_t l = f_->local(registerTy(dt), "gather" + std::to_string(n));
  b_->emit(f_->let(l, konst(0.0, dt)));
  // What is computed under the condition is not available after it.
  auto saved = memo_;
  b_->when(inside, [&] { b_->assign(l, convert(*f_, element(a, src), g_.type(a).dtype, dt)); });
  memo_ = std::move(saved);
  return f_->localRef(l);
}

} // namespace gradc::loops
