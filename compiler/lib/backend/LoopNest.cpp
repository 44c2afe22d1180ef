// LoopNest.cpp: one guarded, rotated loop per axis; the body sees every induction variable.
#include "backend/LoopNest.h"

namespace gradc::LoopNest {

static void level(llvm::IRBuilderBase &b, const std::vector<llvm::Value *> &extents, size_t k,
                  std::vector<llvm::Value *> &idx,
                  const std::function<void(const std::vector<llvm::Value *> &)> &body,
                  llvm::Value *begin = nullptr) {
  if (k == extents.size()) {
    body(idx);
    return;
  }
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::LLVMContext &c = b.getContext();
  llvm::BasicBlock *pre = b.GetInsertBlock();
  llvm::BasicBlock *loop = llvm::BasicBlock::Create(c, "loop", f);
  llvm::BasicBlock *exit = llvm::BasicBlock::Create(c, "loop.end", f);
  llvm::Value *n = extents[k];
  llvm::Value *first = begin ? begin : b.getInt64(0);
  b.CreateCondBr(b.CreateICmpSGT(n, first), loop, exit);
  b.SetInsertPoint(loop);
  llvm::PHINode *i = b.CreatePHI(b.getInt64Ty(), 2, "i");
  i->addIncoming(first, pre);
  idx.push_back(i);
  level(b, extents, k + 1, idx, body);
  idx.pop_back();
  llvm::Value *next = b.CreateAdd(i, b.getInt64(1), "i.next", true, true);
  i->addIncoming(next, b.GetInsertBlock());
  b.CreateCondBr(b.CreateICmpSLT(next, n), loop, exit);
  b.SetInsertPoint(exit);
}

void forEach(llvm::IRBuilderBase &b, const std::vector<llvm::Value *> &extents,
             const std::function<void(const std::vector<llvm::Value *> &)> &body) {
  std::vector<llvm::Value *> idx;
  level(b, extents, 0, idx, body);
}

void forRange(llvm::IRBuilderBase &b, llvm::Value *begin, llvm::Value *end,
              const std::vector<llvm::Value *> &inner,
              const std::function<void(const std::vector<llvm::Value *> &)> &body) {
  std::vector<llvm::Value *> extents{end};
  extents.insert(extents.end(), inner.begin(), inner.end());
  std::vector<llvm::Value *> idx;
  level(b, extents, 0, idx, body, begin);
}

llvm::Value *entryAlloca(llvm::IRBuilderBase &b, llvm::Type *type) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::IRBuilder<> entry(&f->getEntryBlock(), f->getEntryBlock().begin());
  return entry.CreateAlloca(type);
}

} // namespace gradc::LoopNest
