// LlvmPrinter.cpp: each loop IR statement as LLVM instructions. Loops are rotated (the form
// LLVM's loop passes expect); locals and stack buffers are allocas in the entry block (mem2reg
// makes locals registers); pure expressions are computed once per scope, the others once per
// statement.
#include "codegen/llvm/LlvmPrinter.h"

#include "gradc/Diagnostics.h"

#include <algorithm>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>

#include <map>
#include <unordered_map>

namespace gradc::llvmgen {

using loops::BufferKind;
using loops::Callee;
using loops::Expr;
using loops::ExprId;
using loops::Func;
using loops::Kind;
using loops::Linkage;
using loops::Local;
using loops::Math;
using loops::Op;
using loops::Param;
using loops::SOp;
using loops::Stmt;
using loops::StmtId;
using loops::StringTable;
using loops::Ty;
using loops::kNone;

namespace {

using LV = llvm::Value *;

llvm::Type *scalarType(llvm::LLVMContext &c, Kind k) {
  switch (k) {
  case Kind::Void:
    return llvm::Type::getVoidTy(c);
  case Kind::Bool:
    return llvm::Type::getInt1Ty(c);
  case Kind::I8:
    return llvm::Type::getInt8Ty(c);
  case Kind::I32:
    return llvm::Type::getInt32Ty(c);
  case Kind::I64:
  case Kind::U64:
    return llvm::Type::getInt64Ty(c);
  case Kind::F32:
    return llvm::Type::getFloatTy(c);
  case Kind::F64:
    return llvm::Type::getDoubleTy(c);
  case Kind::Ptr:
    return llvm::PointerType::get(c, 0);
  }
  return nullptr;
}

llvm::Type *llvmTy(llvm::LLVMContext &c, Ty t) {
  llvm::Type *s = scalarType(c, t.kind);
  return t.lanes > 1 ? llvm::FixedVectorType::get(s, t.lanes) : s;
}

llvm::FunctionType *functionType(llvm::LLVMContext &c, const Func &f) {
  std::vector<llvm::Type *> params;
  for (const Param &p : f.params)
    params.push_back(llvmTy(c, p.type));
  return llvm::FunctionType::get(llvmTy(c, f.ret), params, false);
}

llvm::Function *declare(llvm::Module &m, const std::string &symbol, llvm::FunctionType *type,
                        llvm::GlobalValue::LinkageTypes linkage = llvm::Function::ExternalLinkage) {
  if (llvm::Function *f = m.getFunction(symbol))
    return f;
  return llvm::Function::Create(type, linkage, symbol, m);
}

class FuncPrinter {
public:
  FuncPrinter(const Func &f, llvm::Function *fn) : f_(f), fn_(fn), c_(fn->getContext()), b_(c_) {
    // a*b+c may become one fused multiply-add (as C compilers do by default): rounding once
    // instead of twice changes results in the last bit only.
    llvm::FastMathFlags contract;
    contract.setAllowContract();
    b_.setFastMathFlags(contract);
  }

