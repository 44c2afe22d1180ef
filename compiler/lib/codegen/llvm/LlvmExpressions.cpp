// LlvmExpressions.cpp: loop IR expressions as LLVM instructions (LlvmFunctionPrinter.h).
// Pure expressions are computed once per scope, the others once per statement.
#include "codegen/llvm/LlvmFunctionPrinter.h"

#include "gradc/Diagnostics.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <algorithm>

namespace gradc::llvmgen {

using loops::BufferKind;
using loops::Callee;
using loops::Expr;
using loops::ExprId;
using loops::Kind;
using loops::Math;
using loops::Op;
using loops::Ty;

// Pure: no loads, locals or calls of other functions below: the value is the same wherever
// it is computed in a scope. Known once the operands' is (they are printed first).
bool LlvmFunctionPrinter::pureOver(const Expr &x) const {
  bool ssaLocal = x.op == Op::Local && !locals_[static_cast<size_t>(x.ref)];
  bool result = x.op != Op::Load && (x.op != Op::Local || ssaLocal) && x.op != Op::Hole &&
                !(x.op == Op::Call && !(x.flags & loops::kMathCall)) &&
                !(x.op == Op::Addr && f_.buffers()[static_cast<size_t>(x.ref)].kind == BufferKind::View);
  for (ExprId o : x.ops)
    result = result && pure_[static_cast<size_t>(o)];
  return result;
}

LV LlvmFunctionPrinter::lookup(ExprId e) {
  size_t i = static_cast<size_t>(e);
  if (stmtStamp_[i] == stamp_)
    return stmtValue_[i];
  return pureValue_[i];
}

// What `e` reads that must be printed before it: its operands and a view's base.
template <class Visit> void LlvmFunctionPrinter::inputs(const Expr &x, Visit visit) {
  if ((x.op == Op::Load || x.op == Op::Addr) && f_.buffers()[static_cast<size_t>(x.ref)].kind == BufferKind::View)
    visit(f_.buffers()[static_cast<size_t>(x.ref)].base);
  for (ExprId o : x.ops)
    visit(o);
}

// Inputs before users, with a stack of our own: an expression may be as deep as the program
// (a fused chain of 100k element operations).
LV LlvmFunctionPrinter::expr(ExprId root) {
  if (LV v = lookup(root))
    return v;
  size_t bottom = work_.size();
  work_.push_back({root, false});
  while (work_.size() > bottom) {
    auto [e, expanded] = work_.back();
    if (lookup(e)) {
      work_.pop_back();
      continue;
    }
    if (!expanded) {
      work_.back().second = true;
      size_t first = work_.size();
      inputs(f_.expr(e), [&](ExprId o) {
        if (!lookup(o))
          work_.push_back({o, false});
      });
      std::reverse(work_.begin() + static_cast<std::ptrdiff_t>(first), work_.end()); // the first input first
      continue;
    }
    work_.pop_back();
    LV v = compute(e);
    size_t i = static_cast<size_t>(e);
    pure_[i] = pureOver(f_.expr(e));
    if (pure_[i]) {
      pureValue_[i] = v;
      scopes_.back().push_back(e); // forgotten when its scope ends (the value no longer dominates)
    } else {
      stmtValue_[i] = v;
      stmtStamp_[i] = stamp_;
    }
  }
  return lookup(root);
}

void LlvmFunctionPrinter::closeScope() {
  for (ExprId e : scopes_.back())
    pureValue_[static_cast<size_t>(e)] = nullptr;
  scopes_.pop_back();
}

LV LlvmFunctionPrinter::base(int32_t buffer) {
  const loops::Buffer &buf = f_.buffers()[static_cast<size_t>(buffer)];
  switch (buf.kind) {
  case BufferKind::Arg:
    return fn_->getArg(static_cast<unsigned>(buf.arg));
  case BufferKind::Stack:
    return stack_[static_cast<size_t>(buffer)];
  case BufferKind::View:
    return expr(buf.base);
  }
  return nullptr;
}

LV LlvmFunctionPrinter::address(int32_t buffer, ExprId index, bool inBounds) {
  const Expr &i = f_.expr(index);
  if (i.op == Op::Int && i.i == 0 && i.type.lanes == 1) // the base itself: no instruction
    return base(buffer);
  llvm::Type *elem = llvmTy(c_, f_.buffers()[static_cast<size_t>(buffer)].elem);
  return inBounds ? b_.CreateInBoundsGEP(elem, base(buffer), expr(index)) : b_.CreateGEP(elem, base(buffer), expr(index));
}

LV LlvmFunctionPrinter::binary(const Expr &x) {
  LV a = expr(x.ops[0]), b = expr(x.ops[1]);
  Kind k = x.type.kind;
  bool fp = x.type.isFloat(), u = k == Kind::U64;
  bool nsw = k == Kind::I64 || k == Kind::I32; // index arithmetic never wraps: sizes are checked
  LV v = nullptr;
  switch (x.op) {
  case Op::Add:
    v = fp ? b_.CreateFAdd(a, b) : b_.CreateAdd(a, b, "", false, nsw);
    break;
  case Op::Sub:
    v = fp ? b_.CreateFSub(a, b) : b_.CreateSub(a, b, "", false, nsw);
    break;
  case Op::Mul:
    v = fp ? b_.CreateFMul(a, b) : b_.CreateMul(a, b, "", false, nsw);
    break;
  case Op::Div:
    v = fp ? b_.CreateFDiv(a, b) : u ? b_.CreateUDiv(a, b) : b_.CreateSDiv(a, b);
    break;
  case Op::Rem:
    v = u ? b_.CreateURem(a, b) : b_.CreateSRem(a, b);
    break;
  case Op::Min:
    v = b_.CreateSelect(u ? b_.CreateICmpULT(a, b) : b_.CreateICmpSLT(a, b), a, b);
    break;
  case Op::Max:
    v = b_.CreateSelect(u ? b_.CreateICmpUGT(a, b) : b_.CreateICmpSGT(a, b), a, b);
    break;
  default:
    break;
  }
  if ((x.flags & loops::kReassoc))
    if (auto *inst = llvm::dyn_cast<llvm::Instruction>(v)) {
      llvm::FastMathFlags fmf = inst->getFastMathFlags();
      fmf.setAllowReassoc();
      inst->setFastMathFlags(fmf);
    }
  return v;
}

LV LlvmFunctionPrinter::compare(const Expr &x) {
  LV a = expr(x.ops[0]), b = expr(x.ops[1]);
  Ty t = f_.type(x.ops[0]);
  using P = llvm::CmpInst::Predicate;
  if (t.isFloat()) {
    static const P preds[] = {P::FCMP_OLT, P::FCMP_OLE, P::FCMP_OGT, P::FCMP_OGE, P::FCMP_OEQ, P::FCMP_UNE};
    return b_.CreateFCmp(preds[static_cast<int>(x.op) - static_cast<int>(Op::Lt)], a, b);
  }
  bool u = t.kind == Kind::U64 || t.kind == Kind::Bool || t.kind == Kind::Ptr;
  static const P signedPreds[] = {P::ICMP_SLT, P::ICMP_SLE, P::ICMP_SGT, P::ICMP_SGE, P::ICMP_EQ, P::ICMP_NE};
  static const P unsignedPreds[] = {P::ICMP_ULT, P::ICMP_ULE, P::ICMP_UGT, P::ICMP_UGE, P::ICMP_EQ, P::ICMP_NE};
  size_t k = static_cast<size_t>(x.op) - static_cast<size_t>(Op::Lt);
  return b_.CreateICmp(u ? unsignedPreds[k] : signedPreds[k], a, b);
}

LV LlvmFunctionPrinter::math(const Expr &x) {
  LV a = expr(x.ops[0]);
  Math fn = static_cast<Math>(x.ref);
  switch (fn) {
  case Math::Sqrt:
    return b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, a);
  case Math::Fabs:
    return b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, a);
  case Math::Floor:
    return b_.CreateUnaryIntrinsic(llvm::Intrinsic::floor, a);
  case Math::Ceil:
    return b_.CreateUnaryIntrinsic(llvm::Intrinsic::ceil, a);
  case Math::Trunc:
    return b_.CreateUnaryIntrinsic(llvm::Intrinsic::trunc, a);
  case Math::Nearbyint:
    return b_.CreateUnaryIntrinsic(llvm::Intrinsic::nearbyint, a);
  case Math::Maximum: // NaN-propagating, vectorizable as a reduction
    return b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, a, expr(x.ops[1]));
  case Math::Minimum:
    return b_.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, a, expr(x.ops[1]));
  default:
    break;
  }
  // The C library's functions, called by name: LLVM knows them (it folds and vectorizes
  // them as it does its intrinsics), and fast instruction selection handles plain calls.
  llvm::Type *t = a->getType();
  std::string name = std::string(mathFnInfo(fn).name) + (t->isFloatTy() ? "f" : "");
  bool two = mathFnInfo(fn).arity == 2;
  llvm::FunctionType *fty = two ? llvm::FunctionType::get(t, {t, t}, false) : llvm::FunctionType::get(t, {t}, false);
  llvm::FunctionCallee callee = fn_->getParent()->getOrInsertFunction(name, fty);
  if (auto *decl = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
    // As with -fno-math-errno: no side effects, so unused calls go and calls are hoisted.
    decl->setDoesNotThrow();
    decl->setDoesNotAccessMemory();
    decl->addFnAttr(llvm::Attribute::WillReturn);
  }
  llvm::CallInst *call = two ? b_.CreateCall(callee, {a, expr(x.ops[1])}) : b_.CreateCall(callee, {a});
  call->setDoesNotAccessMemory();
  return call;
}

