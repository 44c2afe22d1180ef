// LowerModule.h: the loop IR of one source function's exports: f, f_grad, f_workspace_size,
// the packed entries of the JIT, and the chunks of long code, as one module or in pieces
// that threads lower (and compile) at the same time.
#pragma once

#include "loops/LoopIR.h"
#include "loops/Plan.h"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace gradc::loops {

struct FunctionPlans;

class SourceLowering {
public:
  /// `split`: long code goes in several pieces (one module each); otherwise one piece.
  /// `halves` (with `split`, for two threads or more): f_grad of many loops, too.
  SourceLowering(const LoweringInput &in, const LoweringOptions &opts, bool split, bool halves = false);
  ~SourceLowering();
  const AbiSet &abi() const { return abi_; }
  /// Piece 0 has the exported functions (and every chunk when not split); piece k > 0 a run
  /// of chunks, which piece 0 calls by name. Code of many loops and no chunks, split, has a
  /// piece 1 instead: the second half of f_grad (SplitTail.h).
  size_t pieces() const { return 1 + chunkPieces_ + (tailPiece_ ? 1 : 0); }
  /// Whether pieces k > 0 are chunks of long straight-line code.
  bool chunked() const { return chunkPieces_ > 0; }
  /// Hands piece `k`'s functions to `sink` one at a time, each verified, as they are made:
  /// only one chunk of long code exists at a time. Thread-safe: any number of pieces at once.
  void lowerPiece(size_t k, const std::function<void(std::unique_ptr<Func>)> &sink) const;
  /// Piece `k`'s functions as one module.
  Module lowerPiece(size_t k) const;

private:
  std::unique_ptr<Func> workspaceSize() const;
  std::unique_ptr<Func> packedEntry(const Func &target, const std::string &symbol) const;

  const LoweringInput &in_;
  const LoweringOptions &opts_;
  AbiSet abi_;
  std::unique_ptr<FunctionPlans> plans_;

  size_t chunksPerPiece_ = 0, chunkPieces_ = 0;
  bool tailPiece_ = false;
  // Piece 0 and the tail piece each lower f_grad and cut it (lowering is deterministic); the
  // first to cut records what it cut, the second must find the same, or the head would call a
  // tail of another signature.
  void checkSameCut(const Func *tail) const;
  mutable std::mutex cutMutex_;
  mutable std::optional<std::string> cut_;
};

} // namespace gradc::loops
