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

// Emits one exported function (f or f_grad) and, for long straight-line code, its chunks.
class FunctionEmitter {
public:
  FunctionEmitter(const LoweringInput &in, const AbiFunction &abi, std::vector<NodeId> roots,
                  llvm::Module &m, const LoweringOptions &opts)
      : in_(in), g_(*in.graph), abi_(abi), roots_(std::move(roots)), m_(m),
        ctx_(m.getContext()), b_(ctx_), opts_(opts) {
    // a*b+c may become one fused multiply-add (as C compilers do by default): rounding once
    // instead of twice changes results in the last bit only.
    llvm::FastMathFlags contract;
    contract.setAllowContract();
    b_.setFastMathFlags(contract);
    std::vector<DType> rootTypes;
    for (size_t r = 0; r < roots_.size(); ++r)
      rootTypes.push_back(outputDtype(r));
    s_ = scheduleFunction(g_, roots_, rootTypes);
    mapArguments();
    assignTape();
  }

  llvm::Function *emit();
  /// Emits the workspace layout for `dims` (indexed by dim symbol): the bytes needed,
  /// and each buffer's offset when `offsets` is given.
  LVal layout(llvm::IRBuilderBase &b, const std::vector<LVal> &dims, std::vector<LVal> *offsets);
  llvm::FunctionType *functionType();

private:
  // --- arguments and layout ---
  void mapArguments();
  DType outputDtype(size_t root) const;
  void bindArguments(llvm::Function *f);
  LVal dimValue(const Dim &d) { return unwrap(LlvmIndexMapper(b_, g_, dims_).dim(d)); }
  std::vector<LVal> extentsOf(const Shape &shape);
  bool chunked() const { return s_.steps.size() > opts_.chunkThreshold; }

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
  LVal konst(double v, DType t);

  // --- steps ---
  void emitStep(NodeId n);
  void emitScalar(NodeId n);
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
  LVal boundsOk();
  void emitFailure();
  void assignTape();
  void setupWorkspace(bool inChunk);
  void annotateBufferAliasing(llvm::Function *f);

  const LoweringInput &in_;
  const Graph &g_;
  const AbiFunction &abi_;
  std::vector<NodeId> roots_;
  llvm::Module &m_;
  llvm::LLVMContext &ctx_;
  llvm::IRBuilder<> b_;
  const LoweringOptions &opts_;
  Schedule s_;

  std::vector<int> paramArg_;  // Param index -> argument
  std::vector<int> outputArg_; // root index -> argument (-1: returned)
  int wsArg_ = -1;
  std::vector<int32_t> tapeSlot_; // chunked code: node -> tape slot
  size_t tapeSlots_ = 0;

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