  void print() {
    llvm::BasicBlock *entry = llvm::BasicBlock::Create(c_, "entry", fn_);
    b_.SetInsertPoint(entry);
    for (size_t i = 0; i < f_.params.size(); ++i) {
      llvm::Argument *a = fn_->getArg(static_cast<unsigned>(i));
      a->setName(f_.params[i].name);
      if (f_.params[i].noalias)
        a->addAttr(llvm::Attribute::NoAlias);
    }
    // A local set only by its let is a value (SSA), as the scalars of long straight-line code
    // are: no memory, even where no pass runs (level 0). The others live in allocas, which
    // mem2reg makes registers.
    std::vector<bool> reassigned(f_.locals().size(), false);
    for (size_t s = 0; s < f_.stmtCount(); ++s) {
      const Stmt &st = f_.stmt(static_cast<StmtId>(s));
      if (st.op == SOp::Assign || st.op == SOp::Accumulate)
        reassigned[static_cast<size_t>(st.ref)] = true;
    }
    values_.assign(f_.locals().size(), nullptr);
    for (size_t l = 0; l < f_.locals().size(); ++l)
      locals_.push_back(reassigned[l] ? b_.CreateAlloca(llvmTy(c_, f_.locals()[l].type)) : nullptr);
    for (const loops::Buffer &buf : f_.buffers())
      stack_.push_back(buf.kind == BufferKind::Stack
                           ? b_.CreateAlloca(llvm::ArrayType::get(llvmTy(c_, buf.elem), static_cast<uint64_t>(buf.elems)),
                                             nullptr, buf.name)
                           : nullptr);
    disjointScopes();
    vars_.assign(static_cast<size_t>(f_.vars()), nullptr);
    pure_.assign(f_.exprCount(), -1);
    pureValue_.assign(f_.exprCount(), nullptr);
    stmtValue_.assign(f_.exprCount(), nullptr);
    stmtStamp_.assign(f_.exprCount(), 0);
    openScope();
    stmt(f_.body);
    if (!b_.GetInsertBlock()->getTerminator()) // a void function's last statement may fall off
      f_.ret.kind == Kind::Void ? static_cast<void>(b_.CreateRetVoid()) : static_cast<void>(b_.CreateUnreachable());
  }

private:
  // --- alias scopes of disjoint buffers (workspace slots) ---
  void disjointScopes() {
    std::map<int32_t, std::vector<size_t>> groups;
    for (size_t k = 0; k < f_.buffers().size(); ++k)
      if (f_.buffers()[k].disjointGroup >= 0)
        groups[f_.buffers()[k].disjointGroup].push_back(k);
    own_.assign(f_.buffers().size(), nullptr);
    others_.assign(f_.buffers().size(), nullptr);
    llvm::MDBuilder md(c_);
    for (auto &[g, members] : groups) {
      if (members.size() < 2)
        continue;
      llvm::MDNode *domain = md.createAnonymousAliasScopeDomain("gradc.group" + std::to_string(g));
      std::vector<llvm::Metadata *> scopes;
      for (size_t k : members)
        scopes.push_back(md.createAnonymousAliasScope(domain, f_.buffers()[k].name));
      for (size_t i = 0; i < members.size(); ++i) {
        std::vector<llvm::Metadata *> rest;
        for (size_t j = 0; j < members.size(); ++j)
          if (j != i)
            rest.push_back(scopes[j]);
        own_[members[i]] = llvm::MDNode::get(c_, {scopes[i]});
        others_[members[i]] = llvm::MDNode::get(c_, rest);
      }
    }
  }
  void annotate(llvm::Instruction *inst, int32_t buffer) {
    if (own_[static_cast<size_t>(buffer)]) {
      inst->setMetadata(llvm::LLVMContext::MD_alias_scope, own_[static_cast<size_t>(buffer)]);
      inst->setMetadata(llvm::LLVMContext::MD_noalias, others_[static_cast<size_t>(buffer)]);
    }
  }

  // --- expressions ---
  // Pure: no loads, locals or calls of other functions below: the value is the same wherever
  // it is computed in a scope. Known once the operands' is (they are printed first).
  bool pureOver(const Expr &x) const {
    bool ssaLocal = x.op == Op::Local && !locals_[static_cast<size_t>(x.ref)];
    bool result = x.op != Op::Load && (x.op != Op::Local || ssaLocal) && x.op != Op::Hole &&
                  !(x.op == Op::Call && !(x.flags & loops::kMathCall)) &&
                  !(x.op == Op::Addr && f_.buffers()[static_cast<size_t>(x.ref)].kind == BufferKind::View);
    for (ExprId o : x.ops)
      result = result && pure_[static_cast<size_t>(o)];
    return result;
  }

  LV lookup(ExprId e) {
    size_t i = static_cast<size_t>(e);
    if (stmtStamp_[i] == stamp_)
      return stmtValue_[i];
    return pureValue_[i];
  }

  // What `e` reads that must be printed before it: its operands and a view's base.
  template <class Visit> void inputs(const Expr &x, Visit visit) {
    if ((x.op == Op::Load || x.op == Op::Addr) && f_.buffers()[static_cast<size_t>(x.ref)].kind == BufferKind::View)
      visit(f_.buffers()[static_cast<size_t>(x.ref)].base);
    for (ExprId o : x.ops)
      visit(o);
  }

