// LlvmElementBuilder.cpp: scalar and index arithmetic through LLVM's IRBuilder.
#include "backend/LlvmElementBuilder.h"

#include "backend/LlvmTypes.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

namespace gradc {

static bool isFp(DType t) { return t == DType::F64 || t == DType::F32; }

std::vector<Val> wrapAll(std::span<llvm::Value *const> vs) {
  std::vector<Val> out;
  out.reserve(vs.size());
  for (llvm::Value *v : vs)
    out.push_back(wrap(v));
  return out;
}

Val LlvmElementBuilder::konst(double v) {
  llvm::Type *t = llvmType(b_.getContext(), type_);
  if (isFp(type_))
    return wrap(llvm::ConstantFP::get(t, v));
  return wrap(llvm::ConstantInt::get(t, static_cast<uint64_t>(static_cast<int64_t>(v)), true));
}

Val LlvmElementBuilder::add(Val a, Val b) {
  return wrap(isFp(type_) ? b_.CreateFAdd(unwrap(a), unwrap(b)) : b_.CreateAdd(unwrap(a), unwrap(b)));
}
Val LlvmElementBuilder::sub(Val a, Val b) {
  return wrap(isFp(type_) ? b_.CreateFSub(unwrap(a), unwrap(b)) : b_.CreateSub(unwrap(a), unwrap(b)));
}
Val LlvmElementBuilder::mul(Val a, Val b) {
  return wrap(isFp(type_) ? b_.CreateFMul(unwrap(a), unwrap(b)) : b_.CreateMul(unwrap(a), unwrap(b)));
}
Val LlvmElementBuilder::div(Val a, Val b) { return wrap(b_.CreateFDiv(unwrap(a), unwrap(b))); }
Val LlvmElementBuilder::neg(Val a) {
  return wrap(isFp(type_) ? b_.CreateFNeg(unwrap(a)) : b_.CreateNeg(unwrap(a)));
}

Val LlvmElementBuilder::math(MathFn fn, Val av, Val bv) {
  llvm::Value *a = unwrap(av);
  llvm::Type *t = a->getType();
  bool f32 = t->isFloatTy();
  switch (fn) {
  case MathFn::Sqrt:
    return wrap(b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, a));
  case MathFn::Fabs:
    return wrap(b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, a));
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
  llvm::CallInst *call = binary ? b_.CreateCall(f, {a, unwrap(bv)}) : b_.CreateCall(f, {a});
  call->setDoesNotAccessMemory();
  return wrap(call);
}

Val LlvmElementBuilder::compare(int fpred, int ipred, Val a, Val b) {
  if (isFp(type_))
    return wrap(b_.CreateFCmp(static_cast<llvm::CmpInst::Predicate>(fpred), unwrap(a), unwrap(b)));
  return wrap(b_.CreateICmp(static_cast<llvm::CmpInst::Predicate>(ipred), unwrap(a), unwrap(b)));
}

Val LlvmElementBuilder::lt(Val a, Val b) { return compare(llvm::CmpInst::FCMP_OLT, llvm::CmpInst::ICMP_SLT, a, b); }
Val LlvmElementBuilder::le(Val a, Val b) { return compare(llvm::CmpInst::FCMP_OLE, llvm::CmpInst::ICMP_SLE, a, b); }
Val LlvmElementBuilder::gt(Val a, Val b) { return compare(llvm::CmpInst::FCMP_OGT, llvm::CmpInst::ICMP_SGT, a, b); }
Val LlvmElementBuilder::ge(Val a, Val b) { return compare(llvm::CmpInst::FCMP_OGE, llvm::CmpInst::ICMP_SGE, a, b); }
Val LlvmElementBuilder::eq(Val a, Val b) { return compare(llvm::CmpInst::FCMP_OEQ, llvm::CmpInst::ICMP_EQ, a, b); }
Val LlvmElementBuilder::ne(Val a, Val b) { return compare(llvm::CmpInst::FCMP_UNE, llvm::CmpInst::ICMP_NE, a, b); }
Val LlvmElementBuilder::isNaN(Val a) {
  if (!isFp(type_))
    return wrap(b_.getFalse());
  return wrap(b_.CreateFCmpUNO(unwrap(a), unwrap(a)));
}
Val LlvmElementBuilder::select(Val cond, Val a, Val b) {
  return wrap(b_.CreateSelect(unwrap(cond), unwrap(a), unwrap(b)));
}

Val LlvmElementBuilder::reduceAdd(Val a, Val b) {
  llvm::Value *s = b_.CreateFAdd(unwrap(a), unwrap(b));
  if (auto *inst = llvm::dyn_cast<llvm::Instruction>(s)) {
    llvm::FastMathFlags f = inst->getFastMathFlags();
    f.setAllowReassoc();
    inst->setFastMathFlags(f);
  }
  return wrap(s);
}

// LLVM's llvm.maximum/minimum: NaN-propagating and vectorizable as reductions.
Val LlvmElementBuilder::maximum(Val a, Val b) {
  return wrap(b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, unwrap(a), unwrap(b)));
}

Val LlvmElementBuilder::minimum(Val a, Val b) {
  return wrap(b_.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, unwrap(a), unwrap(b)));
}

Val LlvmIndexMapper::dim(const Dim &d) {
  if (d.isLiteral())
    return wrap(b_.getInt64(static_cast<uint64_t>(d.off)));
  llvm::Value *v = dims_[static_cast<size_t>(d.sym)];
  return wrap(d.off == 0 ? v : b_.CreateAdd(v, b_.getInt64(static_cast<uint64_t>(d.off))));
}
Val LlvmIndexMapper::constant(int64_t v) { return wrap(b_.getInt64(static_cast<uint64_t>(v))); }
Val LlvmIndexMapper::add(Val a, Val b) { return wrap(b_.CreateAdd(unwrap(a), unwrap(b), "", true, true)); }

// Whether `shape` has at most kMaxElements elements for `dims` (ir/Type.h), its sizes being
// non-negative (the extents are checked too): K d0 d1 ... <= L for the literal part K, tested
// as d0 <= L/K, d1 <= L/K/d0, ... so that no product is formed that could wrap. A zero size
// makes any shape fit.
llvm::Value *shapeFits(llvm::IRBuilderBase &b, const Graph &g, const std::vector<llvm::Value *> &dims,
                       const Shape &shape) {
  LlvmIndexMapper im(b, g, dims);
  int64_t literal = literalElementCount(shape);
  if (literal == 0)
    return b.getTrue();
  llvm::Value *room = b.getInt64(static_cast<uint64_t>(kMaxElements / literal));
  llvm::Value *fits = b.getTrue(), *anyZero = b.getFalse();
  for (const Dim &d : shape) {
    if (d.isLiteral())
      continue;
    llvm::Value *e = unwrap(im.dim(d));
    llvm::Value *zero = b.CreateICmpEQ(e, b.getInt64(0));
    anyZero = b.CreateOr(anyZero, zero);
    fits = b.CreateAnd(fits, b.CreateICmpULE(e, room));
    room = b.CreateUDiv(room, b.CreateSelect(zero, b.getInt64(1), e));
  }
  return b.CreateOr(anyZero, fits);
}

} // namespace gradc
