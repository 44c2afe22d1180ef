// LowerMatMul.cpp: matrix products in LLVM IR: dot products, the host's gemm (CBLAS in the
// JIT), gradc's tiled kernel, and row updates for the rest.
#include "backend/FunctionEmitter.h"

#include "backend/HostGemm.h"
#include "backend/LlvmElementBuilder.h"
#include "backend/LlvmTypes.h"
#include "backend/LoopNest.h"
#include "ir/OpTable.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

namespace gradc::lowering {

// C = A @ B with A [m, k] or [k], B [k, n] or [k]: dot products for a vector B, and for
// matrices the host's gemm, the tiled kernel or row updates, the first that applies.
LVal FunctionEmitter::emitMatMul(NodeId n, LVal out) {
  const Node &node = g_.node(n);
  NodeId a = node.operands[0], bb = node.operands[1];
  const Shape &as = g_.type(a).shape, &bs = g_.type(bb).shape;
  DType dt = node.type.dtype;
  llvm::Type *ty = llvmType(ctx_, dt);
  auto get = [&](NodeId x, const std::vector<LVal> &idx) { return elementAs(x, idx, dt); };
  LVal k = dimValue(as.back());
  if (bs.size() == 1) { // a dot product per row of A (or one dot product)
    auto dot = [&](std::vector<LVal> row) {
      LVal acc = LoopNest::entryAlloca(b_, ty);
      b_.CreateStore(konst(0.0, dt), acc);
      LoopNest::forEach(b_, {k}, [&](const std::vector<LVal> &p) {
        memo_.clear();
        std::vector<LVal> ai = row;
        ai.push_back(p[0]);
        LVal prod = b_.CreateFMul(get(a, ai), get(bb, {p[0]}));
        b_.CreateStore(unwrap(LlvmElementBuilder(b_, *m_, dt).reduceAdd(wrap(b_.CreateLoad(ty, acc)), wrap(prod))), acc);
        memo_.clear();
      });
      return b_.CreateLoad(ty, acc);
    };
    if (as.size() == 1)
      return dot({});
    if (readsColumnMajor(g_, s_, a)) { // W^T @ v: out = sum over p of v[p] * (row p of W)
      fill(out, dt, node.type.shape, konst(0.0, dt));
      LoopNest::forEach(b_, {k}, [&](const std::vector<LVal> &p) {
        memo_.clear();
        LVal bv = get(bb, {p[0]});
        LoopNest::forEach(b_, {dimValue(as[0])}, [&](const std::vector<LVal> &i) {
          memo_.clear();
          LVal cp = elementPointer(out, dt, node.type.shape, {i[0]});
          LVal prod = b_.CreateFMul(get(a, {i[0], p[0]}), bv);
          b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(ty, cp), prod), cp);
          memo_.clear();
        });
      });
      return nullptr;
    }
    LoopNest::forEach(b_, {dimValue(as[0])}, [&](const std::vector<LVal> &i) {
      LVal v = dot({i[0]});
      storeValue(elementPointer(out, dt, node.type.shape, {i[0]}), v, dt, dt);
    });
    return nullptr;
  }
  llvm::BasicBlock *join = nullptr;
  if (emitHostGemm(n, out, join))
    return nullptr;
  if (!emitTiledMatMul(n, out))
    emitRowUpdates(n, out);
  if (join) {
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
  }
  return nullptr;
}

