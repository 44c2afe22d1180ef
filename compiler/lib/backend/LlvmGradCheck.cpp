// LlvmGradCheck.cpp: f_gradcheck in LLVM IR. As in CGradCheck.cpp: the parameters are
// copied into the workspace after f's own, f_grad is called once, then every element of
// every differentiable parameter is moved by +-h = cbrt(eps) max(1, |x|) and f called twice;
// the worst |g - d| / max(1, |g|, |d|) is returned (NaN when any is NaN or f fails).
#include "backend/LlvmGradCheck.h"

#include "backend/LlvmElementBuilder.h"
#include "backend/LlvmTypes.h"
#include "backend/LoopNest.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <limits>

namespace gradc {

namespace {

using V = llvm::Value *;

struct Buffers {
  std::vector<V> copy, grad; // per parameter: its copy and its gradient (array or stack slot)
  V out = nullptr;
  V size = nullptr;  // bytes up to the end of the last buffer
  V valid = nullptr; // every size in range and the sum not wrapped (else `size` is meaningless)
};

class GradCheckEmitter {
public:
  GradCheckEmitter(llvm::Module &m, const Function &fn, const AbiSet &abi,
                   const std::map<int32_t, int64_t> &bound)
      : m_(m), c_(m.getContext()), b_(c_), fn_(fn), abi_(abi), bound_(bound),
        result_(fn.graph->type(fn.result)) {}

  void emit();

private:
  std::vector<V> dimsFrom(llvm::Function *f);
  V count(const Shape &shape, const std::vector<V> &dims);
  V align(V bytes) {
    return b_.CreateAnd(b_.CreateAdd(bytes, b_.getInt64(63)), b_.getInt64(~uint64_t{63}));
  }
  Buffers layout(const std::vector<V> &dims, V ws);
  V call(llvm::Function *target, const AbiFunction &f, const Buffers &bufs, const std::vector<V> &dims,
         llvm::Function *self);
  V objective(const Buffers &bufs, const std::vector<V> &dims, llvm::Function *self);
  V toDouble(V v, DType t) { return convertValue(b_, v, t, DType::F64); }
  V dimsOk(const std::vector<V> &dimArgs, const std::vector<V> &dims);

