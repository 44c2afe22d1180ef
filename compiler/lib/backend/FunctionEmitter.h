// FunctionEmitter.h: the state of lowering one exported function to LLVM IR, shared by the
// files that emit its parts (Lowering.cpp: arguments, values, steps, chunks; LowerMatMul.cpp:
// matrix products). Internal to the backend.
#pragma once

#include "backend/Lowering.h"
#include "backend/LlvmElementBuilder.h"
#include "backend/LlvmTypes.h"
#include "backend/Schedule.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <map>
#include <vector>

namespace gradc::lowering {

using LVal = llvm::Value *;

constexpr int64_t kBufferAlign = 64;

// What lowering one exported function (f or f_grad) decides before any IR: its schedule,
// which argument each parameter and output is, and (chunked code) the tape slot of each
// scalar that crosses a chunk boundary. Built once, then read by the emitters of every
// module part, on any thread.
struct FunctionPlan {
  FunctionPlan(const LoweringInput &in, const AbiFunction &abi, std::vector<NodeId> roots,
               const LoweringOptions &opts);
  FunctionPlan(const FunctionPlan &) = delete; // emitters keep references into it
  FunctionPlan &operator=(const FunctionPlan &) = delete;
  /// Long straight-line code is emitted as chunks of `opts.chunkSteps` steps, each its own
  /// function (DESIGN.md, compile time).
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

// Emits a planned function's LLVM IR into modules of one context: its entry function, and
// any of its chunks (a chunk defined in another module is declared, to be linked).
class FunctionEmitter {
public:
  FunctionEmitter(const FunctionPlan &plan, llvm::LLVMContext &ctx)
      : plan_(plan), in_(plan.in), g_(*plan.in.graph), abi_(plan.abi), roots_(plan.roots),
        ctx_(ctx), b_(ctx_), opts_(plan.opts), s_(plan.s), paramArg_(plan.paramArg),
        outputArg_(plan.outputArg), wsArg_(plan.wsArg), tapeSlot_(plan.tapeSlot),
        tapeSlots_(plan.tapeSlots) {
    // a*b+c may become one fused multiply-add (as C compilers do by default): rounding once
    // instead of twice changes results in the last bit only.
    llvm::FastMathFlags contract;
    contract.setAllowContract();
    b_.setFastMathFlags(contract);
  }

  /// Where the next functions go: a module of the emitter's context.
  void setModule(llvm::Module &m);
  /// The entry function: the steps themselves, or calls of the chunks (declared until
  /// emitChunk defines them here, or for good when another module does). Chunks are
  /// `external` when the function spans several modules.
  llvm::Function *emitEntry(bool externalChunks);
  /// Chunk `c`: the steps [c * chunkSteps, (c + 1) * chunkSteps) of the schedule.
  void emitChunk(size_t c, bool external);
  /// Chunk `c`'s function in the current module (declared if not yet defined).
  llvm::Function *chunkFunction(size_t c, bool external);
  /// The entry function of f (this emitter's, a scalar result) as a run of `other`'s first
  /// chunks `chunks` (other.valueChunks() of them), which compute the value into `other`'s
  /// tape: long straight-line code then compiles its forward pass once, for f_grad, instead
  /// of twice. f's arguments are passed on; f_grad's outputs, which those chunks do not
  /// touch, as null.
  llvm::Function *emitEntryRunning(const FunctionPlan &other, const std::vector<llvm::Function *> &chunks);
  /// Emits the workspace layout for `dims` (indexed by dim symbol): the bytes needed,
  /// and each buffer's offset when `offsets` is given. `valid` receives whether every
  /// buffer's size and their sum are in range (otherwise the bytes are meaningless).
  LVal layout(llvm::IRBuilderBase &b, const std::vector<LVal> &dims, std::vector<LVal> *offsets,
              LVal *valid = nullptr);
  llvm::FunctionType *functionType();

private:
  // --- arguments and layout ---
  DType outputDtype(size_t root) const { return plan_.outputDtype(root); }
  void bindArguments(llvm::Function *f);
  LVal dimValue(const Dim &d) { return unwrap(LlvmIndexMapper(b_, g_, dims_).dim(d)); }
  std::vector<LVal> extentsOf(const Shape &shape);
  bool chunked() const { return plan_.chunked(); }