// The general matrix-matrix product (operands of any form): rows of C updated with a row of
// B times one element of A, so the inner loop runs along contiguous rows and vectorizes.
void FunctionEmitter::emitRowUpdates(NodeId n, LVal out) {
  const Node &node = g_.node(n);
  NodeId a = node.operands[0], bb = node.operands[1];
  const Shape &as = g_.type(a).shape, &bs = g_.type(bb).shape;
  DType dt = node.type.dtype;
  llvm::Type *ty = llvmType(ctx_, dt);
  auto get = [&](NodeId x, const std::vector<LVal> &idx) { return elementAs(x, idx, dt); };
  LVal k = dimValue(as.back());
  LVal ncols = dimValue(bs[1]);
  // The first term of each sum writes C and the rest add to it: no pass filling C with
  // zeros first (for an outer product, k = 1, one pass over C instead of three). Only an
  // empty shared axis fills.
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  auto *empty = llvm::BasicBlock::Create(ctx_, "matmul.empty", f);
  auto *terms = llvm::BasicBlock::Create(ctx_, "matmul.terms", f);
  auto *done = llvm::BasicBlock::Create(ctx_, "matmul.done", f);
  b_.CreateCondBr(b_.CreateICmpSGT(k, b_.getInt64(0)), terms, empty);
  b_.SetInsertPoint(empty);
  fill(out, dt, node.type.shape, konst(0.0, dt));
  b_.CreateBr(done);
  b_.SetInsertPoint(terms);
  // C[ci] = (or +=) A[ai] * B[p, j] for every column j.
  auto term = [&](const std::vector<LVal> &outRow, LVal av, LVal p, bool first) {
    LoopNest::forEach(b_, {ncols}, [&](const std::vector<LVal> &j) {
      memo_.clear();
      std::vector<LVal> ci = outRow;
      ci.push_back(j[0]);
      LVal cp = elementPointer(out, dt, node.type.shape, ci);
      LVal prod = b_.CreateFMul(av, get(bb, {p, j[0]}));
      b_.CreateStore(first ? prod : b_.CreateFAdd(b_.CreateLoad(ty, cp), prod), cp);
      memo_.clear();
    });
  };
  auto aAt = [&](std::vector<LVal> aIdx, LVal p) {
    memo_.clear();
    aIdx.push_back(p);
    return get(a, aIdx);
  };
  auto rowUpdate = [&](const std::vector<LVal> &outRow, const std::vector<LVal> &aIdx) {
    term(outRow, aAt(aIdx, b_.getInt64(0)), b_.getInt64(0), true);
    LoopNest::forRange(b_, b_.getInt64(1), k, {}, [&](const std::vector<LVal> &p) {
      term(outRow, aAt(aIdx, p[0]), p[0], false);
    });
  };
  if (as.size() == 1) {
    rowUpdate({}, {});
  } else if (readsColumnMajor(g_, s_, a)) {
    // A is a transposed matrix (A[i, p] = W[p, i]), as in the gradient W^T @ g: sweep W's
    // rows (p outermost) so every inner loop runs along contiguous memory.
    auto sweep = [&](LVal p, bool first) {
      LoopNest::forEach(b_, {dimValue(as[0])}, [&](const std::vector<LVal> &i) {
        term({i[0]}, aAt({i[0]}, p), p, first);
      });
    };
    sweep(b_.getInt64(0), true);
    LoopNest::forRange(b_, b_.getInt64(1), k, {}, [&](const std::vector<LVal> &p) { sweep(p[0], false); });
  } else {
    LoopNest::forEach(b_, {dimValue(as[0])}, [&](const std::vector<LVal> &i) {
      rowUpdate({i[0]}, {i[0]});
    });
  }
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
}

// Where matrix operand x (a buffer or a transposed view of one, `mem`) is, and its strides.
FunctionEmitter::StridedMatrix FunctionEmitter::stridedMatrix(NodeId x, const MatrixInMemory &mem) {
  const Shape &shape = g_.type(x).shape;
  return mem.transposed ? StridedMatrix{basePointer(mem.buffer), b_.getInt64(1), dimValue(shape[0])}
                        : StridedMatrix{basePointer(mem.buffer), dimValue(shape[1]), b_.getInt64(1)};
}