  // Inputs before users, with a stack of our own: an expression may be as deep as the program
  // (a fused chain of 100k element operations).
  LV expr(ExprId root) {
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
  void openScope() { scopes_.emplace_back(); }
  void closeScope() {
    for (ExprId e : scopes_.back())
      pureValue_[static_cast<size_t>(e)] = nullptr;
    scopes_.pop_back();
  }
  void newStatement() { ++stamp_; }

  LV base(int32_t buffer) {
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

  LV address(int32_t buffer, ExprId index, bool inBounds) {
    const Expr &i = f_.expr(index);
    if (i.op == Op::Int && i.i == 0 && i.type.lanes == 1) // the base itself: no instruction
      return base(buffer);
    llvm::Type *elem = llvmTy(c_, f_.buffers()[static_cast<size_t>(buffer)].elem);
    return inBounds ? b_.CreateInBoundsGEP(elem, base(buffer), expr(index)) : b_.CreateGEP(elem, base(buffer), expr(index));
  }

  LV binary(const Expr &x) {
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

  LV compare(const Expr &x) {
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

  LV math(const Expr &x) {
    LV a = expr(x.ops[0]);
    Math fn = static_cast<Math>(x.ref);
    switch (fn) {
    case Math::Sqrt:
      return b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, a);
    case Math::Fabs:
      return b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, a);
    case Math::Maximum: // NaN-propagating, vectorizable as a reduction
      return b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, a, expr(x.ops[1]));
    case Math::Minimum:
      return b_.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, a, expr(x.ops[1]));
    default:
      break;
    }
    // The C library's functions, called by name: LLVM knows them (it folds and vectorizes
    // them as it does its intrinsics), and fast instruction selection handles plain calls.
    static const char *const names[][2] = {{"exp", "expf"},   {"log", "logf"}, {"", ""}, {"sin", "sinf"},
                                           {"cos", "cosf"},   {"tanh", "tanhf"}, {"", ""}, {"pow", "powf"}};
    llvm::Type *t = a->getType();
    const char *name = names[static_cast<int>(fn)][t->isFloatTy() ? 1 : 0];
    bool two = fn == Math::Pow;
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

  LV cast(const Expr &x) {
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

  LV load(const Expr &x) {
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

  LV call(const Expr &x) {
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
    return b_.CreateCall(callee, args);
  }

  LV compute(ExprId e) {
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

  // --- statements ---
  bool terminated() { return b_.GetInsertBlock()->getTerminator() != nullptr; }

  void stmt(StmtId s) {
    const Stmt &st = f_.stmt(s);
    if (st.op == SOp::Block) {
      for (StmtId c : st.list) {
        if (terminated()) // after a return: nothing else of the block runs
          break;
        stmt(c);
      }
      return;
    }
    newStatement();
    switch (st.op) {
    case SOp::For:
      loop(st);
      break;
    case SOp::If:
      branch(st);
      break;
    case SOp::Store: {
      LV v = expr(st.b);
      Ty t = f_.type(st.b);
      LV p = address(st.ref, st.a, true);
      llvm::Align align(static_cast<uint64_t>((st.flags & loops::kStreaming) ? 64 : loops::kindBytes(t.kind)));
      llvm::Instruction *inst = nullptr;
      if (st.c != kNone) {
        inst = b_.CreateMaskedStore(v, p, align, expr(st.c));
      } else {
        inst = b_.CreateAlignedStore(v, p, align);
        if (st.flags & loops::kStreaming)
          inst->setMetadata(llvm::LLVMContext::MD_nontemporal,
                            llvm::MDNode::get(c_, llvm::ConstantAsMetadata::get(b_.getInt32(1))));
      }
      annotate(inst, st.ref);
      break;
    }
    case SOp::Let:
    case SOp::Assign: {
      LV v = expr(st.a);
      if (locals_[static_cast<size_t>(st.ref)]) {
        b_.CreateStore(v, locals_[static_cast<size_t>(st.ref)]);
      } else {
        values_[static_cast<size_t>(st.ref)] = v; // unnamed: names cost time in big modules
      }
      break;
    }
    case SOp::Accumulate: {
      llvm::Type *t = llvmTy(c_, f_.locals()[static_cast<size_t>(st.ref)].type);
      LV value = expr(st.a);
      holes_[0] = b_.CreateLoad(t, locals_[static_cast<size_t>(st.ref)]);
      holes_[1] = value;
      // The combine reads the holes (impure: kept for this statement only).
      b_.CreateStore(expr(st.b), locals_[static_cast<size_t>(st.ref)]);
      break;
    }
    case SOp::Prefetch:
      b_.CreateIntrinsic(llvm::Intrinsic::prefetch, {b_.getPtrTy()},
                         {expr(st.a), b_.getInt32(0), b_.getInt32(3), b_.getInt32(1)});
      break;
    case SOp::Eval:
      expr(st.a);
      break;
    case SOp::Return:
      if (st.a == kNone)
        b_.CreateRetVoid();
      else
        b_.CreateRet(expr(st.a));
      break;
    case SOp::Block:
      break;
    }
    newStatement();
  }

  void loop(const Stmt &st) {
    LV begin = expr(st.a), end = expr(st.b);
    llvm::BasicBlock *pre = b_.GetInsertBlock();
    llvm::BasicBlock *body = llvm::BasicBlock::Create(c_, "loop", fn_);
    llvm::BasicBlock *exit = llvm::BasicBlock::Create(c_, "loop.end", fn_);
    b_.CreateCondBr(b_.CreateICmpSLT(begin, end), body, exit);
    b_.SetInsertPoint(body);
    llvm::PHINode *i = b_.CreatePHI(b_.getInt64Ty(), 2, "i" + std::to_string(st.ref));
    i->addIncoming(begin, pre);
    vars_[static_cast<size_t>(st.ref)] = i;
    openScope();
    stmt(st.body);
    closeScope();
    if (!terminated()) {
      LV next = b_.CreateAdd(i, b_.getInt64(1), "", false, true);
      i->addIncoming(next, b_.GetInsertBlock());
      b_.CreateCondBr(b_.CreateICmpSLT(next, end), body, exit);
    }
    b_.SetInsertPoint(exit);
    vars_[static_cast<size_t>(st.ref)] = nullptr;
  }

  void branch(const Stmt &st) {
    LV cond = expr(st.a);
    llvm::BasicBlock *then = llvm::BasicBlock::Create(c_, "then", fn_);
    llvm::BasicBlock *orelse = st.orelse != kNone ? llvm::BasicBlock::Create(c_, "else", fn_) : nullptr;
    llvm::BasicBlock *merge = llvm::BasicBlock::Create(c_, "endif", fn_);
    b_.CreateCondBr(cond, then, orelse ? orelse : merge);
    for (auto [block, s] : {std::pair{then, st.body}, std::pair{orelse, st.orelse}}) {
      if (!block)
        continue;
      b_.SetInsertPoint(block);
      openScope();
      stmt(s);
      closeScope();
      if (!terminated())
        b_.CreateBr(merge);
    }
    b_.SetInsertPoint(merge);
  }

  const Func &f_;
  llvm::Function *fn_;
  llvm::LLVMContext &c_;
  llvm::IRBuilder<> b_;
  std::vector<LV> locals_, stack_, vars_;
  std::vector<LV> values_; // the value of each local set only by its let
  LV holes_[2] = {nullptr, nullptr};
  std::vector<int8_t> pure_;
  std::vector<std::pair<ExprId, bool>> work_; // expressions to print: (id, inputs pushed)
  // Pure values, kept while their scope lasts (the ids each scope set, to forget); the other
  // values, kept for the statement that computed them (stamped with its number).
  std::vector<LV> pureValue_, stmtValue_;
  std::vector<uint32_t> stmtStamp_;
  uint32_t stamp_ = 1;
  std::vector<std::vector<ExprId>> scopes_;
  std::vector<llvm::MDNode *> own_, others_;
};

llvm::GlobalValue::LinkageTypes linkageOf(Linkage l) {
  switch (l) {
  case Linkage::Export:
    return llvm::Function::ExternalLinkage;
  case Linkage::Internal:
    return llvm::Function::InternalLinkage;
  case Linkage::WeakODR:
    return llvm::Function::WeakODRLinkage;
  }
  return llvm::Function::ExternalLinkage;
}

// const char *NAME(int i): the i-th string of `items`, or NULL out of range.
void printStringTable(llvm::Module &m, const StringTable &t) {
  llvm::LLVMContext &c = m.getContext();
  llvm::IRBuilder<> b(c);
  std::vector<llvm::Constant *> ptrs;
  for (const std::string &s : t.items)
    ptrs.push_back(b.CreateGlobalStringPtr(s, "", 0, &m));
  auto *arrayTy = llvm::ArrayType::get(b.getPtrTy(), ptrs.size());
  auto *table = new llvm::GlobalVariable(m, arrayTy, true, llvm::GlobalValue::PrivateLinkage,
                                         llvm::ConstantArray::get(arrayTy, ptrs), t.symbol + ".table");
  llvm::Function *f = declare(m, t.symbol, llvm::FunctionType::get(b.getPtrTy(), {b.getInt32Ty()}, false));
  llvm::BasicBlock *entry = llvm::BasicBlock::Create(c, "entry", f);
  llvm::BasicBlock *in = llvm::BasicBlock::Create(c, "in", f);
  llvm::BasicBlock *out = llvm::BasicBlock::Create(c, "out", f);
  b.SetInsertPoint(entry);
  llvm::Value *i = f->getArg(0);
  b.CreateCondBr(b.CreateICmpULT(i, b.getInt32(static_cast<uint32_t>(t.items.size()))), in, out);
  b.SetInsertPoint(in);
  llvm::Value *slot = b.CreateInBoundsGEP(arrayTy, table, {b.getInt32(0), i});
  b.CreateRet(b.CreateLoad(b.getPtrTy(), slot));
  b.SetInsertPoint(out);
  b.CreateRet(llvm::ConstantPointerNull::get(b.getPtrTy()));
}

} // namespace

} // namespace gradc::llvmgen

namespace gradc {

using namespace llvmgen;

void printLlvm(const loops::Func &f, llvm::Module &out) {
  llvm::Function *fn = declare(out, f.symbol, functionType(out.getContext(), f), linkageOf(f.linkage));
  fn->setLinkage(linkageOf(f.linkage));
  fn->setDoesNotThrow();
  if (f.noinline)
    fn->addFnAttr(llvm::Attribute::NoInline);
  FuncPrinter(f, fn).print();
}

void printLlvm(const loops::Module &m, llvm::Module &out) {
  for (const auto &f : m.funcs)
    printLlvm(*f, out);
  for (const StringTable &t : m.tables)
    printStringTable(out, t);
}

} // namespace gradc
