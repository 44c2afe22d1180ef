// FunctionLowering.h: one planned exported function (f or f_grad) as loop IR: its entry
// function, its chunks, and its workspace layout. Internal to the lowering; the files that
// lower its parts share it (LowerValues.cpp: arguments, values, elements; LowerSteps.cpp:
// steps; LowerEntry.cpp: checks, entries and chunks; LowerMatMul.cpp; LowerRowSweep.cpp).
#pragma once

#include "loops/Builder.h"
#include "loops/ElementRules.h"
#include "ir/OpTable.h"
#include "loops/Plan.h"
#include "loops/TiledKernel.h"

#include <map>
#include <set>
#include <memory>
#include <string>
#include <optional>
#include <algorithm>
#include <utility>
#include <vector>

namespace gradc::loops {

/// The IR graph's ops (gradc::Op), beside the loop IR's own (loops::Op).
using IrOp = gradc::Op;

/// The loop IR type of an exported function's argument (a dim: I64; an array or the
/// workspace: Ptr; a scalar: its register type), and of its result (Void: written to `out`).
/// Whatever calls an exported function types the call with these.
Ty argTy(const AbiArg &a);
Ty returnTy(const AbiFunction &abi);

class FunctionLowering {
public:
  explicit FunctionLowering(const FunctionPlan &plan) : plan_(plan), g_(*plan.in.graph), s_(plan.s) {}

  /// The exported function: checks, then the steps (or calls of the chunks, which are
  /// `external` symbols when the function spans several modules), copies and the return.
  std::unique_ptr<Func> entry(bool externalChunks);
  /// Chunk `c` (steps [c * chunkSteps, (c + 1) * chunkSteps)), a noinline function of the
  /// entry's signature.
  std::unique_ptr<Func> chunk(size_t c, bool external);
  /// f (this lowering's, a scalar result) as a run of `other`'s first `chunks` chunks, which
  /// compute the value into `other`'s tape: the forward pass of long code compiled once.
  std::unique_ptr<Func> entryRunning(const FunctionPlan &other, size_t chunks, bool externalChunks);
  /// The workspace layout for `dims`, in `f` at `b`: the bytes needed (U64), each buffer's
  /// offset when `offsets` is given, and whether every size is in range and the sum did not
  /// wrap (`valid`, Bool).
  ExprId layout(Func &f, Builder &b, const std::vector<ExprId> &dims, std::vector<ExprId> *offsets,
                ExprId *valid) const;
  /// The symbol of chunk `c`.
  std::string chunkSymbol(size_t c) const;
  /// The loop IR parameters of the function (its C signature).
  std::vector<Param> params() const;
  /// The exported function's C types, as the header declares them.
  void setCSignature(Func &f) const;
  /// The tiled kernels (TiledKernel.h) the functions lowered so far call.
  /// The tiled kernels this function's module must define (LoweringOptions::runtimeKernels).
  const std::set<std::pair<DType, Form>> &kernelsCalled() const { return kernels_; }

private:
  // --- arguments and layout (LowerValues.cpp) ---
  void begin(Func &f);
  DType outputDtype(size_t root) const { return plan_.outputDtype(root); }
  ExprId dimValue(const Dim &d);
  std::vector<ExprId> extentsOf(const Shape &shape);
  bool chunked() const { return plan_.chunked(); }
  int32_t argBuffer(int arg, DType dt);
  int32_t tapeView(DType dt);

  // --- values (LowerValues.cpp) ---
  int32_t bufferOf(NodeId n);
  ExprId linearIndex(const Shape &shape, const std::vector<ExprId> &idx);
  ExprId loadElement(NodeId n, const std::vector<ExprId> &idx);
  void storeValue(int32_t buffer, ExprId index, ExprId v, DType from, DType to);
  ExprId element(NodeId n, const std::vector<ExprId> &idx);
  ExprId compute(NodeId n, const std::vector<ExprId> &idx);
  ExprId gatherElement(NodeId n, const std::vector<ExprId> &idx);
  ExprId elementAs(NodeId n, const std::vector<ExprId> &idx, DType dt) {
    return convert(*f_, element(n, idx), g_.type(n).dtype, dt);
  }
  ExprId scalarOf(NodeId n);
  ExprId readTape(int32_t slot, DType dt);
  ExprId konst(double v, DType t) { return f_->constant(registerTy(t), v); }
  /// An element's value kept in a local where a branch computes it (a gather), or a value
  /// the rest of a step reads several times.
  ExprId keep(ExprId v, const std::string &name);

