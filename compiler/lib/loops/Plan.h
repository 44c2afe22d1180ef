// Plan.h: what lowering one exported function decides before any code is made: its
// schedule, its arguments, and the tape of long straight-line code.
#pragma once

#include "loops/LoopIR.h"
#include "loops/LoweringInput.h"
#include "schedule/Schedule.h"

#include <vector>

namespace gradc {

/// The width of the vectors explicit loops use (the tiled kernel, row sweeps): 64 bytes, one
/// cache line and one AVX-512 register.
constexpr int64_t kVectorBytes = 64;
/// A cache line (bytes): what a streaming store writes at once.
constexpr int64_t kCacheLineBytes = 64;
/// The side of the square blocks a loop that reads across rows (a transpose) runs in: one
/// line of f32, two of f64.
constexpr int64_t kTransposeBlock = 16;
/// The alignment of every workspace buffer (bytes): one cache line.
constexpr int64_t kBufferAlign = kCacheLineBytes;

namespace loops {
/// `bytes` (U64) rounded up to a multiple of kBufferAlign.
ExprId alignToBuffer(Func &f, ExprId bytes);
} // namespace loops

/// What lowering one exported function (f or f_grad) decides before any code: its schedule,
/// which argument each parameter and output is, and (chunked code) the tape slot of each
/// scalar that crosses a chunk boundary. Built once, then read by the lowerings of every
/// module part, on any thread.
struct FunctionPlan {
  FunctionPlan(const LoweringInput &in, const AbiFunction &abi, std::vector<NodeId> roots,
               const LoweringOptions &opts);
  FunctionPlan(const FunctionPlan &) = delete; // emitters keep references into it
  FunctionPlan &operator=(const FunctionPlan &) = delete;
  /// Long straight-line code is emitted as chunks of `opts.chunkSteps` steps, each its own
  /// function (docs/CLI.md, "What the compiler does to the graph").
  bool chunked() const { return s.steps.size() > opts.chunkThreshold; }
  size_t chunkCount() const {
    return chunked() ? (s.steps.size() + opts.chunkSteps - 1) / opts.chunkSteps : 0;
  }
  DType outputDtype(size_t root) const;
  /// The chunks whose run computes the value (root 0) and writes no output: f_grad's, run
  /// by f instead of chunks of its own (see emitEntryRunning). 0 when that is not so: the
  /// value is not a scalar step, or those chunks write an output, read d_out, use
  /// workspace buffers or a row sweep.
  size_t valueChunks() const;
  /// The step index of the value (root 0), or npos.
  size_t valueStep() const;

  const LoweringInput &in;
  const AbiFunction &abi;
  std::vector<NodeId> roots;
  const LoweringOptions &opts;
  Schedule s;
  std::vector<int> paramArg;  // Param index -> argument
  std::vector<int> outputArg; // root index -> argument (-1: returned)
  int wsArg = -1;
  std::vector<int32_t> tapeSlot; // chunked code: node -> tape slot
  size_t tapeSlots = 0;

private:
  void assignTape();
};

} // namespace gradc
