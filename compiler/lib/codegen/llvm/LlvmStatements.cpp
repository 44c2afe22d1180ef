// LlvmStatements.cpp: loop IR statements as LLVM instructions (LlvmFunctionPrinter.h). Loops
// are rotated (the form LLVM's loop passes expect); each loop and branch is a scope of pure
// values.
#include "codegen/llvm/LlvmFunctionPrinter.h"
#include "codegen/llvm/Optimize.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <string>
#include <utility>

namespace gradc::llvmgen {

using loops::SOp;
using loops::Stmt;
using loops::StmtId;
using loops::Ty;
using loops::kNone;

bool LlvmFunctionPrinter::terminated() { return b_.GetInsertBlock()->getTerminator() != nullptr; }

void LlvmFunctionPrinter::stmt(StmtId s) {
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
    } else if (st.flags & loops::kStreaming) {
      // One line written at once: signal fences (no instruction) keep the scheduler from
      // putting loads between the pieces of a line wider than the target's vectors.
      b_.CreateFence(llvm::AtomicOrdering::SequentiallyConsistent, llvm::SyncScope::SingleThread);
      inst = b_.CreateAlignedStore(v, p, align);
      inst->setMetadata(llvm::LLVMContext::MD_nontemporal,
                        llvm::MDNode::get(c_, llvm::ConstantAsMetadata::get(b_.getInt32(1))));
      b_.CreateFence(llvm::AtomicOrdering::SequentiallyConsistent, llvm::SyncScope::SingleThread);
    } else {
      inst = b_.CreateAlignedStore(v, p, align);
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

void LlvmFunctionPrinter::loop(const Stmt &st) {
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
    llvm::BranchInst *latch = b_.CreateCondBr(b_.CreateICmpSLT(next, end), body, exit);
    if (st.flags & (loops::kRolled | loops::kShort | loops::kWithinIteration | loops::kCompact))
      latch->setMetadata(llvm::LLVMContext::MD_loop, loopHints(st.flags));
  }
  b_.SetInsertPoint(exit);
  vars_[static_cast<size_t>(st.ref)] = nullptr;
}

// A loop's own metadata (distinct, naming itself, as LLVM's loop metadata must): kRolled,
// kShort, kWithinIteration, kCompact (whose module also gets kCompactModuleFlag).
llvm::MDNode *LlvmFunctionPrinter::loopHints(uint8_t flags) {
  std::vector<llvm::Metadata *> ops{nullptr};
  auto hint = [&](const char *name, llvm::Constant *v) {
    ops.push_back(llvm::MDNode::get(c_, {llvm::MDString::get(c_, name), llvm::ConstantAsMetadata::get(v)}));
  };
  if (flags & loops::kCompact) {
    ops.push_back(llvm::MDNode::get(c_, llvm::MDString::get(c_, "llvm.loop.unroll.disable")));
    hint(kMaskedTailHint, b_.getTrue());
    hint("llvm.loop.interleave.count", b_.getInt32(1));
    llvm::Module &m = *fn_->getParent();
    if (!m.getModuleFlag(kCompactModuleFlag))
      m.addModuleFlag(llvm::Module::Max, kCompactModuleFlag, 1);
  } else if (flags & loops::kRolled) {
    ops.push_back(llvm::MDNode::get(c_, llvm::MDString::get(c_, "llvm.loop.unroll.runtime.disable")));
  }
  if (flags & loops::kShort)
    hint("llvm.loop.interleave.count", b_.getInt32(1));
  if (flags & loops::kWithinIteration) // (the SLP vectorizer still joins an iteration's elements)
    hint("llvm.loop.vectorize.enable", b_.getFalse());
  llvm::MDNode *loop = llvm::MDNode::getDistinct(c_, ops);
  loop->replaceOperandWith(0, loop);
  return loop;
}

void LlvmFunctionPrinter::branch(const Stmt &st) {
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

} // namespace gradc::llvmgen