  // --- steps (LowerSteps.cpp) ---
  void emitStep(NodeId n);
  void emitScalar(NodeId n);
  void storeScalar(NodeId n, ExprId v);
  void emitMaterialize(NodeId n);
  void blockedNest(const std::vector<ExprId> &extents, const std::function<void(const std::vector<ExprId> &)> &body);
  std::vector<int64_t> constantCuts(NodeId n);
  // A part of a loop cut around slices: [from, to); `middle`: every fused gather reads
  // inside its slice there; `single`: at most one index (a branch, not a loop).
  struct SlicePart {
    ExprId from, to;
    bool middle, single;
  };
  std::vector<SlicePart> partsAroundSlices(NodeId n, const std::vector<NodeId> &gathers);
  bool provably(bool inside, ExprId e, ExprId start, ExprId stop) const;
  std::vector<int32_t> beginRiders(const std::vector<const SumRider *> &riders);
  void addRiders(const std::vector<const SumRider *> &riders, const std::vector<int32_t> &sums, ExprId i);
  void endRiders(const std::vector<const SumRider *> &riders, const std::vector<int32_t> &sums);
  ExprId emitReduce(NodeId n, int32_t out);
  void emitScatter(NodeId n, int32_t out);
  void emitScatterAdd(NodeId n, int32_t out);
  void emitScan(NodeId n, int32_t out);
  std::vector<ExprId> gatheredFrom(NodeId n, const std::vector<ExprId> &idx);
  void fill(int32_t buffer, DType dtype, const Shape &shape, ExprId v);
  void emitCopies();
  ExprId combineOf(const OpInfo &info, DType dt);

  // --- entries (LowerEntry.cpp) ---
  ExprId sizesOk();
  ExprId boundsOk();
  void emitFailure();
  void returnNaN();
  void beginEntry(Func &f);
  void setupWorkspace(bool inChunk);

  // --- matrix products (LowerMatMul.cpp) ---
  ExprId emitMatMul(NodeId n, int32_t out);
  bool emitHostGemm(NodeId n, int32_t out);
  void emitRowUpdates(NodeId n, int32_t out);
  bool emitTiledMatMul(NodeId n, int32_t out);
  struct StridedMatrix {
    int32_t buffer = kNone;
    ExprId rowStride = kNone, colStride = kNone;
    ExprId offset = kNone; // of the matrix read, in elements
  };
  StridedMatrix stridedMatrix(NodeId x, const MatrixInMemory &mem);
  bool callGemm(const Callee &gemm, NodeId n, const StridedMatrix &am, const StridedMatrix &bm, int32_t out,
                ExprId outOffset, bool ownKernel);
  void callTiledKernel(DType dt, Form form, NodeId n, const StridedMatrix &am, const StridedMatrix &bm, int32_t out,
                       ExprId outOffset);
  void emitBatchedMatMul(NodeId n, int32_t out);

  // --- row sweeps (LowerRowSweep.cpp) ---
  struct SweepOperands; // what every part of one sweep reads
  struct SweepBlock;    // the updates of one block of rows
  void emitRowSweep(const RowSweep &sw);
  SweepOperands sweepOperands(const RowSweep &sw);
  void chooseStreamingStores(SweepOperands &op);
  SweepBlock prepareSweepBlock(const SweepOperands &op, ExprId i0, int64_t rows);
  void sweepColumns(const SweepOperands &op, ExprId j, ExprId mask, bool streaming, const std::vector<ExprId> &dots,
                    const std::vector<int32_t> &acc, const SweepBlock *upd);
  void sweepAllColumns(const SweepOperands &op, ExprId head, bool streaming, const std::vector<ExprId> &dotRows,
                       const SweepBlock *upd);

  const FunctionPlan &plan_;
  const Graph &g_;
  const Schedule &s_;

  // State of the function being built.
  Func *f_ = nullptr;
  std::unique_ptr<Builder> b_;
  std::vector<ExprId> dims_;
  std::optional<std::vector<int32_t>> neededDims_; // neededDims()
  const std::vector<int32_t> &neededDims();
  std::vector<ExprId> scalars_;       // per node: its value, once computed in this function
  std::vector<NodeId> setScalars_;    // the entries of scalars_ this function set
  std::vector<int32_t> slotBuffers_;  // workspace slot -> view buffer
  std::map<int, int32_t> argBuffers_; // argument -> buffer
  std::map<DType, int32_t> tapeViews_;
  int32_t ws_ = kNone;                // the workspace argument's byte buffer
  bool inChunk_ = false;
  std::map<std::pair<NodeId, std::vector<ExprId>>, ExprId> memo_;
  std::set<std::pair<DType, Form>> kernels_; // the tiled kernels to define
  // Gathers whose outer axis is inside their slice at an index (the loop variable of a split
  // loop's middle part). Keyed by the index too: the same gather read at a shifted index (a
  // nested shift of the same value) is not known inside.
  std::vector<std::pair<NodeId, ExprId>> knownInside_;
  // The part of a split loop being lowered, when its bounds are constants: its variable and
  // [lo, hi). A gather at an index provably inside its slice there reads without a condition,
  // one provably outside is 0 (a nested shift, a piece of a concat).
  struct LoopPart {
    ExprId var = kNone;
    int64_t lo = 0, hi = 0;
  };
  LoopPart part_;
  /// A split loop has at most this many parts (its body is lowered in each).
  static constexpr size_t kMaxLoopParts = 8;
  /// A part of a split loop of at most this many elements, all known now, is lowered
  /// element by element instead of as loops.
  static constexpr int64_t kUnrolledElements = 32;
  bool knownInside(NodeId gather, ExprId index) const {
    return std::find(knownInside_.begin(), knownInside_.end(), std::make_pair(gather, index)) != knownInside_.end();
  }
};

} // namespace gradc::loops