  llvm::Module &m_;
  llvm::LLVMContext &c_;
  llvm::IRBuilder<> b_;
  const Function &fn_;
  const AbiSet &abi_;
  const std::map<int32_t, int64_t> &bound_;
  const Type &result_;
  std::vector<int> paramArg_;
  int dOutArg_ = -1;
};

std::vector<V> GradCheckEmitter::dimsFrom(llvm::Function *f) {
  std::vector<V> dims(fn_.graph->dims().names.size(), nullptr);
  for (auto [sym, v] : bound_)
    dims[static_cast<size_t>(sym)] = b_.getInt64(static_cast<uint64_t>(v));
  for (size_t i = 0; i < abi_.dimArgs.size(); ++i)
    dims[static_cast<size_t>(abi_.dimArgs[i])] = f->getArg(static_cast<unsigned>(i));
  return dims;
}

V GradCheckEmitter::count(const Shape &shape, const std::vector<V> &dims) {
  V n = b_.getInt64(1);
  for (const Dim &d : shape) {
    V e = d.isLiteral() ? b_.getInt64(static_cast<uint64_t>(d.off))
                        : b_.CreateAdd(dims[static_cast<size_t>(d.sym)], b_.getInt64(static_cast<uint64_t>(d.off)));
    n = b_.CreateMul(n, e);
  }
  return n;
}

// Dims in range, and every parameter's and the result's size in range (ir/Type.h).
V GradCheckEmitter::dimsOk(const std::vector<V> &dimArgs, const std::vector<V> &dims) {
  V ok = b_.getTrue();
  for (V d : dimArgs) // in 0..2^56, as the entry functions require
    ok = b_.CreateAnd(ok, b_.CreateICmpULE(d, b_.getInt64(static_cast<uint64_t>(kMaxElements))));
  for (const ParamInfo &p : fn_.params)
    ok = b_.CreateAnd(ok, shapeFits(b_, *fn_.graph, dims, p.type.shape));
  return b_.CreateAnd(ok, shapeFits(b_, *fn_.graph, dims, result_.shape));
}

// After f's own workspace: each array parameter's copy, each array gradient, f's output.
Buffers GradCheckEmitter::layout(const std::vector<V> &dims, V ws) {
  Buffers bufs;
  std::vector<V> dimArgs;
  for (int32_t sym : abi_.dimArgs)
    dimArgs.push_back(dims[static_cast<size_t>(sym)]);
  V own = b_.CreateCall(m_.getFunction(abi_.workspaceSizeSymbol), dimArgs);
  bufs.valid = b_.CreateICmpNE(own, b_.getInt64(UINT64_MAX));
  V off = align(own);
  auto buffer = [&](DType t, const Shape &shape) {
    V p = ws ? b_.CreateInBoundsGEP(b_.getInt8Ty(), ws, off) : nullptr;
    // Sizes are in range when bufs.valid (dimsOk); only the sum may wrap.
    V bytes = align(b_.CreateMul(b_.getInt64(static_cast<uint64_t>(byteSize(t))), count(shape, dims)));
    V sum = b_.CreateBinaryIntrinsic(llvm::Intrinsic::uadd_with_overflow, off, bytes);
    bufs.valid = b_.CreateAnd(bufs.valid, b_.CreateNot(b_.CreateExtractValue(sum, 1)));
    off = b_.CreateExtractValue(sum, 0);
    return p;
  };
  for (const ParamInfo &p : fn_.params) {
    bool array = !p.type.isScalar();
    bufs.copy.push_back(array ? buffer(p.type.dtype, p.type.shape) : nullptr);
    bufs.grad.push_back(array && !p.isConst ? buffer(p.type.dtype, p.type.shape) : nullptr);
  }
  if (!result_.isScalar())
    bufs.out = buffer(result_.dtype, result_.shape);
  bufs.size = off;
  return bufs;
}

// Calls f or f_grad with the copies in place of the parameters.
V GradCheckEmitter::call(llvm::Function *target, const AbiFunction &f, const Buffers &bufs,
                         const std::vector<V> &dims, llvm::Function *self) {
  std::vector<V> args;
  for (const AbiArg &a : f.args) {
    size_t p = static_cast<size_t>(a.index);
    switch (a.role) {
    case ArgRole::Dim: args.push_back(dims[p]); break;
    case ArgRole::Param:
      args.push_back(fn_.params[p].type.isScalar()
                         ? b_.CreateLoad(llvmType(c_, fn_.params[p].type.dtype), bufs.copy[p])
                         : bufs.copy[p]);
      break;
    case ArgRole::DOut: args.push_back(self->getArg(static_cast<unsigned>(dOutArg_))); break;
    case ArgRole::Out: args.push_back(bufs.out); break;
    case ArgRole::Grad: args.push_back(bufs.grad[p]); break;
    case ArgRole::Workspace: args.push_back(self->getArg(self->arg_size() - 1)); break;
    }
  }
  return b_.CreateCall(target, args);
}

// F: f itself for a scalar result, <d_out, f> otherwise, as a double.
V GradCheckEmitter::objective(const Buffers &bufs, const std::vector<V> &dims, llvm::Function *self) {
  V r = call(m_.getFunction(abi_.value.symbol), abi_.value, bufs, dims, self);
  if (result_.isScalar())
    return toDouble(r, result_.dtype);
  V acc = LoopNest::entryAlloca(b_, b_.getDoubleTy());
  b_.CreateStore(llvm::ConstantFP::get(b_.getDoubleTy(), 0.0), acc);
  llvm::Type *t = memoryType(c_, result_.dtype);
  V dOut = self->getArg(static_cast<unsigned>(dOutArg_));
  LoopNest::forEach(b_, {count(result_.shape, dims)}, [&](const std::vector<V> &j) {
    V u = toDouble(b_.CreateLoad(t, b_.CreateInBoundsGEP(t, dOut, j[0])), result_.dtype);
    V o = toDouble(b_.CreateLoad(t, b_.CreateInBoundsGEP(t, bufs.out, j[0])), result_.dtype);
    b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(b_.getDoubleTy(), acc), b_.CreateFMul(u, o)), acc);
  });
  return b_.CreateLoad(b_.getDoubleTy(), acc);
}

