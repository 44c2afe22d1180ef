// LowerModule.cpp: the exported functions of one source function (f, f_grad, their packed
// entries, f_workspace_size) in one LLVM module, or in pieces that threads lower and compile
// each in their own LLVMContext.
#include "backend/Lowering.h"

#include "backend/FunctionEmitter.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>

namespace gradc {

namespace lowering {

// f's and f_grad's plans: both functions' chunks are numbered together, f's first. When f
// can run the first chunks of f_grad instead (`sharedChunks` of them), it has none.
struct FunctionPlans {
  FunctionPlan value, grad;
  size_t sharedChunks;
  FunctionPlans(const LoweringInput &in, const AbiSet &abi, const LoweringOptions &opts)
      : value(in, abi.value, {in.value}, opts), grad(in, abi.grad, in.gradRoots, opts),
        sharedChunks(grad.valueChunks()) {}
  size_t valueChunks() const { return sharedChunks ? 0 : value.chunkCount(); }
  size_t chunks() const { return valueChunks() + grad.chunkCount(); }
};

} // namespace lowering

namespace {

using lowering::FunctionEmitter;
using lowering::FunctionPlans;
using lowering::LVal;

// `void name__packed(void **argv)`: argv[i] points at argument i's value, argv[n] at the
// result's storage. Lets a caller that knows the ABI only at run time (gradc run) call in.
void emitPackedEntry(llvm::Module &m, llvm::Function *target, const std::string &name) {
  llvm::LLVMContext &c = m.getContext();
  llvm::IRBuilder<> b(c);
  auto *fty = llvm::FunctionType::get(b.getVoidTy(), {b.getPtrTy()}, false);
  auto *f = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, name, m);
  b.SetInsertPoint(llvm::BasicBlock::Create(c, "entry", f));
  LVal argv = f->getArg(0);
  std::vector<LVal> args;
  unsigned n = target->arg_size();
  for (unsigned i = 0; i < n; ++i) {
    LVal slot = b.CreateAlignedLoad(b.getPtrTy(), b.CreateConstInBoundsGEP1_64(b.getPtrTy(), argv, i), llvm::Align(8));
    args.push_back(b.CreateLoad(target->getArg(i)->getType(), slot));
  }
  LVal r = b.CreateCall(target, args);
  if (!target->getReturnType()->isVoidTy()) {
    LVal slot = b.CreateAlignedLoad(b.getPtrTy(), b.CreateConstInBoundsGEP1_64(b.getPtrTy(), argv, n), llvm::Align(8));
    b.CreateStore(r, slot);
  }
  b.CreateRetVoid();
}

// size_t f_workspace_size(dims...): enough for both f and f_grad.
llvm::Function *emitWorkspaceSize(const LoweringInput &in, const AbiSet &abi, FunctionEmitter &value,
                                  FunctionEmitter &grad, llvm::Module &m) {
  llvm::LLVMContext &c = m.getContext();
  llvm::IRBuilder<> b(c);
  std::vector<llvm::Type *> dimTypes(abi.dimArgs.size(), b.getInt64Ty());
  auto *sty = llvm::FunctionType::get(b.getInt64Ty(), dimTypes, false);
  auto *sf = llvm::Function::Create(sty, llvm::Function::ExternalLinkage, abi.workspaceSizeSymbol, m);
  sf->setDoesNotThrow();
  b.SetInsertPoint(llvm::BasicBlock::Create(c, "entry", sf));
  std::vector<LVal> dims(in.graph->dims().names.size(), nullptr);
  for (auto [sym, v] : in.boundDims)
    dims[static_cast<size_t>(sym)] = b.getInt64(static_cast<uint64_t>(v));
  for (size_t i = 0; i < abi.dimArgs.size(); ++i) {
    sf->getArg(static_cast<unsigned>(i))->setName(in.graph->dims().names[static_cast<size_t>(abi.dimArgs[i])]);
    dims[static_cast<size_t>(abi.dimArgs[i])] = sf->getArg(static_cast<unsigned>(i));
  }
  LVal aValid = nullptr, gValid = nullptr;
  LVal a = value.layout(b, dims, nullptr, &aValid);
  LVal g = grad.layout(b, dims, nullptr, &gValid);
  // Only the tape and buffers need space: a function with neither reports 0, so ws may be NULL.
  // Sizes beyond what can be indexed (or a sum that wraps) report SIZE_MAX (ABI.md).
  LVal most = b.CreateSelect(b.CreateICmpUGT(a, g), a, g);
  LVal valid = b.CreateAnd(aValid, gValid);
  for (llvm::Argument &d : sf->args()) // every dim in 0..2^56, as the entries require
    valid = b.CreateAnd(valid, b.CreateICmpULE(&d, b.getInt64(static_cast<uint64_t>(kMaxElements))));
  b.CreateRet(b.CreateSelect(valid, most, b.getInt64(UINT64_MAX)));
  return sf;
}

// Runs of chunks `[first, end)` of both functions (f's chunks first, then f_grad's).
void emitChunks(const FunctionPlans &plans, FunctionEmitter &value, FunctionEmitter &grad, size_t first,
                size_t end, bool external) {
  const size_t valueChunks = plans.valueChunks();
  for (size_t c = first; c < end; ++c) {
    if (c < valueChunks)
      value.emitChunk(c, external);
    else
      grad.emitChunk(c - valueChunks, external);
  }
}

// f, f_grad, f_workspace_size and their packed entries. `external`: the chunks are defined
// in other modules.
void emitExports(const LoweringInput &in, const AbiSet &abi, const FunctionPlans &plans,
                 FunctionEmitter &value, FunctionEmitter &grad, llvm::Module &m, bool external,
                 const LoweringOptions &opts) {
  llvm::Function *fv = nullptr;
  if (plans.sharedChunks) {
    std::vector<llvm::Function *> chunks;
    for (size_t c = 0; c < plans.sharedChunks; ++c)
      chunks.push_back(grad.chunkFunction(c, external));
    fv = value.emitEntryRunning(plans.grad, chunks);
  } else {
    fv = value.emitEntry(external);
  }
  llvm::Function *fg = grad.emitEntry(external);
  llvm::Function *sf = emitWorkspaceSize(in, abi, value, grad, m);
  if (opts.packedEntries) {
    emitPackedEntry(m, fv, abi.value.symbol + "__packed");
    emitPackedEntry(m, fg, abi.grad.symbol + "__packed");
    emitPackedEntry(m, sf, abi.workspaceSizeSymbol + "__packed");
  }
}

void verify(const llvm::Module &m) {
  std::string err;
  llvm::raw_string_ostream os(err);
  if (llvm::verifyModule(m, &os))
    internalError("the LLVM IR gradc generated is invalid: " + os.str());
}

} // namespace