// A matrix-matrix product of operands in memory, in the JIT built with CBLAS: a call to the
// host's gemm (backend/HostGemm.h) when it has at least hostGemmMinWork() multiply-adds. When
// the dims are known that is decided here (true: the call is all); otherwise the call is
// one side of a branch, the builder is left in the other for gradc's own kernel, and
// `join` is where the two meet.
bool FunctionEmitter::emitHostGemm(NodeId n, LVal out, llvm::BasicBlock *&join) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  NodeId a = node.operands[0], bb = node.operands[1];
  const Shape &as = g_.type(a).shape, &bs = g_.type(bb).shape;
  if (!opts_.hostGemm || (dt != DType::F64 && dt != DType::F32) || as.size() != 2 || bs.size() != 2 ||
      isThinProduct(g_, n))
    return false;
  MatrixInMemory aMem, bMem;
  if (!matrixInMemory(g_, s_, a, dt, aMem) || !matrixInMemory(g_, s_, bb, dt, bMem) || !hostGemmAvailable())
    return false;
  // Dims known at compile time (literal or bound: constants here) decide now; others at run
  // time.
  LVal m = dimValue(as[0]), k = dimValue(as[1]), ncols = dimValue(bs[1]);
  double work = 1;
  bool known = true;
  for (LVal d : {m, k, ncols}) {
    if (auto *extent = llvm::dyn_cast<llvm::ConstantInt>(d))
      work *= static_cast<double>(extent->getSExtValue());
    else
      known = false;
  }
  double minWork = static_cast<double>(opts_.hostGemmMinWork < 0 ? hostGemmMinWork() : opts_.hostGemmMinWork);
  if (known && work < minWork)
    return false;
  StridedMatrix am = stridedMatrix(a, aMem), bm = stridedMatrix(bb, bMem);
  llvm::BasicBlock *own = nullptr;
  if (!known) {
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    auto *call = llvm::BasicBlock::Create(ctx_, "gemm.host", f);
    own = llvm::BasicBlock::Create(ctx_, "gemm.own", f);
    join = llvm::BasicBlock::Create(ctx_, "gemm.done", f);
    // In floating point: the product of three int64 dims may overflow.
    auto real = [&](LVal v) { return b_.CreateSIToFP(v, b_.getDoubleTy()); };
    LVal work = b_.CreateFMul(b_.CreateFMul(real(m), real(k)), real(ncols));
    b_.CreateCondBr(b_.CreateFCmpOGE(work, llvm::ConstantFP::get(b_.getDoubleTy(), minWork)),
                    call, own);
    b_.SetInsertPoint(call);
  }
  llvm::Type *i64 = b_.getInt64Ty(), *ptr = b_.getPtrTy();
  auto *fty = llvm::FunctionType::get(b_.getVoidTy(), {i64, i64, i64, ptr, i64, i64, ptr, i64, i64, ptr}, false);
  llvm::FunctionCallee callee = m_->getOrInsertFunction(dt == DType::F64 ? kHostGemmF64 : kHostGemmF32, fty);
  if (auto *f = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
    f->setDoesNotThrow();
    f->setMemoryEffects(llvm::MemoryEffects::argMemOnly());
  }
  b_.CreateCall(callee, {m, ncols, k, am.base, am.rowStride, am.colStride, bm.base, bm.rowStride,
                         bm.colStride, out});
  if (!own)
    return true;
  b_.CreateBr(join);
  b_.SetInsertPoint(own);
  return false;
}