void GradCheckEmitter::emit() {
  const AbiFunction &gc = abi_.gradcheck;
  std::vector<llvm::Type *> argTypes;
  paramArg_.assign(fn_.params.size(), -1);
  for (size_t i = 0; i < gc.args.size(); ++i) {
    const AbiArg &a = gc.args[i];
    if (a.role == ArgRole::Param)
      paramArg_[static_cast<size_t>(a.index)] = static_cast<int>(i);
    if (a.role == ArgRole::DOut)
      dOutArg_ = static_cast<int>(i);
    argTypes.push_back(a.pointer || a.role == ArgRole::Workspace ? b_.getPtrTy()
                       : a.role == ArgRole::Dim                  ? b_.getInt64Ty()
                                                                 : llvmType(c_, a.dtype));
  }
  V nan = llvm::ConstantFP::get(b_.getDoubleTy(), std::numeric_limits<double>::quiet_NaN());
  auto *f = llvm::Function::Create(llvm::FunctionType::get(b_.getDoubleTy(), argTypes, false),
                                   llvm::Function::ExternalLinkage, gc.symbol, m_);
  llvm::BasicBlock *entry = llvm::BasicBlock::Create(c_, "entry", f);
  llvm::BasicBlock *body = llvm::BasicBlock::Create(c_, "body", f);
  llvm::BasicBlock *fail = llvm::BasicBlock::Create(c_, "fail", f);
  b_.SetInsertPoint(fail);
  b_.CreateRet(nan);
  b_.SetInsertPoint(entry);
  std::vector<V> dims = dimsFrom(f);
  std::vector<V> dimArgs;
  for (size_t i = 0; i < abi_.dimArgs.size(); ++i)
    dimArgs.push_back(f->getArg(static_cast<unsigned>(i)));
  // The sizes first (nothing that depends on them is computed before they are known to be
  // in range), then the workspace: its layout in range, and given.
  llvm::BasicBlock *sized = llvm::BasicBlock::Create(c_, "sized", f);
  b_.CreateCondBr(dimsOk(dimArgs, dims), sized, fail);
  b_.SetInsertPoint(sized);
  V ws = f->getArg(f->arg_size() - 1);
  Buffers bufs = layout(dims, ws);
  V given = b_.CreateOr(b_.CreateICmpEQ(bufs.size, b_.getInt64(0)), b_.CreateIsNotNull(ws));
  b_.CreateCondBr(b_.CreateAnd(bufs.valid, given), body, fail);
  b_.SetInsertPoint(body);

  for (size_t p = 0; p < fn_.params.size(); ++p) {
    const ParamInfo &pi = fn_.params[p];
    V src = f->getArg(static_cast<unsigned>(paramArg_[p]));
    if (pi.type.isScalar()) {
      bufs.copy[p] = LoopNest::entryAlloca(b_, llvmType(c_, pi.type.dtype));
      b_.CreateStore(src, bufs.copy[p]);
      if (!pi.isConst)
        bufs.grad[p] = LoopNest::entryAlloca(b_, llvmType(c_, pi.type.dtype));
      continue;
    }
    llvm::Type *t = memoryType(c_, pi.type.dtype);
    LoopNest::forEach(b_, {count(pi.type.shape, dims)}, [&](const std::vector<V> &i) {
      b_.CreateStore(b_.CreateLoad(t, b_.CreateInBoundsGEP(t, src, i[0])),
                     b_.CreateInBoundsGEP(t, bufs.copy[p], i[0]));
    });
  }
  V value = call(m_.getFunction(abi_.grad.symbol), abi_.grad, bufs, dims, f);
  if (result_.isScalar()) { // f fails on these inputs: NaN
    llvm::BasicBlock *go = llvm::BasicBlock::Create(c_, "check", f);
    V v = toDouble(value, result_.dtype);
    b_.CreateCondBr(b_.CreateFCmpUNO(v, v), fail, go);
    b_.SetInsertPoint(go);
  }
  V worst = LoopNest::entryAlloca(b_, b_.getDoubleTy());
  b_.CreateStore(llvm::ConstantFP::get(b_.getDoubleTy(), 0.0), worst);
  auto fabs = [&](V x) { return b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x); };
  auto maxOne = [&](V x) { // max(x, 1) for x >= 0
    V one = llvm::ConstantFP::get(b_.getDoubleTy(), 1.0);
    return b_.CreateSelect(b_.CreateFCmpOGT(x, one), x, one);
  };
  for (size_t p = 0; p < fn_.params.size(); ++p) {
    const ParamInfo &pi = fn_.params[p];
    if (pi.isConst || !isFloat(pi.type.dtype))
      continue;
    DType dt = pi.type.dtype;
    llvm::Type *t = llvmType(c_, dt);
    bool scalar = pi.type.isScalar();
    V n = scalar ? b_.getInt64(1) : count(pi.type.shape, dims);
    LoopNest::forEach(b_, {n}, [&](const std::vector<V> &i) {
      V xp = scalar ? bufs.copy[p] : b_.CreateInBoundsGEP(t, bufs.copy[p], i[0]);
      V gp = scalar ? bufs.grad[p] : b_.CreateInBoundsGEP(t, bufs.grad[p], i[0]);
      V x = b_.CreateLoad(t, xp);
      double step = dt == DType::F32 ? 5e-3 : 6e-6; // cbrt(epsilon)
      V h = convertValue(b_, b_.CreateFMul(llvm::ConstantFP::get(b_.getDoubleTy(), step), maxOne(fabs(toDouble(x, dt)))),
                         DType::F64, dt);
      V up = b_.CreateFAdd(x, h), down = b_.CreateFSub(x, h);
      b_.CreateStore(up, xp);
      V fu = objective(bufs, dims, f);
      b_.CreateStore(down, xp);
      V fd = objective(bufs, dims, f);
      b_.CreateStore(x, xp);
      V d = b_.CreateFDiv(b_.CreateFSub(fu, fd), b_.CreateFSub(toDouble(up, dt), toDouble(down, dt)));
      V g = toDouble(b_.CreateLoad(t, gp), dt);
      V ag = fabs(g), ad = fabs(d);
      V scale = maxOne(b_.CreateSelect(b_.CreateFCmpOGT(ag, ad), ag, ad));
      V e = b_.CreateFDiv(fabs(b_.CreateFSub(g, d)), scale);
      V w = b_.CreateLoad(b_.getDoubleTy(), worst);
      b_.CreateStore(b_.CreateSelect(b_.CreateFCmpOLE(e, w), w, e), worst); // NaN stays
    });
  }
  b_.CreateRet(b_.CreateLoad(b_.getDoubleTy(), worst));

  // size_t f_gradcheck_workspace_size(dims...).
  std::vector<llvm::Type *> dimTypes(abi_.dimArgs.size(), b_.getInt64Ty());
  auto *sf = llvm::Function::Create(llvm::FunctionType::get(b_.getInt64Ty(), dimTypes, false),
                                    llvm::Function::ExternalLinkage, abi_.gradcheckWorkspaceSizeSymbol, m_);
  b_.SetInsertPoint(llvm::BasicBlock::Create(c_, "entry", sf));
  std::vector<V> sdims = dimsFrom(sf);
  std::vector<V> sdimArgs;
  for (llvm::Argument &a : sf->args())
    sdimArgs.push_back(&a);
  // SIZE_MAX for dims out of range (negative, or sizes too large to index: ABI.md).
  llvm::BasicBlock *sizeFail = llvm::BasicBlock::Create(c_, "out_of_range", sf);
  llvm::BasicBlock *sizeOk = llvm::BasicBlock::Create(c_, "sized", sf);
  b_.CreateCondBr(dimsOk(sdimArgs, sdims), sizeOk, sizeFail);
  b_.SetInsertPoint(sizeFail);
  b_.CreateRet(b_.getInt64(UINT64_MAX));
  b_.SetInsertPoint(sizeOk);
  Buffers sizes = layout(sdims, nullptr);
  b_.CreateRet(b_.CreateSelect(sizes.valid, sizes.size, b_.getInt64(UINT64_MAX)));
}

} // namespace

void emitGradCheck(llvm::Module &m, const Function &fn, const AbiSet &abi,
                   const std::map<int32_t, int64_t> &boundDims) {
  GradCheckEmitter(m, fn, abi, boundDims).emit();
}

} // namespace gradc
