// Lowering.h: IR graph -> LLVM IR. One LLVM function per exported C function (the ABI of
// DESIGN.md), tensors as loops over row-major buffers, no allocation.
#pragma once

#include "backend/Abi.h"
#include "backend/HostGemm.h"
#include "ir/Function.h"

#include <map>
#include <memory>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace gradc {

/// What to compile for one source function: its optimized graph and the roots of
/// `f` (the value) and `f_grad` (value, then one gradient per parameter, kNoNode for
/// const parameters). `dOutParam` is the Param index of the upstream gradient.
struct LoweringInput {
  const Function *fn = nullptr; // for names and parameter types
  const Graph *graph = nullptr;
  NodeId value = kNoNode;
  std::vector<NodeId> gradRoots; // value, then gradients
  std::map<int32_t, int64_t> boundDims;
};

struct LoweringOptions {
  /// Straight-line code longer than this many steps is split into noinline chunks
  /// that exchange values through a tape in the workspace (DESIGN.md, compile time).
  size_t chunkSteps = 256;
  size_t chunkThreshold = 2048;
  /// Also emit `f__packed` entries (for callers that know the ABI only at run time).
  bool packedEntries = true;
  /// Large matrix products call the JIT's host functions (backend/HostGemm.h: CBLAS) when
  /// the host has them (hostGemmAvailable(), asked at the first such product). Only the JIT
  /// sets it; emitted code never calls a library for them.
  bool hostGemm = false;
  /// Multiply-adds from which a product calls the host; -1: hostGemmMinWork() at compile time.
  int64_t hostGemmMinWork = -1;
  /// Prepended to every exported symbol (`gradc emit --prefix`).
  std::string prefix;
};

/// Adds f, f_grad, f_workspace_size, and packed entry points `f__packed(void **args)`
/// (one pointer per argument, then one to the result) used by generic callers.
/// Returns the ABI it implemented. The caller verifies the module (llvm::verifyModule).
AbiSet lowerFunction(const LoweringInput &in, llvm::Module &m, const LoweringOptions &opts = {});

namespace loops {
class SourceLowering;
} // namespace loops

/// The same functions lowered in pieces, for compiling on several threads. Piece 0 has the
/// exported functions; when f or f_grad is long straight-line code (chunked), each further
/// piece has a run of its chunks, which piece 0 calls by name across modules. Otherwise, or
/// when not `split`, piece 0 is everything. (The loop IR of loops/LowerModule.h, printed.)
class PieceLowering {
public:
  PieceLowering(const LoweringInput &in, const LoweringOptions &opts, bool split);
  ~PieceLowering();
  const AbiSet &abi() const;
  size_t pieces() const;

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
