// ElementBuilder.cpp: scalar and index arithmetic through LLVM's IRBuilder.
#include "backend/ElementBuilder.h"

#include "backend/LlvmTypes.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

namespace gradc {

static bool isFp(DType t) { return t == DType::F64 || t == DType::F32; }

Val ElementBuilder::konst(double v) {
  llvm::Type *t = llvmType(b_.getContext(), type_);
  if (isFp(type_))
    return llvm::ConstantFP::get(t, v);
  return llvm::ConstantInt::get(t, static_cast<uint64_t>(static_cast<int64_t>(v)), true);
}

Val ElementBuilder::add(Val a, Val b) { return isFp(type_) ? b_.CreateFAdd(a, b) : b_.CreateAdd(a, b); }
Val ElementBuilder::sub(Val a, Val b) { return isFp(type_) ? b_.CreateFSub(a, b) : b_.CreateSub(a, b); }
Val ElementBuilder::mul(Val a, Val b) { return isFp(type_) ? b_.CreateFMul(a, b) : b_.CreateMul(a, b); }
Val ElementBuilder::div(Val a, Val b) { return b_.CreateFDiv(a, b); }
Val ElementBuilder::neg(Val a) { return isFp(type_) ? b_.CreateFNeg(a) : b_.CreateNeg(a); }

Val ElementBuilder::math(MathFn fn, Val a, Val b) {
  llvm::Type *t = a->getType();
  bool f32 = t->isFloatTy();
  switch (fn) {
  case MathFn::Sqrt:
    return b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, a);
  case MathFn::Fabs:
    return b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, a);
  default:
    break;
  }
  // The C library's functions, called by name: LLVM knows them (it folds and vectorizes
  // them as it does its intrinsics), and fast instruction selection handles plain calls.
  static const char *const names[][2] = {
      {"exp", "expf"}, {"log", "logf"}, {"", ""}, {"sin", "sinf"},
      {"cos", "cosf"}, {"tanh", "tanhf"}, {"", ""}, {"pow", "powf"}};
  const char *name = names[static_cast<int>(fn)][f32 ? 1 : 0];
  bool binary = fn == MathFn::Pow;
  llvm::FunctionType *fty = binary ? llvm::FunctionType::get(t, {t, t}, false)
                                   : llvm::FunctionType::get(t, {t}, false);
  llvm::FunctionCallee f = m_.getOrInsertFunction(name, fty);
  if (auto *decl = llvm::dyn_cast<llvm::Function>(f.getCallee())) {
    // As with -fno-math-errno: no side effects, so unused calls go and calls are hoisted.
    decl->setDoesNotThrow();
    decl->setDoesNotAccessMemory();
    decl->addFnAttr(llvm::Attribute::WillReturn);
  }
  llvm::CallInst *call = binary ? b_.CreateCall(f, {a, b}) : b_.CreateCall(f, {a});
  call->setDoesNotAccessMemory();
  return call;
}

Val ElementBuilder::compare(int fpred, int ipred, Val a, Val b) {
  if (isFp(type_))
    return b_.CreateFCmp(static_cast<llvm::CmpInst::Predicate>(fpred), a, b);
  return b_.CreateICmp(static_cast<llvm::CmpInst::Predicate>(ipred), a, b);
}

Val ElementBuilder::lt(Val a, Val b) { return compare(llvm::CmpInst::FCMP_OLT, llvm::CmpInst::ICMP_SLT, a, b); }
Val ElementBuilder::le(Val a, Val b) { return compare(llvm::CmpInst::FCMP_OLE, llvm::CmpInst::ICMP_SLE, a, b); }
Val ElementBuilder::gt(Val a, Val b) { return compare(llvm::CmpInst::FCMP_OGT, llvm::CmpInst::ICMP_SGT, a, b); }
Val ElementBuilder::ge(Val a, Val b) { return compare(llvm::CmpInst::FCMP_OGE, llvm::CmpInst::ICMP_SGE, a, b); }
Val ElementBuilder::eq(Val a, Val b) { return compare(llvm::CmpInst::FCMP_OEQ, llvm::CmpInst::ICMP_EQ, a, b); }
Val ElementBuilder::ne(Val a, Val b) { return compare(llvm::CmpInst::FCMP_UNE, llvm::CmpInst::ICMP_NE, a, b); }
Val ElementBuilder::isNaN(Val a) {
  if (!isFp(type_))
    return b_.getFalse();
  return b_.CreateFCmpUNO(a, a);
}
Val ElementBuilder::select(Val cond, Val a, Val b) { return b_.CreateSelect(cond, a, b); }

Val ElementBuilder::reduceAdd(Val a, Val b) {
  Val s = b_.CreateFAdd(a, b);
  if (auto *inst = llvm::dyn_cast<llvm::Instruction>(s)) {
    llvm::FastMathFlags f = inst->getFastMathFlags();
    f.setAllowReassoc();
    inst->setFastMathFlags(f);
  }
  return s;
}

Val ElementBuilder::maximum(Val a, Val b) {
  return b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, a, b);
}

Val ElementBuilder::minimum(Val a, Val b) {
  return b_.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, a, b);
}

Val IndexMapper::dim(const Dim &d) {
  if (d.isLiteral())
    return b_.getInt64(static_cast<uint64_t>(d.off));
  Val v = dims_[static_cast<size_t>(d.sym)];
  return d.off == 0 ? v : b_.CreateAdd(v, b_.getInt64(static_cast<uint64_t>(d.off)));
}
Val IndexMapper::constant(int64_t v) { return b_.getInt64(static_cast<uint64_t>(v)); }
Val IndexMapper::add(Val a, Val b) { return b_.CreateAdd(a, b, "", true, true); }

} // namespace gradc