AbiSet lowerFunction(const LoweringInput &in, llvm::Module &m, const LoweringOptions &opts) {
  AbiSet abi = describeAbi(*in.fn, in.graph->dims(), in.boundDims, opts.prefix);
  FunctionPlans plans(in, abi, opts);
  FunctionEmitter value(plans.value, m.getContext()), grad(plans.grad, m.getContext());
  value.setModule(m);
  grad.setModule(m);
  emitExports(in, abi, plans, value, grad, m, false, opts);
  emitChunks(plans, value, grad, 0, plans.chunks(), false);
  // The caller verifies the whole module once: verifying it after every function made a
  // file of n functions cost O(n^2) (2,000 functions: 12 s).
  return abi;
}

PieceLowering::PieceLowering(const LoweringInput &in, const LoweringOptions &opts, bool split)
    : in_(in), opts_(opts), abi_(describeAbi(*in.fn, in.graph->dims(), in.boundDims, opts.prefix)),
      plans_(std::make_unique<FunctionPlans>(in, abi_, opts)) {
  size_t chunks = plans_->chunks();
  if (!split || chunks == 0)
    return;
  // Pieces small enough that two threads taking them in turn finish close together, large
  // enough that a module's fixed costs (pass setup, an object to link) stay small.
  chunksPerPiece_ = std::clamp<size_t>(chunks / 16, 4, 64);
  chunkPieces_ = (chunks + chunksPerPiece_ - 1) / chunksPerPiece_;
}

PieceLowering::~PieceLowering() = default;

PieceLowering::Lowerer::Lowerer(const PieceLowering &p, llvm::LLVMContext &ctx)
    : p_(p), ctx_(ctx), value_(std::make_unique<FunctionEmitter>(p.plans_->value, ctx)),
      grad_(std::make_unique<FunctionEmitter>(p.plans_->grad, ctx)) {}

PieceLowering::Lowerer::~Lowerer() = default;

std::unique_ptr<llvm::Module> PieceLowering::Lowerer::lower(size_t k) {
  GRADC_ASSERT(k < p_.pieces(), "no such piece");
  auto m = std::make_unique<llvm::Module>(
      k == 0 ? p_.in_.fn->name : p_.in_.fn->name + ".piece" + std::to_string(k), ctx_);
  value_->setModule(*m);
  grad_->setModule(*m);
  const FunctionPlans &plans = *p_.plans_;
  bool split = p_.chunkPieces_ > 0;
  if (k == 0) {
    emitExports(p_.in_, p_.abi_, plans, *value_, *grad_, *m, split, p_.opts_);
    if (!split)
      emitChunks(plans, *value_, *grad_, 0, plans.chunks(), false);
  } else {
    size_t first = (k - 1) * p_.chunksPerPiece_;
    emitChunks(plans, *value_, *grad_, first, std::min(plans.chunks(), first + p_.chunksPerPiece_), true);
  }
  verify(*m);
  return m;
}

} // namespace gradc