LV LlvmFunctionPrinter::cast(const Expr &x) {
  LV a = expr(x.ops[0]);
  Ty from = f_.type(x.ops[0]), to = x.type;
  llvm::Type *t = llvmTy(c_, to);
  if (from.kind == Kind::Ptr)
    return b_.CreatePtrToInt(a, t);
  if (from.isFloat() && to.isFloat())
    return b_.CreateFPCast(a, t);
  if (from.kind == Kind::Bool)
    return to.isFloat() ? b_.CreateUIToFP(a, t) : b_.CreateZExt(a, t);
  if (to.isFloat())
    return b_.CreateSIToFP(a, t);
  if (from.isFloat())
    return b_.CreateFPToSI(a, t);
  return b_.CreateSExtOrTrunc(a, t);
}

LV LlvmFunctionPrinter::load(const Expr &x) {
  int32_t buffer = x.ref;
  llvm::Type *t = llvmTy(c_, x.type);
  llvm::Align align(static_cast<uint64_t>(loops::kindBytes(x.type.kind)));
  LV p = address(buffer, x.ops[0], true);
  llvm::Instruction *inst = nullptr;
  if (x.ops.size() > 1)
    inst = b_.CreateMaskedLoad(t, p, align, expr(x.ops[1]), llvm::Constant::getNullValue(t));
  else
    inst = b_.CreateAlignedLoad(t, p, align);
  annotate(inst, buffer);
  return inst;
}