// C = A @ B for matrices in memory, B row-major (GotoBLAS's loop order, with small packs):
// for each block of kTileKC along the shared axis and of kTileMCTiles * kTileRows rows of A,
// that block of A is copied tile by tile into a stack buffer; for each vector of columns of
// C, the block's panel of B is copied too; then each tile of kTileRows rows by one vector is summed
// in registers, reading both buffers in order. Copies keep the kernel's reads contiguous
// whatever the strides (X^T in a gradient, rows a power-of-two apart that share cache sets)
// and cost a small fraction of the arithmetic. The last columns are a masked vector; the
// rows short of a tile are plain row updates.
bool FunctionEmitter::emitTiledMatMul(NodeId n, LVal out) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  NodeId a = node.operands[0], bb = node.operands[1];
  const Shape &as = g_.type(a).shape, &bs = g_.type(bb).shape;
  MatrixInMemory aMem, bMem;
  if (!tilesMatMul(g_, s_, n, aMem, bMem))
    return false;
  StridedMatrix am = stridedMatrix(a, aMem), bm = stridedMatrix(bb, bMem);
  const int64_t nr = 64 / byteSize(dt); // one 64-byte vector of C per row of a tile
  llvm::Type *ty = llvmType(ctx_, dt);
  auto *vecTy = llvm::FixedVectorType::get(ty, static_cast<unsigned>(nr));
  llvm::Align align(static_cast<uint64_t>(byteSize(dt)));
  LVal m = dimValue(as[0]), k = dimValue(as[1]), ncols = dimValue(bs[1]);
  auto c = [&](int64_t v) { return b_.getInt64(static_cast<uint64_t>(v)); };
  auto add = [&](LVal x, LVal y) { return b_.CreateAdd(x, y, "", true, true); };
  auto sub = [&](LVal x, LVal y) { return b_.CreateSub(x, y, "", true, true); };
  auto mul = [&](LVal x, LVal y) { return b_.CreateMul(x, y, "", true, true); };
  auto smin = [&](LVal x, LVal y) { return b_.CreateSelect(b_.CreateICmpSLT(x, y), x, y); };
  auto ceilDiv = [&](LVal x, int64_t d) { return b_.CreateSDiv(add(x, c(d - 1)), c(d)); };
  auto at = [&](LVal base, LVal offset) { return b_.CreateInBoundsGEP(ty, base, offset); };
  const TiledPacks &packs = tiledPacks(dt);
  LVal mTiles = b_.CreateSDiv(m, c(kTileRows)), nTiles = ceilDiv(ncols, nr);
  // At least one block, which writes the tiles of C when the shared axis is empty.
  LVal kBlocks = ceilDiv(k, kTileKC);
  kBlocks = b_.CreateSelect(b_.CreateICmpSLT(kBlocks, c(1)), c(1), kBlocks);
  std::vector<llvm::Constant *> laneIds;
  for (int64_t l = 0; l < nr; ++l)
    laneIds.push_back(c(l));
  LVal lanes = llvm::ConstantVector::get(laneIds);

  // One tile: rows i0.., columns j0.. of C over [p0, p1); `mask` marks the columns of a
  // last, partial vector (nullptr: a whole vector).
  auto tile = [&](LVal i0, LVal t, LVal j0, LVal p0, LVal p1, LVal mask) {
    std::vector<LVal> cRow;
    for (int64_t r = 0; r < kTileRows; ++r)
      cRow.push_back(at(out, add(mul(add(i0, c(r)), ncols), j0)));
    // The first block starts from zero, so C is written, never read first.
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    auto *fresh = llvm::BasicBlock::Create(ctx_, "tile.zero", f);
    auto *resume = llvm::BasicBlock::Create(ctx_, "tile.load", f);
    auto *start = llvm::BasicBlock::Create(ctx_, "tile.start", f);
    b_.CreateCondBr(b_.CreateICmpEQ(p0, c(0)), fresh, resume);
    b_.SetInsertPoint(fresh);
    for (int64_t r = 0; r < kTileRows; ++r)
      b_.CreateStore(llvm::Constant::getNullValue(vecTy), packs.acc[static_cast<size_t>(r)]);
    b_.CreateBr(start);
    b_.SetInsertPoint(resume);
    for (int64_t r = 0; r < kTileRows; ++r) {
      LVal v = mask ? static_cast<LVal>(b_.CreateMaskedLoad(vecTy, cRow[static_cast<size_t>(r)], align, mask,
                                                            llvm::Constant::getNullValue(vecTy)))
                    : static_cast<LVal>(b_.CreateAlignedLoad(vecTy, cRow[static_cast<size_t>(r)], align));
      b_.CreateStore(v, packs.acc[static_cast<size_t>(r)]);
    }
    b_.CreateBr(start);
    b_.SetInsertPoint(start);
    LVal aTile = mul(t, c(kTileKC * kTileRows));
    LoopNest::forEach(b_, {sub(p1, p0)}, [&](const std::vector<LVal> &q) {
      LVal bv = b_.CreateAlignedLoad(vecTy, at(packs.b, mul(q[0], c(nr))), align);
      LVal aRow = add(aTile, mul(q[0], c(kTileRows)));
      for (int64_t r = 0; r < kTileRows; ++r) {
        LVal av = b_.CreateAlignedLoad(ty, at(packs.a, add(aRow, c(r))), align);
        LVal prev = b_.CreateLoad(vecTy, packs.acc[static_cast<size_t>(r)]);
        LVal sum = b_.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vecTy},
                                      {b_.CreateVectorSplat(static_cast<unsigned>(nr), av), bv, prev});
        b_.CreateStore(sum, packs.acc[static_cast<size_t>(r)]);
      }
    });
    for (int64_t r = 0; r < kTileRows; ++r) {
      LVal v = b_.CreateLoad(vecTy, packs.acc[static_cast<size_t>(r)]);
      if (mask)
        b_.CreateMaskedStore(v, cRow[static_cast<size_t>(r)], align, mask);
      else
        b_.CreateAlignedStore(v, cRow[static_cast<size_t>(r)], align);
    }
  };

  LVal mBlocks = ceilDiv(mTiles, kTileMCTiles);
  LoopNest::forEach(b_, {kBlocks, mBlocks}, [&](const std::vector<LVal> &blk) {
    LVal p0 = mul(blk[0], c(kTileKC)), p1 = smin(add(p0, c(kTileKC)), k);
    LVal t0 = mul(blk[1], c(kTileMCTiles)), t1 = smin(add(t0, c(kTileMCTiles)), mTiles);
    // A's block, tile by tile: packs.a[t - t0][p - p0][r] = A[t * kTileRows + r, p].
    LoopNest::forRange(b_, t0, t1, {sub(p1, p0)}, [&](const std::vector<LVal> &tq) {
      LVal p = add(p0, tq[1]);
      LVal dst = add(mul(sub(tq[0], t0), c(kTileKC * kTileRows)), mul(tq[1], c(kTileRows)));
      for (int64_t r = 0; r < kTileRows; ++r) {
        LVal i = add(mul(tq[0], c(kTileRows)), c(r));
        LVal v = b_.CreateAlignedLoad(ty, at(am.base, add(mul(i, am.rowStride), mul(p, am.colStride))), align);
        b_.CreateAlignedStore(v, at(packs.a, add(dst, c(r))), align);
      }
    });
    LoopNest::forEach(b_, {nTiles}, [&](const std::vector<LVal> &jt) {
      LVal j0 = mul(jt[0], c(nr));
      LVal left = sub(ncols, j0);
      // B's panel: packs.b[p - p0] = B[p, j0 .. j0 + nr), zeros past the last column.
      LVal mask = b_.CreateICmpSLT(lanes, b_.CreateVectorSplat(static_cast<unsigned>(nr), left));
      LoopNest::forEach(b_, {sub(p1, p0)}, [&](const std::vector<LVal> &q) {
        LVal src = at(bm.base, add(mul(add(p0, q[0]), bm.rowStride), j0));
        LVal v = b_.CreateMaskedLoad(vecTy, src, align, mask, llvm::Constant::getNullValue(vecTy));
        b_.CreateAlignedStore(v, at(packs.b, mul(q[0], c(nr))), align);
      });
      llvm::Function *f = b_.GetInsertBlock()->getParent();
      auto *whole = llvm::BasicBlock::Create(ctx_, "tile.whole", f);
      auto *part = llvm::BasicBlock::Create(ctx_, "tile.part", f);
      auto *done = llvm::BasicBlock::Create(ctx_, "tile.done", f);
      b_.CreateCondBr(b_.CreateICmpSGE(left, c(nr)), whole, part);
      for (auto [block, m0] : {std::pair{whole, static_cast<LVal>(nullptr)}, std::pair{part, mask}}) {
        b_.SetInsertPoint(block);
        LoopNest::forRange(b_, t0, t1, {}, [&](const std::vector<LVal> &t) {
          tile(mul(t[0], c(kTileRows)), sub(t[0], t0), j0, p0, p1, m0);
        });
        b_.CreateBr(done);
      }
      b_.SetInsertPoint(done);
    });
  });
  // The rows below the last whole tile.
  LoopNest::forRange(b_, mul(mTiles, c(kTileRows)), m, {}, [&](const std::vector<LVal> &i) {
    LoopNest::forEach(b_, {ncols}, [&](const std::vector<LVal> &j) {
      b_.CreateAlignedStore(konst(0.0, dt), at(out, add(mul(i[0], ncols), j[0])), align);
    });
    LoopNest::forEach(b_, {k}, [&](const std::vector<LVal> &p) {
      LVal av = b_.CreateAlignedLoad(ty, at(am.base, add(mul(i[0], am.rowStride), mul(p[0], am.colStride))), align);
      LoopNest::forEach(b_, {ncols}, [&](const std::vector<LVal> &j) {
        LVal cp = at(out, add(mul(i[0], ncols), j[0]));
        LVal bv = b_.CreateAlignedLoad(ty, at(bm.base, add(mul(p[0], bm.rowStride), j[0])), align);
        b_.CreateAlignedStore(b_.CreateFAdd(b_.CreateAlignedLoad(ty, cp, align), b_.CreateFMul(av, bv)), cp, align);
      });
    });
  });
  return true;
}

// The tiled kernel's stack buffers, one set per LLVM function and dtype, shared by its
// products (51 KiB for f64).
const FunctionEmitter::TiledPacks &FunctionEmitter::tiledPacks(DType dt) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  auto key = std::make_pair(f, dt);
  auto found = tiledPacks_.find(key);
  if (found != tiledPacks_.end())
    return found->second;
  llvm::Type *ty = llvmType(ctx_, dt);
  TiledPacks p;
  p.a = LoopNest::entryAlloca(b_, llvm::ArrayType::get(ty, static_cast<uint64_t>(kTileMCTiles * kTileRows * kTileKC)));
  p.b = LoopNest::entryAlloca(b_, llvm::ArrayType::get(ty, static_cast<uint64_t>(kTileKC * 64 / byteSize(dt))));
  auto *vecTy = llvm::FixedVectorType::get(ty, static_cast<unsigned>(64 / byteSize(dt)));
  for (int64_t r = 0; r < kTileRows; ++r)
    p.acc.push_back(LoopNest::entryAlloca(b_, vecTy));
  return tiledPacks_.emplace(key, std::move(p)).first->second;
}

} // namespace gradc::lowering