  // --- values ---
  LVal basePointer(NodeId n);
  LVal elementPointer(LVal base, DType dtype, const Shape &shape, const std::vector<LVal> &idx);
  LVal loadElement(NodeId n, const std::vector<LVal> &idx);
  void storeValue(LVal ptr, LVal v, DType from, DType to);
  LVal element(NodeId n, const std::vector<LVal> &idx);
  LVal compute(NodeId n, const std::vector<LVal> &idx);
  LVal gatherElement(NodeId n, const std::vector<LVal> &idx);
  LVal elementAs(NodeId n, const std::vector<LVal> &idx, DType dt) {
    return convertValue(b_, element(n, idx), g_.type(n).dtype, dt);
  }
  LVal scalarOf(NodeId n);
  LVal readTape(llvm::IRBuilderBase &at, LVal tape, int32_t slot, DType dt);
  LVal konst(double v, DType t);

  // --- steps ---
  void emitStep(NodeId n);
  void emitScalar(NodeId n);
  void storeScalar(NodeId n, LVal v);
  std::vector<LVal> beginRiders(const std::vector<const SumRider *> &riders);
  void addRiders(const std::vector<const SumRider *> &riders, const std::vector<LVal> &sums, LVal i);
  void endRiders(const std::vector<const SumRider *> &riders, const std::vector<LVal> &sums);
  void emitMaterialize(NodeId n);
  LVal emitReduce(NodeId n, LVal out);
  LVal emitMatMul(NodeId n, LVal out);
  bool emitHostGemm(NodeId n, LVal out, llvm::BasicBlock *&join);
  void emitRowUpdates(NodeId n, LVal out);
  bool emitTiledMatMul(NodeId n, LVal out);
  // The tiled kernel's shape: tiles of kTileRows rows of C by one 64-byte vector, blocks of
  // kTileKC along the shared axis and of kTileMCTiles tiles of rows.
  static constexpr int64_t kTileRows = 6, kTileKC = 128, kTileMCTiles = 7;
  struct TiledPacks {
    LVal a = nullptr, b = nullptr;
    std::vector<LVal> acc; // one vector per row of a tile
  };
  const TiledPacks &tiledPacks(DType dt);
  std::map<std::pair<llvm::Function *, DType>, TiledPacks> tiledPacks_;
  struct StridedMatrix {
    LVal base = nullptr, rowStride = nullptr, colStride = nullptr;
  };
  StridedMatrix stridedMatrix(NodeId x, const MatrixInMemory &mem);
  void emitRowSweep(const RowSweep &sw);
  void emitScatter(NodeId n, LVal out);
  void fill(LVal base, DType dtype, const Shape &shape, LVal v);
  void emitCopies();
  LVal sizesOk();
  LVal boundsOk();
  void emitFailure();
  llvm::Function *beginEntry();
  void setupWorkspace(bool inChunk);
  void annotateBufferAliasing(llvm::Function *f);

  // The plan, and short names for its parts.
  const FunctionPlan &plan_;
  const LoweringInput &in_;
  const Graph &g_;
  const AbiFunction &abi_;
  const std::vector<NodeId> &roots_;
  llvm::Module *m_ = nullptr;
  llvm::LLVMContext &ctx_;
  llvm::IRBuilder<> b_;
  const LoweringOptions &opts_;
  const Schedule &s_;
  const std::vector<int> &paramArg_;
  const std::vector<int> &outputArg_;
  const int wsArg_;
  const std::vector<int32_t> &tapeSlot_;
  const size_t tapeSlots_;

  // State of the LLVM function being emitted.
  llvm::Function *fn_ = nullptr;
  std::vector<LVal> dims_;
  std::vector<LVal> scalars_;
  std::vector<LVal> buffers_; // workspace slot -> pointer
  std::vector<NodeId> setScalars_; // the entries of scalars_ and buffers_ this function set
  std::vector<size_t> setBuffers_;
  LVal tape_ = nullptr;
  llvm::BasicBlock *tapeEntry_ = nullptr; // a chunk's entry block, where tape reads go
  std::map<std::pair<NodeId, std::vector<LVal>>, LVal> memo_;
  std::vector<NodeId> knownInside_; // gathers whose outer axis is inside in this loop
};

} // namespace gradc::lowering