LV LlvmFunctionPrinter::call(const Expr &x) {
  const Callee &c = f_.callees()[static_cast<size_t>(x.ref)];
  std::vector<llvm::Type *> params;
  for (Ty t : c.params)
    params.push_back(llvmTy(c_, t));
  llvm::Function *callee = declare(*fn_->getParent(), c.symbol, llvm::FunctionType::get(llvmTy(c_, c.ret), params, false));
  callee->setDoesNotThrow();
  if (c.readsArgMemoryOnly)
    callee->setMemoryEffects(llvm::MemoryEffects::argMemOnly());
  std::vector<LV> args;
  for (ExprId a : x.ops)
    args.push_back(expr(a));
  llvm::CallInst *call = b_.CreateCall(callee, args);
  if (x.flags & loops::kInlineCall)
    call->addFnAttr(llvm::Attribute::AlwaysInline);
  return call;
}

LV LlvmFunctionPrinter::compute(ExprId e) {
  const Expr &x = f_.expr(e);
  switch (x.op) {
  case Op::Int:
    if (x.type.kind == Kind::Ptr)
      return llvm::ConstantPointerNull::get(llvm::PointerType::get(c_, 0));
    return llvm::ConstantInt::get(llvmTy(c_, x.type), static_cast<uint64_t>(x.i), true);
  case Op::Float:
    return llvm::ConstantFP::get(llvmTy(c_, x.type), x.f());
  case Op::Arg:
    return fn_->getArg(static_cast<unsigned>(x.ref));
  case Op::Var:
    return vars_[static_cast<size_t>(x.ref)];
  case Op::Local:
    if (!locals_[static_cast<size_t>(x.ref)])
      return values_[static_cast<size_t>(x.ref)];
    return b_.CreateLoad(llvmTy(c_, x.type), locals_[static_cast<size_t>(x.ref)]);
  case Op::Hole:
    return holes_[static_cast<size_t>(x.ref)];
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Rem:
  case Op::Min:
  case Op::Max:
    return binary(x);
  case Op::Neg:
    return x.type.isFloat() ? b_.CreateFNeg(expr(x.ops[0])) : b_.CreateNSWNeg(expr(x.ops[0]));
  case Op::Lt:
  case Op::Le:
  case Op::Gt:
  case Op::Ge:
  case Op::Eq:
  case Op::Ne:
    return compare(x);
  case Op::And:
    return b_.CreateAnd(expr(x.ops[0]), expr(x.ops[1]));
  case Op::Or:
    return b_.CreateOr(expr(x.ops[0]), expr(x.ops[1]));
  case Op::Not:
    return b_.CreateNot(expr(x.ops[0]));
  case Op::IsNaN:
    return b_.CreateFCmpUNO(expr(x.ops[0]), expr(x.ops[0]));
  case Op::Select:
    return b_.CreateSelect(expr(x.ops[0]), expr(x.ops[1]), expr(x.ops[2]));
  case Op::Fma:
    return b_.CreateIntrinsic(llvm::Intrinsic::fmuladd, {llvmTy(c_, x.type)},
                              {expr(x.ops[0]), expr(x.ops[1]), expr(x.ops[2])});
  case Op::Call:
    return (x.flags & loops::kMathCall) ? math(x) : call(x);
  case Op::Cast:
    return cast(x);
  case Op::Load:
    return load(x);
  case Op::Addr:
    return address(x.ref, x.ops[0], false);
  case Op::Broadcast:
    return b_.CreateVectorSplat(x.type.lanes, expr(x.ops[0]));
  case Op::Ramp: {
    std::vector<llvm::Constant *> lanes;
    for (uint16_t l = 0; l < x.type.lanes; ++l)
      lanes.push_back(b_.getInt64(l));
    return b_.CreateAdd(b_.CreateVectorSplat(x.type.lanes, expr(x.ops[0])), llvm::ConstantVector::get(lanes), "",
                        false, true);
  }
  case Op::ReduceAdd: {
    llvm::IRBuilder<>::FastMathFlagGuard guard(b_);
    llvm::FastMathFlags fmf;
    fmf.setAllowReassoc();
    fmf.setAllowContract();
    b_.setFastMathFlags(fmf);
    return b_.CreateFAddReduce(llvm::ConstantFP::get(llvmTy(c_, x.type), 0.0), expr(x.ops[0]));
  }
  }
  internalError("the LLVM printer has no spelling for a loop IR node");
}

} // namespace gradc::llvmgen
