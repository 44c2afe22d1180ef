// LlvmPrinter.cpp: loop IR -> LLVM IR (LlvmPrinter.h): types, declarations, each function's
// entry (arguments, allocas) and the alias scopes of its disjoint buffers, string tables.
// Expressions are printed in LlvmExpressions.cpp, statements in LlvmStatements.cpp.
#include "codegen/llvm/LlvmPrinter.h"
#include "codegen/llvm/LlvmFunctionPrinter.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>

#include <map>

namespace gradc::llvmgen {

using loops::BufferKind;
using loops::Func;
using loops::Kind;
using loops::Linkage;
using loops::Param;
using loops::SOp;
using loops::Stmt;
using loops::StmtId;
using loops::StringTable;
using loops::Ty;

namespace {

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

llvm::FunctionType *functionType(llvm::LLVMContext &c, const Func &f) {
  std::vector<llvm::Type *> params;
  for (const Param &p : f.params)
    params.push_back(llvmTy(c, p.type));
  return llvm::FunctionType::get(llvmTy(c, f.ret), params, false);
}

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

llvm::Type *llvmTy(llvm::LLVMContext &c, Ty t) {
  llvm::Type *s = scalarType(c, t.kind);
  return t.lanes > 1 ? llvm::FixedVectorType::get(s, t.lanes) : s;
}

llvm::Function *declare(llvm::Module &m, const std::string &symbol, llvm::FunctionType *type,
                        llvm::GlobalValue::LinkageTypes linkage) {
  if (llvm::Function *f = m.getFunction(symbol))
    return f;
  return llvm::Function::Create(type, linkage, symbol, m);
}

LlvmFunctionPrinter::LlvmFunctionPrinter(const Func &f, llvm::Function *fn)
    : f_(f), fn_(fn), c_(fn->getContext()), b_(c_) {
  // a*b+c may become one fused multiply-add (as C compilers do by default): rounding once
  // instead of twice changes results in the last bit only.
  llvm::FastMathFlags contract;
  contract.setAllowContract();
  b_.setFastMathFlags(contract);
}

void LlvmFunctionPrinter::print() {
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
  for (const loops::Buffer &buf : f_.buffers()) {
    llvm::AllocaInst *a = nullptr;
    if (buf.kind == BufferKind::Stack) {
      a = b_.CreateAlloca(llvm::ArrayType::get(llvmTy(c_, buf.elem), static_cast<uint64_t>(buf.elems)), nullptr,
                          buf.name);
      if (buf.align > 0)
        a->setAlignment(llvm::Align(static_cast<uint64_t>(buf.align)));
    }
    stack_.push_back(a);
  }
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

// Alias scopes of disjoint buffers (workspace slots).
void LlvmFunctionPrinter::disjointScopes() {
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

void LlvmFunctionPrinter::annotate(llvm::Instruction *inst, int32_t buffer) {
  if (own_[static_cast<size_t>(buffer)]) {
    inst->setMetadata(llvm::LLVMContext::MD_alias_scope, own_[static_cast<size_t>(buffer)]);
    inst->setMetadata(llvm::LLVMContext::MD_noalias, others_[static_cast<size_t>(buffer)]);
  }
}

} // namespace gradc::llvmgen

namespace gradc {

using namespace llvmgen;

void printLlvm(const loops::Func &f, llvm::Module &out) {
  llvm::Function *fn = declare(out, f.symbol, functionType(out.getContext(), f), linkageOf(f.linkage));
  if (f.shared && !fn->empty()) // defined already, alike
    return;
  fn->setLinkage(linkageOf(f.linkage));
  fn->setDoesNotThrow();
  if (f.noinline)
    fn->addFnAttr(llvm::Attribute::NoInline);
  LlvmFunctionPrinter(f, fn).print();
}

void printLlvm(const loops::Module &m, llvm::Module &out) {
  for (const auto &f : m.funcs)
    printLlvm(*f, out);
  for (const StringTable &t : m.tables)
    printStringTable(out, t);
}

} // namespace gradc
