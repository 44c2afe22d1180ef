// Lowering.cpp: emits the LLVM functions of one exported C function from its schedule.
// Scalars are SSA values, tensors loops over row-major buffers; the op table supplies
// each element's arithmetic (ElementFn) and each view's index map (IndexMapFn).
#include "backend/Lowering.h"

#include "backend/FunctionEmitter.h"
#include "backend/LlvmElementBuilder.h"
#include "backend/LlvmTypes.h"
#include "backend/LoopNest.h"
#include "ir/OpTable.h"

#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Operator.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <limits>

namespace gradc {

namespace lowering {

FunctionPlan::FunctionPlan(const LoweringInput &in, const AbiFunction &abi, std::vector<NodeId> roots,
                           const LoweringOptions &opts)
    : in(in), abi(abi), roots(std::move(roots)), opts(opts) {
  std::vector<DType> rootTypes;
  for (size_t r = 0; r < this->roots.size(); ++r)
    rootTypes.push_back(outputDtype(r));
  s = scheduleFunction(*in.graph, this->roots, rootTypes);
  ArgumentMap m = mapArguments(abi, in.fn->params.size(), this->roots.size());
  paramArg = std::move(m.paramArg);
  outputArg = std::move(m.outputArg);
  wsArg = m.wsArg;
  assignTape();
}

size_t FunctionPlan::valueStep() const {
  auto at = std::find(s.steps.begin(), s.steps.end(), roots[0]);
  return at == s.steps.end() ? std::string::npos : static_cast<size_t>(at - s.steps.begin());
}

size_t FunctionPlan::valueChunks() const {
  const Graph &g = *in.graph;
  NodeId v = roots.empty() ? kNoNode : roots[0];
  if (!chunked() || v == kNoNode || !g.type(v).isScalar() || !s.buffers.empty() ||
      s.storage[static_cast<size_t>(v)] != Storage::Scalar || tapeSlot[static_cast<size_t>(v)] < 0)
    return 0;
  size_t k = valueStep();
  if (k == std::string::npos)
    return 0;
  size_t chunks = k / opts.chunkSteps + 1;
  const int32_t dOut = static_cast<int32_t>(in.fn->params.size());
  std::vector<NodeId> stack;
  for (size_t j = 0; j < std::min(s.steps.size(), chunks * opts.chunkSteps); ++j) {
    NodeId step = s.steps[j];
    NodeId target = step;
    while (s.storage[static_cast<size_t>(target)] == Storage::Alias)
      target = s.slot[static_cast<size_t>(target)];
    if (s.storage[static_cast<size_t>(target)] == Storage::Output || s.rowSweepOf(step))
      return 0;
    bool readsOutput = false;
    forEachRead(g, s, step, false, stack, [&](NodeId x) {
      Storage st = s.storage[static_cast<size_t>(x)];
      readsOutput |= st == Storage::Output ||
                     (st == Storage::Param && g.node(x).op == Op::Param && g.node(x).ints[0] == dOut);
    });
    if (readsOutput)
      return 0;
  }
  return chunks;
}

DType FunctionPlan::outputDtype(size_t root) const {
  if (root == 0)
    return abi.returnType;
  return in.fn->params[root - 1].type.dtype;
}

llvm::FunctionType *FunctionEmitter::functionType() {
  std::vector<llvm::Type *> args;
  for (const AbiArg &a : abi_.args) {
    if (a.pointer || a.role == ArgRole::Workspace)
      args.push_back(b_.getPtrTy());
    else if (a.role == ArgRole::Dim)
      args.push_back(b_.getInt64Ty());
    else
      args.push_back(llvmType(ctx_, a.dtype));
  }
  llvm::Type *ret = abi_.returnsValue ? llvmType(ctx_, abi_.returnType) : b_.getVoidTy();
  if (abi_.returnsValue && abi_.returnType == DType::Bool)
    ret = b_.getInt8Ty();
  return llvm::FunctionType::get(ret, args, false);
}

void FunctionEmitter::bindArguments(llvm::Function *f) {
  fn_ = f;
  dims_.assign(g_.dims().names.size(), nullptr);
  for (auto [sym, v] : in_.boundDims)
    dims_[static_cast<size_t>(sym)] = b_.getInt64(static_cast<uint64_t>(v));
  for (size_t i = 0; i < abi_.args.size(); ++i) {
    const AbiArg &a = abi_.args[i];
    llvm::Argument *arg = f->getArg(static_cast<unsigned>(i));
    arg->setName(a.name);
    if (a.role == ArgRole::Dim)
      dims_[static_cast<size_t>(a.index)] = arg;
    if (arg->getType()->isPointerTy() && a.role != ArgRole::Workspace)
      arg->addAttr(llvm::Attribute::NoAlias);
  }
  // Forget the previous function's values. Only what it set is reset, so that emitting
  // many chunks costs time linear in the program, not chunks x nodes.
  if (scalars_.size() != g_.size())
    scalars_.assign(g_.size(), nullptr);
  for (NodeId n : setScalars_)
    scalars_[static_cast<size_t>(n)] = nullptr;
  setScalars_.clear();
  if (buffers_.size() != s_.buffers.size())
    buffers_.assign(s_.buffers.size(), nullptr);
  for (size_t k : setBuffers_)
    buffers_[k] = nullptr;
  setBuffers_.clear();
  memo_.clear();
}

std::vector<LVal> FunctionEmitter::extentsOf(const Shape &shape) {
  std::vector<LVal> e;
  for (const Dim &d : shape)
    e.push_back(dimValue(d));
  return e;
}

LVal FunctionEmitter::konst(double v, DType t) {
  LlvmElementBuilder eb(b_, *m_, t);
  return unwrap(eb.konst(v));
}

// --- values ---

LVal FunctionEmitter::basePointer(NodeId n) {
  while (s_.storage[static_cast<size_t>(n)] == Storage::Alias)
    n = s_.slot[static_cast<size_t>(n)];
  size_t i = static_cast<size_t>(n);
  switch (s_.storage[i]) {
  case Storage::Param:
    return fn_->getArg(static_cast<unsigned>(paramArg_[static_cast<size_t>(g_.node(n).ints[0])]));
  case Storage::Output:
    return fn_->getArg(static_cast<unsigned>(outputArg_[static_cast<size_t>(s_.slot[i])]));
  case Storage::Workspace: {
    size_t k = static_cast<size_t>(s_.slot[i]);
    if (!buffers_[k]) { // in a chunk: its address, from the tape, read once in the entry block
      GRADC_ASSERT(tapeEntry_, "workspace buffer used before the layout is computed");
      llvm::IRBuilder<> at(tapeEntry_->getTerminator());
      buffers_[k] = at.CreateAlignedLoad(at.getPtrTy(), at.CreateConstInBoundsGEP1_64(at.getPtrTy(), tape_, k),
                                         llvm::Align(8));
      setBuffers_.push_back(k);
    }
    return buffers_[k];
  }
  default:
    internalError("node %" + std::to_string(n) + " has no buffer");
  }
}

LVal FunctionEmitter::elementPointer(LVal base, DType dtype, const Shape &shape,
                                    const std::vector<LVal> &idx) {
  GRADC_ASSERT(idx.size() == shape.size(), "index rank mismatch");
  LVal lin = b_.getInt64(0);
  for (size_t k = 0; k < shape.size(); ++k) {
    lin = k == 0 ? idx[0] : b_.CreateAdd(b_.CreateMul(lin, dimValue(shape[k]), "", true, true),
                                         idx[k], "", true, true);
  }
  return b_.CreateInBoundsGEP(memoryType(ctx_, dtype), base, lin);
}

LVal FunctionEmitter::loadElement(NodeId n, const std::vector<LVal> &idx) {
  const Type &t = g_.type(n);
  LVal p = elementPointer(basePointer(n), t.dtype, t.shape, idx);
  LVal v = b_.CreateAlignedLoad(memoryType(ctx_, t.dtype), p,
                               llvm::Align(static_cast<uint64_t>(byteSize(t.dtype))));
  return t.dtype == DType::Bool ? b_.CreateICmpNE(v, b_.getInt8(0)) : v;
}

void FunctionEmitter::storeValue(LVal ptr, LVal v, DType from, DType to) {
  v = convertValue(b_, v, from, to);
  if (to == DType::Bool)
    v = b_.CreateZExt(v, b_.getInt8Ty());
  b_.CreateAlignedStore(v, ptr, llvm::Align(static_cast<uint64_t>(byteSize(to))));
}

// A scalar from tape slot `slot` (8 bytes each; a mask is stored as an i64).
LVal FunctionEmitter::readTape(llvm::IRBuilderBase &at, LVal tape, int32_t slot, DType dt) {
  bool mask = dt == DType::Bool;
  LVal p = at.CreateConstInBoundsGEP1_64(at.getInt64Ty(), tape, static_cast<uint64_t>(slot));
  LVal v = at.CreateAlignedLoad(llvmType(ctx_, mask ? DType::I64 : dt), p, llvm::Align(8));
  return mask ? at.CreateICmpNE(v, at.getInt64(0)) : v;
}

LVal FunctionEmitter::scalarOf(NodeId n) {
  size_t i = static_cast<size_t>(n);
  const Node &node = g_.node(n);
  if (node.op == Op::Const)
    return konst(node.num, node.type.dtype);
  if (node.op == Op::Param)
    return fn_->getArg(static_cast<unsigned>(paramArg_[static_cast<size_t>(node.ints[0])]));
  if (!scalars_[i]) {
    // Computed in another chunk: read it from the tape. In a chunk the read is hoisted to
    // the entry block and reused; in the main function it is read where it is used.
    GRADC_ASSERT(chunked() && tapeSlot_[i] >= 0,
                 "scalar %" + std::to_string(n) + " used before it is computed");
    llvm::IRBuilder<> at(ctx_);
    if (tapeEntry_)
      at.SetInsertPoint(tapeEntry_->getTerminator());
    else
      at.SetInsertPoint(b_.GetInsertBlock(), b_.GetInsertPoint());
    LVal v = readTape(at, tape_, tapeSlot_[i], node.type.dtype);
    if (!tapeEntry_)
      return v;
    scalars_[i] = v;
    setScalars_.push_back(n);
  }
  return scalars_[i];
}

LVal FunctionEmitter::element(NodeId n, const std::vector<LVal> &idx) {
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
  LVal v = compute(n, idx);
  memo_.emplace(std::move(key), v);
  return v;
}

LVal FunctionEmitter::compute(NodeId n, const std::vector<LVal> &idx) {
  const Node &node = g_.node(n);
  const OpInfo &info = opInfo(node.op);
  switch (info.loop) {
  case LoopKind::Leaf:
    if (node.op == Op::Const)
      return konst(node.num, node.type.dtype);
    if (node.op == Op::DimValue)
      return b_.CreateSIToFP(dimValue(Dim{static_cast<int32_t>(node.ints[0]), 0}), llvmType(ctx_, node.type.dtype));
    break;
  case LoopKind::Elementwise: {
    DType ct = elementComputeDtype(g_, node);
    Val in[3]; // elementwise ops have at most three operands (where)
    GRADC_ASSERT(node.operands.size() <= 3, "an elementwise op with more than three operands");
    for (size_t k = 0; k < node.operands.size(); ++k) {
      NodeId o = node.operands[k];
      DType want = node.op == Op::Where && k == 0 ? DType::Bool : ct;
      in[k] = wrap(convertValue(b_, element(o, idx), g_.type(o).dtype, want));
    }
    LlvmElementBuilder eb(b_, *m_, ct);
    return unwrap(info.element(eb, std::span<Val const>(in, node.operands.size())));
  }
  case LoopKind::View: {
    LlvmIndexMapper im(b_, g_, dims_);
    std::vector<Val> from;
    info.indexMap(im, node, wrapAll(idx), from);
    std::vector<LVal> at;
    for (Val v : from)
      at.push_back(unwrap(v));
    return element(node.operands[0], at);
  }
  case LoopKind::Scatter:
    return gatherElement(n, idx);
  case LoopKind::Iota:
    return convertValue(b_, idx[static_cast<size_t>(node.ints[0])], DType::I64, node.type.dtype);
  case LoopKind::Gather: { // s[i, y[i]]; the labels were checked on entry
    NodeId y = node.operands[1];
    LVal label = convertValue(b_, element(y, {idx[0]}), g_.type(y).dtype, DType::I64);
    NodeId sc = node.operands[0];
    return convertValue(b_, element(sc, {idx[0], label}), g_.type(sc).dtype, node.type.dtype);
  }
  case LoopKind::Reshape: {
    NodeId o = node.operands[0];
    if (g_.type(o).isScalar())
      return element(o, {});
    // A reshape reads its operand's buffer at the same linear position.
    LVal p = elementPointer(basePointer(o), node.type.dtype, node.type.shape, idx);
    LVal v = b_.CreateAlignedLoad(memoryType(ctx_, node.type.dtype), p,
                                 llvm::Align(static_cast<uint64_t>(byteSize(node.type.dtype))));
    return node.type.dtype == DType::Bool ? b_.CreateICmpNE(v, b_.getInt8(0)) : v;
  }
  default:
    break;
  }
  internalError(std::string("cannot compute '") + info.name + "' element by element");
}

// index_grad in gather form (DESIGN.md: "Adjoints in gather form"): element I is the
// operand's element I - start inside the selected region and 0 outside. The operand is
// read under a branch, so nothing outside its range is touched; LLVM vectorizes the
// branch with masked loads or splits the loop at the region's bounds.
LVal FunctionEmitter::gatherElement(NodeId n, const std::vector<LVal> &idx) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  LVal inside = b_.getTrue();
  std::vector<LVal> src;
  std::vector<IndexAxis> axes = decodeIndexSpec(node.ints);
  bool outerKnown = std::find(knownInside_.begin(), knownInside_.end(), n) != knownInside_.end();
  for (size_t k = 0; k < axes.size(); ++k) {
    LVal start = dimValue(axes[k].start);
    if (k == 0 && outerKnown) {
      src.push_back(b_.CreateSub(idx[k], start, "", true, true));
      continue;
    }
    if (!axes[k].slice) {
      inside = b_.CreateAnd(inside, b_.CreateICmpEQ(idx[k], start));
      continue;
    }
    inside = b_.CreateAnd(inside, b_.CreateICmpSGE(idx[k], start));
    inside = b_.CreateAnd(inside, b_.CreateICmpSLT(idx[k], dimValue(axes[k].stop)));
    src.push_back(b_.CreateSub(idx[k], start, "", true, true));
  }
  NodeId a = node.operands[0];
  if (inside == b_.getTrue()) // inside on every axis: read without a branch
    return convertValue(b_, element(a, src), g_.type(a).dtype, dt);
  llvm::BasicBlock *pre = b_.GetInsertBlock();
  llvm::Function *f = pre->getParent();
  llvm::BasicBlock *read = llvm::BasicBlock::Create(ctx_, "gather", f);
  llvm::BasicBlock *merge = llvm::BasicBlock::Create(ctx_, "gather.end", f);
  b_.CreateCondBr(inside, read, merge);
  b_.SetInsertPoint(read);
  // What is computed under the branch is not available after it.
  auto saved = memo_;
  LVal v = convertValue(b_, element(a, src), g_.type(a).dtype, dt);
  memo_ = std::move(saved);
  llvm::BasicBlock *readEnd = b_.GetInsertBlock();
  b_.CreateBr(merge);
  b_.SetInsertPoint(merge);
  llvm::PHINode *phi = b_.CreatePHI(llvmType(ctx_, dt), 2);
  phi->addIncoming(v, readEnd);
  phi->addIncoming(konst(0.0, dt), pre);
  return phi;
}

// --- steps ---

void FunctionEmitter::emitStep(NodeId n) {
  memo_.clear();
  if (const RowSweep *sw = s_.rowSweepOf(n)) {
    if (n == sw->matvec) // a row sweep's other steps are emitted with its matvec
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

void FunctionEmitter::emitScalar(NodeId n) {
  const Node &node = g_.node(n);
  LVal v;
  switch (opInfo(node.op).loop) {
  case LoopKind::Reduce:
    v = emitReduce(n, nullptr);
    break;
  case LoopKind::MatMul:
    v = emitMatMul(n, nullptr);
    break;
  default:
    v = compute(n, {});
  }
  storeScalar(n, v);
}

// A scalar step's value: kept for its readers in this function, and on the tape for other
// chunks' readers.
void FunctionEmitter::storeScalar(NodeId n, LVal v) {
  scalars_[static_cast<size_t>(n)] = v;
  setScalars_.push_back(n);
  if (chunked() && tapeSlot_[static_cast<size_t>(n)] >= 0) {
    LVal p = b_.CreateConstInBoundsGEP1_64(b_.getInt64Ty(), tape_,
                                          static_cast<uint64_t>(tapeSlot_[static_cast<size_t>(n)]));
    LVal stored = g_.type(n).dtype == DType::Bool ? b_.CreateZExt(v, b_.getInt64Ty()) : v;
    b_.CreateAlignedStore(stored, p, llvm::Align(8));
  }
}

void FunctionEmitter::fill(LVal base, DType dtype, const Shape &shape, LVal v) {
  LoopNest::forEach(b_, extentsOf(shape), [&](const std::vector<LVal> &idx) {
    storeValue(elementPointer(base, dtype, shape, idx), v, dtype, dtype);
  });
}

void FunctionEmitter::emitMaterialize(NodeId n) {
  const Node &node = g_.node(n);
  LVal out = basePointer(n);
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
  auto body = [&](const std::vector<LVal> &idx) {
    memo_.clear();
    LVal v = compute(n, idx);
    storeValue(elementPointer(out, node.type.dtype, node.type.shape, idx), v, node.type.dtype,
               node.type.dtype);
    memo_.clear();
  };
  std::vector<NodeId> gathers = fusedGathers(g_, s_, n);
  if (gathers.empty()) {
    LoopNest::forEach(b_, extentsOf(node.type.shape), body);
    return;
  }
  // Split the outer loop where every fused gather's slice is inside: there they read
  // their operand unconditionally, so the long middle part is branch-free and vectorizes.
  LVal extent = dimValue(node.type.shape[0]);
  LVal lo = b_.getInt64(0), hi = extent;
  for (NodeId gnode : gathers) {
    IndexAxis ax = decodeIndexSpec(g_.node(gnode).ints)[0];
    LVal start = dimValue(ax.start), stop = dimValue(ax.stop);
    lo = b_.CreateSelect(b_.CreateICmpSGT(start, lo), start, lo);
    hi = b_.CreateSelect(b_.CreateICmpSLT(stop, hi), stop, hi);
  }
  lo = b_.CreateSelect(b_.CreateICmpSLT(lo, extent), lo, extent);
  hi = b_.CreateSelect(b_.CreateICmpSGT(hi, lo), hi, lo);
  std::vector<LVal> inner = extentsOf(Shape(node.type.shape.begin() + 1, node.type.shape.end()));
  std::vector<const SumRider *> riders;
  for (const SumRider &r : s_.riders)
    if (r.loop == n)
      riders.push_back(&r);
  std::vector<LVal> sums = beginRiders(riders);
  auto bodyWithRiders = [&](const std::vector<LVal> &idx) {
    body(idx);
    addRiders(riders, sums, idx[0]);
  };
  LoopNest::forRange(b_, b_.getInt64(0), lo, inner, bodyWithRiders);
  knownInside_ = gathers;
  LoopNest::forRange(b_, lo, hi, inner, bodyWithRiders);
  knownInside_.clear();
  LoopNest::forRange(b_, hi, extent, inner, bodyWithRiders);
  endRiders(riders, sums);
}

// Sums riding on a loop (Schedule.h's SumRider): an accumulator each, in a register after
// LLVM's promotion; the loop adds the element its gather aligns with at index i.
std::vector<LVal> FunctionEmitter::beginRiders(const std::vector<const SumRider *> &riders) {
  std::vector<LVal> sums;
  for (const SumRider *r : riders) {
    DType dt = g_.type(r->sum).dtype;
    LVal acc = LoopNest::entryAlloca(b_, llvmType(ctx_, dt));
    b_.CreateStore(konst(opInfo(Op::Sum).reduceInit, dt), acc);
    sums.push_back(acc);
  }
  return sums;
}

void FunctionEmitter::addRiders(const std::vector<const SumRider *> &riders, const std::vector<LVal> &sums,
                                LVal i) {
  for (size_t k = 0; k < riders.size(); ++k) {
    const SumRider &r = *riders[k];
    NodeId e = g_.node(r.sum).operands[0];
    DType dt = g_.type(r.sum).dtype;
    IndexAxis ax = decodeIndexSpec(g_.node(r.gather).ints)[0];
    LVal start = dimValue(ax.start);
    LVal t = b_.CreateSub(i, start, "", true, true);
    auto add = [&] {
      memo_.clear();
      LlvmElementBuilder eb(b_, *m_, dt);
      LVal v = convertValue(b_, element(e, {t}), g_.type(e).dtype, dt);
      Val both[] = {wrap(b_.CreateLoad(llvmType(ctx_, dt), sums[k])), wrap(v)};
      b_.CreateStore(unwrap(opInfo(Op::Sum).reduceCombine(eb, std::span<Val const>(both, 2))), sums[k]);
      memo_.clear();
    };
    if (std::find(knownInside_.begin(), knownInside_.end(), r.gather) != knownInside_.end()) {
      add(); // the loop's middle part: start <= i < stop
      continue;
    }
    LVal inside = b_.CreateAnd(b_.CreateICmpSGE(i, start), b_.CreateICmpSLT(i, dimValue(ax.stop)));
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *then = llvm::BasicBlock::Create(ctx_, "rider", f);
    llvm::BasicBlock *join = llvm::BasicBlock::Create(ctx_, "rider.end", f);
    b_.CreateCondBr(inside, then, join);
    b_.SetInsertPoint(then);
    add();
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
  }
}

void FunctionEmitter::endRiders(const std::vector<const SumRider *> &riders, const std::vector<LVal> &sums) {
  for (size_t k = 0; k < riders.size(); ++k)
    storeScalar(riders[k]->sum, b_.CreateLoad(llvmType(ctx_, g_.type(riders[k]->sum).dtype), sums[k]));
}

// Reductions join elements in an order of LLVM's choosing (sums may reassociate), so they
// vectorize; DESIGN.md: "Reductions may be reordered". The op table gives the start value
// and the join.
LVal FunctionEmitter::emitReduce(NodeId n, LVal out) {
  const Node &node = g_.node(n);
  const OpInfo &info = opInfo(node.op);
  NodeId a = node.operands[0];
  const Shape &inShape = g_.type(a).shape;
  DType dt = node.type.dtype;
  LlvmElementBuilder eb(b_, *m_, dt);
  std::vector<bool> reduced(inShape.size(), false);
  for (int64_t ax : node.ints)
    reduced[static_cast<size_t>(ax)] = true;
  auto join = [&](LVal acc, NodeId x, const std::vector<LVal> &idx) {
    LVal v = convertValue(b_, element(x, idx), g_.type(x).dtype, dt);
    Val both[] = {wrap(acc), wrap(v)};
    return unwrap(info.reduceCombine(eb, std::span<Val const>(both, 2)));
  };
  if (!out) { // a scalar: accumulate in a register
    LVal acc = LoopNest::entryAlloca(b_, llvmType(ctx_, dt));
    b_.CreateStore(konst(info.reduceInit, dt), acc);
    LoopNest::forEach(b_, extentsOf(inShape), [&](const std::vector<LVal> &idx) {
      memo_.clear();
      b_.CreateStore(join(b_.CreateLoad(llvmType(ctx_, dt), acc), a, idx), acc);
      memo_.clear();
    });
    return b_.CreateLoad(llvmType(ctx_, dt), acc);
  }
  fill(out, dt, node.type.shape, konst(info.reduceInit, dt));
  LoopNest::forEach(b_, extentsOf(inShape), [&](const std::vector<LVal> &idx) {
    memo_.clear();
    std::vector<LVal> kept;
    for (size_t k = 0; k < idx.size(); ++k)
      if (!reduced[k])
        kept.push_back(idx[k]);
    LVal p = elementPointer(out, dt, node.type.shape, kept);
    b_.CreateStore(join(b_.CreateLoad(llvmType(ctx_, dt), p), a, idx), p);
    memo_.clear();
  });
  return nullptr;
}

// index_grad: zeros, then the operand written at the selected places. Each selected
// place is written once, so the operand's elements are computed in this loop.
void FunctionEmitter::emitScatter(NodeId n, LVal out) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  NodeId a = node.operands[0];
  fill(out, dt, node.type.shape, konst(0.0, dt));
  std::vector<IndexAxis> axes = decodeIndexSpec(node.ints);
  LoopNest::forEach(b_, extentsOf(g_.type(a).shape), [&](const std::vector<LVal> &sel) {
    memo_.clear();
    std::vector<LVal> dst;
    size_t j = 0;
    for (const IndexAxis &ax : axes)
      dst.push_back(ax.slice ? b_.CreateAdd(dimValue(ax.start), sel[j++], "", true, true)
                             : dimValue(ax.start));
    LVal v = element(a, sel);
    storeValue(elementPointer(out, dt, node.type.shape, dst), v, g_.type(a).dtype, dt);
    memo_.clear();
  });
}

void FunctionEmitter::emitCopies() {
  for (size_t r : s_.copies) {
    NodeId id = roots_[r];
    const Type &t = g_.type(id);
    DType to = outputDtype(r);
    LVal out = fn_->getArg(static_cast<unsigned>(outputArg_[r]));
    LoopNest::forEach(b_, extentsOf(t.shape), [&](const std::vector<LVal> &idx) {
      memo_.clear();
      LVal v = element(id, idx);
      storeValue(elementPointer(out, to, t.shape, idx), v, t.dtype, to);
      memo_.clear();
    });
  }
}

// Every extent is non-negative and every value's size in range (ir/Type.h).
// (boundsOk, checked after it: the workspace given when one is needed, every index and slice
// in range, every label a class.)
LVal FunctionEmitter::sizesOk() {
  // Every dim argument in 0..2^56 first: then no `dim + offset` below can wrap (offsets are
  // at most 2^56 in magnitude, sema/ExprBuilder.cpp).
  LVal ok = b_.getTrue();
  for (size_t i = 0; i < abi_.args.size(); ++i)
    if (abi_.args[i].role == ArgRole::Dim)
      ok = b_.CreateAnd(ok, b_.CreateICmpULE(fn_->getArg(static_cast<unsigned>(i)),
                                             b_.getInt64(static_cast<uint64_t>(kMaxElements))));
  for (const Dim &d : s_.extents)
    if (!d.isLiteral())
      ok = b_.CreateAnd(ok, b_.CreateICmpSGE(dimValue(d), b_.getInt64(0)));
  for (const Shape &shape : s_.shapes)
    ok = b_.CreateAnd(ok, shapeFits(b_, g_, dims_, shape));
  return ok;
}

LVal FunctionEmitter::boundsOk() {
  LVal ok = b_.getTrue();
  LVal zero = b_.getInt64(0);
  if (wsArg_ >= 0 && (tapeSlots_ > 0 || !s_.buffers.empty())) {
    LVal layoutOk = nullptr;
    LVal bytes = layout(b_, dims_, nullptr, &layoutOk);
    LVal ws = fn_->getArg(static_cast<unsigned>(wsArg_));
    LVal given = b_.CreateOr(b_.CreateICmpEQ(bytes, zero), b_.CreateIsNotNull(ws));
    ok = b_.CreateAnd(ok, b_.CreateAnd(layoutOk, given));
  }
  for (NodeId n : s_.indexNodes) {
    const Node &node = g_.node(n);
    const Shape &full = node.op == Op::Index ? g_.type(node.operands[0]).shape : node.type.shape;
    std::vector<IndexAxis> axes = decodeIndexSpec(node.ints);
    for (size_t k = 0; k < axes.size(); ++k) {
      LVal start = dimValue(axes[k].start);
      LVal stop = axes[k].slice ? dimValue(axes[k].stop) : b_.CreateAdd(start, b_.getInt64(1));
      ok = b_.CreateAnd(ok, b_.CreateICmpSGE(start, zero));
      ok = b_.CreateAnd(ok, b_.CreateICmpSLE(stop, dimValue(full[k])));
      ok = b_.CreateAnd(ok, b_.CreateICmpSLE(start, stop));
    }
  }
  // Every label of every pick is a valid class: one pass over the labels.
  for (NodeId n : s_.pickNodes) {
    const Node &node = g_.node(n);
    NodeId y = node.operands[1];
    LVal classes = dimValue(g_.type(node.operands[0]).shape[1]);
    LVal flag = LoopNest::entryAlloca(b_, b_.getInt1Ty());
    b_.CreateStore(ok, flag);
    LoopNest::forEach(b_, extentsOf(g_.type(y).shape), [&](const std::vector<LVal> &i) {
      memo_.clear();
      LVal label = convertValue(b_, element(y, i), g_.type(y).dtype, DType::I64);
      LVal good = b_.CreateAnd(b_.CreateICmpSGE(label, zero), b_.CreateICmpSLT(label, classes));
      b_.CreateStore(b_.CreateAnd(b_.CreateLoad(b_.getInt1Ty(), flag), good), flag);
      memo_.clear();
    });
    ok = b_.CreateLoad(b_.getInt1Ty(), flag);
  }
  return ok;
}

// An index out of range: every output is NaN (DESIGN.md), nothing is read.
void FunctionEmitter::emitFailure() {
  LVal nan = nullptr;
  for (size_t r = 0; r < roots_.size(); ++r) {
    if (roots_[r] == kNoNode)
      continue;
    DType to = outputDtype(r);
    nan = konst(std::numeric_limits<double>::quiet_NaN(), to);
    const Type &t = g_.type(roots_[r]);
    if (outputArg_[r] < 0)
      continue;
    LVal out = fn_->getArg(static_cast<unsigned>(outputArg_[r]));
    if (t.isScalar())
      storeValue(out, nan, to, to);
    else
      fill(out, to, t.shape, nan);
  }
  if (abi_.returnsValue) {
    LVal v = konst(std::numeric_limits<double>::quiet_NaN(), abi_.returnType);
    b_.CreateRet(abi_.returnType == DType::Bool ? b_.CreateZExt(v, b_.getInt8Ty()) : v);
  } else {
    b_.CreateRetVoid();
  }
}

// The workspace: the tape (chunked code only), then one 64-byte aligned buffer per slot.
// Sizes are summed with overflow checks: `valid` is false when a buffer is too large or the
// sum wraps (f_workspace_size then returns SIZE_MAX and the entry functions fail).
LVal FunctionEmitter::layout(llvm::IRBuilderBase &b, const std::vector<LVal> &dims,
                            std::vector<LVal> *offsets, LVal *valid) {
  LlvmIndexMapper im(b, g_, dims);
  auto align = [&](LVal v) {
    return b.CreateAnd(b.CreateAdd(v, b.getInt64(kBufferAlign - 1)),
                       b.getInt64(static_cast<uint64_t>(~(kBufferAlign - 1))));
  };
  LVal ok = b.getTrue();
  LVal total = align(b.getInt64(static_cast<uint64_t>(tapeSlots_ * 8)));
  for (NodeId n : s_.buffers) {
    if (offsets)
      offsets->push_back(total);
    const Type &t = g_.type(n);
    LVal count = b.getInt64(static_cast<uint64_t>(byteSize(t.dtype)));
    for (const Dim &d : t.shape) {
      LVal e = unwrap(im.dim(d));
      count = b.CreateMul(count, b.CreateSelect(b.CreateICmpSLT(e, b.getInt64(0)), b.getInt64(0), e));
    }
    ok = b.CreateAnd(ok, shapeFits(b, g_, dims, t.shape));
    // At most 2^59 bytes: aligning cannot wrap, the sum can.
    LVal sum = b.CreateBinaryIntrinsic(llvm::Intrinsic::uadd_with_overflow, total, align(count));
    ok = b.CreateAnd(ok, b.CreateNot(b.CreateExtractValue(sum, 1)));
    total = b.CreateExtractValue(sum, 0);
  }
  if (valid)
    *valid = ok;
  return total;
}

// Chunked code keeps scalars that cross a chunk boundary, and the workspace buffers'
// addresses, in a tape at the start of the workspace.
void FunctionPlan::assignTape() {
  tapeSlot.assign(in.graph->size(), -1);
  tapeSlots = 0;
  if (!chunked())
    return;
  int32_t next = static_cast<int32_t>(s.buffers.size());
  std::vector<int32_t> chunkOf(in.graph->size(), -1);
  for (size_t k = 0; k < s.steps.size(); ++k) {
    // A row sweep's steps run in its matvec's chunk, a riding sum in its loop's (which
    // come first).
    const RowSweep *sw = s.rowSweepOf(s.steps[k]);
    const SumRider *rider = s.riderOfSum(s.steps[k]);
    chunkOf[static_cast<size_t>(s.steps[k])] = sw && sw->matvec != s.steps[k]
                                                    ? chunkOf[static_cast<size_t>(sw->matvec)]
                                               : rider ? chunkOf[static_cast<size_t>(rider->loop)]
                                                       : static_cast<int32_t>(k / opts.chunkSteps);
  }
  auto keep = [&](NodeId x) {
    if (tapeSlot[static_cast<size_t>(x)] < 0)
      tapeSlot[static_cast<size_t>(x)] = next++;
  };
  std::vector<NodeId> stack;
  // The scalars computing `start` reads from another chunk go on the tape.
  auto visitReads = [&](NodeId start, int32_t chunk, bool self) {
    forEachRead(*in.graph, s, start, self, stack, [&](NodeId x) {
      if (s.storage[static_cast<size_t>(x)] == Storage::Scalar && chunkOf[static_cast<size_t>(x)] != chunk)
        keep(x);
    });
  };
  for (NodeId step : s.steps)
    visitReads(step, chunkOf[static_cast<size_t>(step)], false);
  for (size_t r = 0; r < roots.size(); ++r)
    if (roots[r] != kNoNode)
      visitReads(roots[r], -1, true);
  tapeSlots = static_cast<size_t>(next);
}

void FunctionEmitter::setupWorkspace(bool inChunk) {
  LVal ws = fn_->getArg(static_cast<unsigned>(wsArg_));
  tape_ = ws;
  if (inChunk)
    return; // buffer addresses are read from the tape when first used

  std::vector<LVal> offsets;
  layout(b_, dims_, &offsets);
  for (size_t k = 0; k < s_.buffers.size(); ++k) {
    buffers_[k] = b_.CreateInBoundsGEP(b_.getInt8Ty(), ws, offsets[k]);
    setBuffers_.push_back(k);
    if (chunked())
      b_.CreateAlignedStore(buffers_[k], b_.CreateConstInBoundsGEP1_64(b_.getPtrTy(), ws, k),
                            llvm::Align(8));
  }
}

void FunctionEmitter::setModule(llvm::Module &m) {
  GRADC_ASSERT(&m.getContext() == &ctx_, "a module of another LLVM context");
  m_ = &m;
  tiledPacks_.clear(); // keyed by functions of the previous module
}

llvm::Function *FunctionEmitter::chunkFunction(size_t c, bool external) {
  std::string name = abi_.symbol + ".chunk" + std::to_string(c);
  if (llvm::Function *f = m_->getFunction(name))
    return f;
  llvm::FunctionType *cty = llvm::FunctionType::get(b_.getVoidTy(), functionType()->params(), false);
  auto *f = llvm::Function::Create(
      cty, external ? llvm::Function::ExternalLinkage : llvm::Function::InternalLinkage, name, *m_);
  f->addFnAttr(llvm::Attribute::NoInline);
  f->setDoesNotThrow();
  return f;
}

llvm::Function *FunctionEmitter::emitEntryRunning(const FunctionPlan &other,
                                                  const std::vector<llvm::Function *> &chunks) {
  GRADC_ASSERT(abi_.returnsValue && roots_.size() == 1, "f's entry runs chunks only for a scalar f");
  llvm::Function *f = beginEntry();
  // The chunks write f_grad's tape, which f's own plan (checked in beginEntry) may not have:
  // without a workspace, NaN.
  if (other.tapeSlots > 0) {
    llvm::BasicBlock *given = llvm::BasicBlock::Create(ctx_, "ws_given", f);
    llvm::BasicBlock *missing = llvm::BasicBlock::Create(ctx_, "no_ws", f);
    b_.CreateCondBr(b_.CreateIsNull(f->getArg(static_cast<unsigned>(wsArg_))), missing, given);
    b_.SetInsertPoint(missing);
    b_.CreateRet(konst(std::numeric_limits<double>::quiet_NaN(), abi_.returnType));
    b_.SetInsertPoint(given);
  }
  // f's arguments in f_grad's order: the same parameters, dims and workspace; no outputs.
  std::vector<LVal> args;
  for (const AbiArg &a : other.abi.args) {
    LVal v = nullptr;
    for (size_t i = 0; i < abi_.args.size() && !v; ++i)
      if (abi_.args[i].role == a.role && abi_.args[i].index == a.index &&
          (a.role == ArgRole::Param || a.role == ArgRole::Dim || a.role == ArgRole::Workspace))
        v = f->getArg(static_cast<unsigned>(i));
    args.push_back(v ? v : llvm::ConstantPointerNull::get(b_.getPtrTy()));
  }
  for (llvm::Function *c : chunks)
    b_.CreateCall(c, args);
  NodeId value = other.roots[0];
  DType dt = g_.type(value).dtype;
  LVal v = readTape(b_, f->getArg(static_cast<unsigned>(wsArg_)), other.tapeSlot[static_cast<size_t>(value)], dt);
  v = convertValue(b_, v, dt, abi_.returnType);
  b_.CreateRet(abi_.returnType == DType::Bool ? b_.CreateZExt(v, b_.getInt8Ty()) : v);
  return f;
}

void FunctionEmitter::emitChunk(size_t c, bool external) {
  llvm::Function *f = chunkFunction(c, external);
  llvm::BasicBlock *entry = llvm::BasicBlock::Create(ctx_, "entry", f);
  llvm::BasicBlock *steps = llvm::BasicBlock::Create(ctx_, "steps", f);
  b_.SetInsertPoint(entry);
  bindArguments(f);
  setupWorkspace(true);
  b_.CreateBr(steps);
  tapeEntry_ = entry;
  b_.SetInsertPoint(steps);
  size_t begin = c * opts_.chunkSteps, end = std::min(s_.steps.size(), begin + opts_.chunkSteps);
  for (size_t k = begin; k < end; ++k)
    emitStep(s_.steps[k]);
  b_.CreateRetVoid();
  tapeEntry_ = nullptr;
}

// The exported function up to its body: arguments bound, and indices out of range sent to
// the failure path (NaN results); the builder is left at the start of the body.
llvm::Function *FunctionEmitter::beginEntry() {
  auto *f = llvm::Function::Create(functionType(), llvm::Function::ExternalLinkage, abi_.symbol, *m_);
  f->setDoesNotThrow();
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", f));
  bindArguments(f);
  llvm::BasicBlock *body = llvm::BasicBlock::Create(ctx_, "body", f);
  llvm::BasicBlock *fail = llvm::BasicBlock::Create(ctx_, "out_of_range", f);
  // Sizes first: dims that are negative or too large to index make no array the caller can
  // have, so the value is NaN and nothing is read or written.
  llvm::BasicBlock *sized = llvm::BasicBlock::Create(ctx_, "sized", f);
  llvm::BasicBlock *badSizes = llvm::BasicBlock::Create(ctx_, "bad_sizes", f);
  b_.CreateCondBr(sizesOk(), sized, badSizes);
  b_.SetInsertPoint(badSizes);
  if (abi_.returnsValue) {
    LVal nan = konst(std::numeric_limits<double>::quiet_NaN(), abi_.returnType);
    b_.CreateRet(abi_.returnType == DType::Bool ? b_.CreateZExt(nan, b_.getInt8Ty()) : nan);
  } else {
    b_.CreateRetVoid();
  }
  b_.SetInsertPoint(sized);
  b_.CreateCondBr(boundsOk(), body, fail);
  b_.SetInsertPoint(fail);
  emitFailure();
  b_.SetInsertPoint(body);
  return f;
}

llvm::Function *FunctionEmitter::emitEntry(bool externalChunks) {
  llvm::Function *f = beginEntry();
  setupWorkspace(false);
  if (chunked()) {
    std::vector<LVal> args;
    for (llvm::Argument &a : f->args())
      args.push_back(&a);
    for (size_t c = 0; c < plan_.chunkCount(); ++c)
      b_.CreateCall(chunkFunction(c, externalChunks), args);
  } else {
    for (NodeId step : s_.steps)
      emitStep(step);
  }
  emitCopies();
  annotateBufferAliasing(f);
  for (size_t r = 1; r < roots_.size(); ++r) {
    NodeId id = roots_[r];
    if (id != kNoNode && g_.type(id).isScalar())
      storeValue(f->getArg(static_cast<unsigned>(outputArg_[r])), scalarOf(id), g_.type(id).dtype,
                 outputDtype(r));
  }
  if (abi_.returnsValue) {
    LVal v = convertValue(b_, scalarOf(roots_[0]), g_.type(roots_[0]).dtype, abi_.returnType);
    b_.CreateRet(abi_.returnType == DType::Bool ? b_.CreateZExt(v, b_.getInt8Ty()) : v);
  } else {
    b_.CreateRetVoid();
  }
  return f;
}

// Workspace buffers all point into `ws`, so LLVM cannot tell them apart: a loop writing one
// and reading another (W^T @ g with both in the workspace) reloads the other's elements after
// every store and stays scalar. Distinct slots never overlap (the layout gives each its own
// bytes, and slots are shared only by nodes whose lifetimes do not), so each slot gets an
// alias scope and every load and store through it says it aliases no other slot. Chunked
// straight-line code, and functions with very many slots, are left as they are.
void FunctionEmitter::annotateBufferAliasing(llvm::Function *f) {
  constexpr size_t kMaxSlots = 64;
  if (chunked() || buffers_.size() < 2 || buffers_.size() > kMaxSlots)
    return;
  std::map<LVal, size_t> slotOf;
  for (size_t k = 0; k < buffers_.size(); ++k)
    if (buffers_[k])
      slotOf[buffers_[k]] = k;
  llvm::MDBuilder md(ctx_);
  llvm::MDNode *domain = md.createAnonymousAliasScopeDomain("gradc.workspace");
  std::vector<llvm::Metadata *> scopes;
  for (size_t k = 0; k < buffers_.size(); ++k)
    scopes.push_back(md.createAnonymousAliasScope(domain, "slot" + std::to_string(k)));
  std::vector<llvm::MDNode *> own, others;
  for (size_t k = 0; k < scopes.size(); ++k) {
    own.push_back(llvm::MDNode::get(ctx_, {scopes[k]}));
    std::vector<llvm::Metadata *> rest;
    for (size_t j = 0; j < scopes.size(); ++j)
      if (j != k)
        rest.push_back(scopes[j]);
    others.push_back(llvm::MDNode::get(ctx_, rest));
  }
  for (llvm::BasicBlock &bb : *f)
    for (llvm::Instruction &inst : bb) {
      LVal ptr = nullptr;
      if (auto *load = llvm::dyn_cast<llvm::LoadInst>(&inst))
        ptr = load->getPointerOperand();
      else if (auto *store = llvm::dyn_cast<llvm::StoreInst>(&inst))
        ptr = store->getPointerOperand();
      else if (auto *call = llvm::dyn_cast<llvm::IntrinsicInst>(&inst))
        ptr = call->getIntrinsicID() == llvm::Intrinsic::masked_load    ? call->getArgOperand(0)
              : call->getIntrinsicID() == llvm::Intrinsic::masked_store ? call->getArgOperand(1)
                                                                        : nullptr;
      // Back through the element's address computation to its buffer's base (which may
      // itself be a GEP from ws: stop at the first known base).
      while (ptr && !slotOf.count(ptr)) {
        auto *gep = llvm::dyn_cast<llvm::GEPOperator>(ptr);
        ptr = gep ? gep->getPointerOperand() : nullptr;
      }
      auto slot = ptr ? slotOf.find(ptr) : slotOf.end();
      if (slot == slotOf.end())
        continue;
      inst.setMetadata(llvm::LLVMContext::MD_alias_scope, own[slot->second]);
      inst.setMetadata(llvm::LLVMContext::MD_noalias, others[slot->second]);
    }
}

} // namespace lowering

} // namespace gradc
