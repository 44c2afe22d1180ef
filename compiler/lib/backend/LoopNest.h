// LoopNest.h: counted loop nests in LLVM IR, in the rotated form LLVM's loop passes expect.
#pragma once

#include <llvm/IR/IRBuilder.h>

#include <functional>
#include <vector>

namespace gradc::LoopNest {

/// Emits `for (i0 < e0) for (i1 < e1) ... body(i)` at the builder's insertion point
/// (no iterations when an extent is <= 0) and leaves the builder after the nest.
void forEach(llvm::IRBuilderBase &b, const std::vector<llvm::Value *> &extents,
             const std::function<void(const std::vector<llvm::Value *> &)> &body);

/// Like forEach, but the outermost axis runs over [begin, end) only.
void forRange(llvm::IRBuilderBase &b, llvm::Value *begin, llvm::Value *end,
              const std::vector<llvm::Value *> &inner,
              const std::function<void(const std::vector<llvm::Value *> &)> &body);

/// A stack slot in the function's entry block (promoted to a register by mem2reg).
llvm::Value *entryAlloca(llvm::IRBuilderBase &b, llvm::Type *type);

} // namespace gradc::LoopNest
