// LowerToLlvm.h: a source function's loop IR (loops/LowerModule.h) printed into LLVM modules.
#pragma once

#include "abi/Abi.h"
#include "loops/LoweringInput.h"

#include <memory>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace gradc {

/// Adds f, f_grad, f_workspace_size, and packed entry points `f__packed(void **args)`
/// (one pointer per argument, then one to the result) used by generic callers.
/// Returns the ABI it implemented. The caller verifies the module (llvm::verifyModule).
AbiSet lowerFunction(const LoweringInput &in, llvm::Module &m, const LoweringOptions &opts = {});

namespace loops {
class SourceLowering;
} // namespace loops

/// The same functions lowered in pieces, for compiling on several threads. Piece 0 has the
/// exported functions; when f or f_grad is long straight-line code (chunked), each further
/// piece has a run of its chunks, which piece 0 calls by name across modules; when f_grad
/// has many loops and `halves` is asked, piece 1 has its second half (loops/SplitTail.h). Otherwise, or when not
/// `split`, piece 0 is everything. (The loop IR of loops/LowerModule.h, printed.)
class PieceLowering {
public:
  PieceLowering(const LoweringInput &in, const LoweringOptions &opts, bool split, bool halves = false);
  ~PieceLowering();
  const AbiSet &abi() const;
  size_t pieces() const;
  /// Whether pieces k > 0 are chunks of long straight-line code (not half of a function).
  bool chunked() const;

  /// Lowers pieces into new modules of one LLVM context. One per thread: any number may
  /// lower distinct pieces of one PieceLowering at the same time.
  class Lowerer {
  public:
    Lowerer(const PieceLowering &p, llvm::LLVMContext &ctx) : p_(p), ctx_(ctx) {}
    /// Piece `k` in a new, verified module.
    std::unique_ptr<llvm::Module> lower(size_t k);

  private:
    const PieceLowering &p_;
    llvm::LLVMContext &ctx_;
  };

private:
  const LoweringInput &in_;
  std::unique_ptr<loops::SourceLowering> source_;
};

} // namespace gradc
