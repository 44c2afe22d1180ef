// LowerMatMul.cpp: matrix products as loops: dot products, the host's gemm (CBLAS in the
// JIT), gradc's tiled kernel, and row updates for the rest.
#include "loops/FunctionLowering.h"

#include "ir/OpTable.h"

namespace gradc::loops {

// C = A @ B with A [m, k] or [k], B [k, n] or [k]: dot products for a vector B, and for
// matrices the host's gemm, the tiled kernel or row updates, the first that applies.
ExprId FunctionLowering::emitMatMul(NodeId n, int32_t out) {
  const Node &node = g_.node(n);
  NodeId a = node.operands[0], bb = node.operands[1];
  const Shape &as = g_.type(a).shape, &bs = g_.type(bb).shape;
  DType dt = node.type.dtype;
  Ty ty = registerTy(dt);
  auto get = [&](NodeId x, const std::vector<ExprId> &idx) { return elementAs(x, idx, dt); };
  ExprId k = dimValue(as.back());
  if (bs.size() == 1) { // a dot product per row of A (or one dot product)
    ExprId combine = combineOf(opInfo(IrOp::Sum), dt);
    auto dot = [&](std::vector<ExprId> row) {
      int32_t acc = b_->let(ty, konst(0.0, dt), "dot" + std::to_string(n));
      b_->loop(f_->i64(0), k, [&](ExprId p) {
        memo_.clear();
        std::vector<ExprId> ai = row;
        ai.push_back(p);
        b_->emit(f_->accumulate(acc, f_->mul(get(a, ai), get(bb, {p})), combine, kReassocAcc, konst(0.0, dt)));
        memo_.clear();
      });
      return f_->localRef(acc);
    };
    if (as.size() == 1)
      return dot({});
    if (readsColumnMajor(g_, s_, a)) { // W^T @ v: out = sum over p of v[p] * (row p of W)
      fill(out, dt, node.type.shape, konst(0.0, dt));
      b_->loop(f_->i64(0), k, [&](ExprId p) {
        memo_.clear();
        ExprId bv = keep(get(bb, {p}), "v");
        b_->loop(f_->i64(0), dimValue(as[0]), [&](ExprId i) {
          memo_.clear();
          b_->store(out, i, f_->add(f_->load(out, i, ty), f_->mul(get(a, {i, p}), bv)));
          memo_.clear();
        });
      });
      return kNone;
    }
    b_->loop(f_->i64(0), dimValue(as[0]), [&](ExprId i) { storeValue(out, i, dot({i}), dt, dt); });
    return kNone;
  }
  if (emitHostGemm(n, out))
    return kNone;
  if (!emitTiledMatMul(n, out))
    emitRowUpdates(n, out);
  return kNone;
}

// The general matrix-matrix product (operands of any form): rows of C updated with a row of
// B times one element of A, so the inner loop runs along contiguous rows and vectorizes.
void FunctionLowering::emitRowUpdates(NodeId n, int32_t out) {
  const Node &node = g_.node(n);
  NodeId a = node.operands[0], bb = node.operands[1];
  const Shape &as = g_.type(a).shape, &bs = g_.type(bb).shape;
  DType dt = node.type.dtype;
  Ty ty = registerTy(dt);
  auto get = [&](NodeId x, const std::vector<ExprId> &idx) { return elementAs(x, idx, dt); };
  ExprId k = dimValue(as.back());
  ExprId ncols = dimValue(bs[1]);
  // C[ci] = (or +=) A[ai] * B[p, j] for every column j.
  auto term = [&](const std::vector<ExprId> &outRow, ExprId av, ExprId p, bool first) {
    b_->loop(f_->i64(0), ncols, [&](ExprId j) {
      memo_.clear();
      std::vector<ExprId> ci = outRow;
      ci.push_back(j);
      ExprId at = linearIndex(node.type.shape, ci);
      ExprId prod = f_->mul(av, get(bb, {p, j}));
      b_->store(out, at, first ? prod : f_->add(f_->load(out, at, ty), prod));
      memo_.clear();
    });
  };
  auto aAt = [&](std::vector<ExprId> aIdx, ExprId p) {
    memo_.clear();
    aIdx.push_back(p);
    return keep(get(a, aIdx), "a");
  };
  auto rowUpdate = [&](const std::vector<ExprId> &outRow, const std::vector<ExprId> &aIdx) {
    term(outRow, aAt(aIdx, f_->i64(0)), f_->i64(0), true);
    b_->loop(f_->i64(1), k, [&](ExprId p) { term(outRow, aAt(aIdx, p), p, false); });
  };
  // The first term of each sum writes C and the rest add to it: no pass filling C with zeros
  // first (for an outer product, k = 1, one pass over C instead of three). Only an empty
  // shared axis fills.
  b_->when(
      f_->compare(Op::Gt, k, f_->i64(0)),
      [&] {
        if (as.size() == 1) {
          rowUpdate({}, {});
        } else if (readsColumnMajor(g_, s_, a)) {
          // A is a transposed matrix (A[i, p] = W[p, i]), as in the gradient W^T @ g: sweep W's
          // rows (p outermost) so every inner loop runs along contiguous memory.
          auto sweep = [&](ExprId p, bool first) {
            b_->loop(f_->i64(0), dimValue(as[0]), [&](ExprId i) { term({i}, aAt({i}, p), p, first); });
          };
          sweep(f_->i64(0), true);
          b_->loop(f_->i64(1), k, [&](ExprId p) { sweep(p, false); });
        } else {
          b_->loop(f_->i64(0), dimValue(as[0]), [&](ExprId i) { rowUpdate({i}, {i}); });
        }
      },
      [&] { fill(out, dt, node.type.shape, konst(0.0, dt)); });
}

// Where matrix operand x (a buffer or a transposed view of one, `mem`) is, and its strides.
FunctionLowering::StridedMatrix FunctionLowering::stridedMatrix(NodeId x, const MatrixInMemory &mem) {
  const Shape &shape = g_.type(x).shape;
  return mem.transposed ? StridedMatrix{bufferOf(mem.buffer), f_->i64(1), dimValue(shape[0])}
                        : StridedMatrix{bufferOf(mem.buffer), dimValue(shape[1]), f_->i64(1)};
}

// A matrix-matrix product of operands in memory, in the JIT built with CBLAS: a call of the
// host's gemm (kHostGemmF64/F32) when it has at least opts.hostGemmMinWork multiply-adds. When
// the dims are known that is decided here (true: the call is all); otherwise at run time,
// gradc's own kernel in the other branch.
bool FunctionLowering::emitHostGemm(NodeId n, int32_t out) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  NodeId a = node.operands[0], bb = node.operands[1];
  const Shape &as = g_.type(a).shape, &bs = g_.type(bb).shape;
  const LoweringOptions &opts = plan_.opts;
  if (!opts.hostGemm || (dt != DType::F64 && dt != DType::F32) || as.size() != 2 || bs.size() != 2 ||
      isThinProduct(g_, n))
    return false;
  MatrixInMemory aMem, bMem;
  if (!matrixInMemory(g_, s_, a, dt, aMem) || !matrixInMemory(g_, s_, bb, dt, bMem) ||
      !opts.hostGemmAvailable || !opts.hostGemmAvailable())
    return false;
  ExprId m = dimValue(as[0]), k = dimValue(as[1]), ncols = dimValue(bs[1]);
  double work = 1;
  bool known = true;
  for (ExprId d : {m, k, ncols}) {
    if (f_->expr(d).op == Op::Int)
      work *= static_cast<double>(f_->expr(d).i);
    else
      known = false;
  }
  double minWork = static_cast<double>(opts.hostGemmMinWork >= 0 || !opts.hostGemmDefaultMinWork
                                           ? opts.hostGemmMinWork
                                           : opts.hostGemmDefaultMinWork());
  if (known && work < minWork)
    return false;
  StridedMatrix am = stridedMatrix(a, aMem), bm = stridedMatrix(bb, bMem);
  Callee gemm{dt == DType::F64 ? kHostGemmF64 : kHostGemmF32,
              kVoid,
              {kI64, kI64, kI64, kPtr, kI64, kI64, kPtr, kI64, kI64, kPtr},
              true};
  auto call = [&] {
    b_->emit(f_->eval(f_->call(f_->callee(gemm), {m, ncols, k, f_->addr(am.buffer, f_->i64(0)), am.rowStride,
                                                   am.colStride, f_->addr(bm.buffer, f_->i64(0)), bm.rowStride,
                                                   bm.colStride, f_->addr(out, f_->i64(0))})));
  };
  if (known) {
    call();
    return true;
  }
  // In floating point: the product of three dims may overflow an int64.
  auto real = [&](ExprId v) { return f_->cast(kF64, v); };
  ExprId runWork = f_->mul(f_->mul(real(m), real(k)), real(ncols));
  b_->when(f_->compare(Op::Ge, runWork, f_->floatImm(kF64, minWork)), call, [&] {
    if (!emitTiledMatMul(n, out))
      emitRowUpdates(n, out);
  });
  return true;
}

// The operands and shape of one tiled product, what its packs, tiles and leftover rows read.
struct FunctionLowering::TiledProduct {
  DType dt = DType::F64;
  Ty ty, vecTy;
  uint16_t nr = 0; // one vector of C per row of a tile
  StridedMatrix am, bm;
  bool bTransposed = false;
  int32_t out = kNone, packA = kNone, packB = kNone;
  ExprId m = kNone, k = kNone, ncols = kNone, mTiles = kNone, nTiles = kNone, zero = kNone;
};

// C = A @ B for matrices in memory, B row-major (GotoBLAS's loop order, with small packs):
// for each block of kTileKC along the shared axis and of kTileMCTiles * kTileRows rows of A,
// that block of A is copied tile by tile into a stack buffer; for each vector of columns of
// C, the block's panel of B is copied too; then each tile of kTileRows rows by one vector is
// summed in registers, reading both buffers in order. Copies keep the kernel's reads
// contiguous whatever the strides (X^T in a gradient, rows a power-of-two apart that share
// cache sets) and cost a small fraction of the arithmetic. The last columns are a masked
// vector; the rows short of a tile are plain row updates.
bool FunctionLowering::emitTiledMatMul(NodeId n, int32_t out) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  NodeId a = node.operands[0], bb = node.operands[1];
  const Shape &as = g_.type(a).shape, &bs = g_.type(bb).shape;
  MatrixInMemory aMem, bMem;
  if (!tilesMatMul(g_, s_, n, aMem, bMem))
    return false;
  TiledProduct tp;
  tp.dt = dt;
  tp.out = out;
  tp.bTransposed = bMem.transposed;
  tp.am = stridedMatrix(a, aMem);
  tp.bm = stridedMatrix(bb, bMem);
  Ty ty = tp.ty = registerTy(dt);
  const uint16_t nr = tp.nr = static_cast<uint16_t>(kVectorBytes / kindBytes(ty.kind));
  tp.vecTy = ty.withLanes(nr);
  ExprId m = tp.m = dimValue(as[0]), k = tp.k = dimValue(as[1]), ncols = tp.ncols = dimValue(bs[1]);
  auto c = [&](int64_t v) { return f_->i64(v); };
  auto ceilDiv = [&](ExprId x, int64_t d) { return f_->div(f_->add(x, c(d - 1)), c(d)); };
  // The stack buffers of the kernel (51 KiB for f64), one set per function and dtype.
  auto [packs, fresh] = tilePacks_.try_emplace(dt);
  if (fresh) {
    packs->second.a = f_->stackBuffer(ty, kTileMCTiles * kTileRows * kTileKC, std::string("pack_a_") + dtypeName(dt));
    packs->second.b = f_->stackBuffer(ty, kTileKC * nr, std::string("pack_b_") + dtypeName(dt));
  }
  tp.packA = packs->second.a;
  tp.packB = packs->second.b;
  ExprId mTiles = tp.mTiles = keep(f_->div(m, c(kTileRows)), "m_tiles");
  tp.nTiles = keep(ceilDiv(ncols, nr), "n_tiles");
  // At least one block, which writes the tiles of C when the shared axis is empty.
  ExprId kBlocks = keep(f_->max(ceilDiv(k, kTileKC), c(1)), "k_blocks");
  tp.zero = f_->broadcast(f_->floatImm(ty, 0.0), nr);

  ExprId mBlocks = ceilDiv(mTiles, kTileMCTiles);
  b_->loop(c(0), kBlocks, [&](ExprId kb) {
    b_->loop(c(0), mBlocks, [&](ExprId mb) {
      ExprId p0 = keep(f_->mul(kb, c(kTileKC)), "p0"), p1 = keep(f_->min(f_->add(p0, c(kTileKC)), k), "p1");
      ExprId t0 = keep(f_->mul(mb, c(kTileMCTiles)), "t0");
      ExprId t1 = keep(f_->min(f_->add(t0, c(kTileMCTiles)), mTiles), "t1");
      packBlockOfA(tp, t0, t1, p0, p1);
      b_->loop(c(0), tp.nTiles, [&](ExprId jt) {
        ExprId j0 = keep(f_->mul(jt, c(nr)), "j0");
        ExprId left = keep(f_->sub(ncols, j0), "left");
        ExprId mask = f_->compare(Op::Lt, f_->ramp(c(0), nr), f_->broadcast(left, nr));
        packPanelOfB(tp, j0, left, mask, p0, p1);
        auto tiles = [&](ExprId columns) { // the block's tiles at j0, under `columns` (kNone: all)
          b_->loop(t0, t1,
                   [&](ExprId t) { emitTile(tp, f_->mul(t, c(kTileRows)), f_->sub(t, t0), j0, p0, p1, columns); });
        };
        b_->when(f_->compare(Op::Ge, left, c(nr)), [&] { tiles(kNone); }, [&] { tiles(mask); });
      });
    });
  });
  emitRowsBelowTiles(tp);
  return true;
}

// A's block, tile by tile: packA[t - t0][p - p0][r] = A[t * kTileRows + r, p].
void FunctionLowering::packBlockOfA(const TiledProduct &tp, ExprId t0, ExprId t1, ExprId p0, ExprId p1) {
  auto c = [&](int64_t v) { return f_->i64(v); };
  const StridedMatrix &am = tp.am;
  b_->loop(t0, t1, [&](ExprId t) {
    b_->loop(c(0), f_->sub(p1, p0), [&](ExprId q) {
      ExprId p = f_->add(p0, q);
      ExprId dst = f_->add(f_->mul(f_->sub(t, t0), c(kTileKC * kTileRows)), f_->mul(q, c(kTileRows)));
      for (int64_t r = 0; r < kTileRows; ++r) {
        ExprId i = f_->add(f_->mul(t, c(kTileRows)), c(r));
        ExprId v = f_->load(am.buffer, f_->add(f_->mul(i, am.rowStride), f_->mul(p, am.colStride)), tp.ty);
        b_->store(tp.packA, f_->add(dst, c(r)), v);
      }
    });
  });
}

// B's panel: packB[p - p0] = B[p, j0 .. j0 + nr), zeros past the last column (`left` columns
// remain from j0; `mask` marks them in a vector): vectors of a row-major B, elements of a
// transposed one (B.T's rows are B's columns, read along B's rows, nr of them at once).
void FunctionLowering::packPanelOfB(const TiledProduct &tp, ExprId j0, ExprId left, ExprId mask, ExprId p0,
                                    ExprId p1) {
  auto c = [&](int64_t v) { return f_->i64(v); };
  const StridedMatrix &bm = tp.bm;
  const uint16_t nr = tp.nr;
  if (!tp.bTransposed) {
    b_->loop(c(0), f_->sub(p1, p0), [&](ExprId q) {
      ExprId src = f_->add(f_->mul(f_->add(p0, q), bm.rowStride), j0);
      b_->store(tp.packB, f_->mul(q, c(nr)), f_->load(bm.buffer, src, tp.vecTy, mask));
    });
    return;
  }
  // Past the last column: a valid element's address read, zero stored (no branches,
  // which cost the JIT's compile time more than the selects cost here).
  ExprId lastColumn = keep(f_->sub(tp.ncols, c(1)), "last_column");
  b_->loop(c(0), f_->sub(p1, p0), [&](ExprId q) {
    ExprId p = f_->add(p0, q);
    for (int64_t jj = 0; jj < nr; ++jj) {
      ExprId column = f_->min(f_->add(j0, c(jj)), lastColumn);
      ExprId v = f_->load(bm.buffer, f_->add(f_->mul(p, bm.rowStride), f_->mul(column, bm.colStride)), tp.ty);
      b_->store(tp.packB, f_->add(f_->mul(q, c(nr)), c(jj)),
                f_->select(f_->compare(Op::Lt, c(jj), left), v, konst(0.0, tp.dt)));
    }
  });
}

// One tile: rows i0.., columns j0.. of C over [p0, p1), from tile t of the packs; `mask`
// marks the columns of a last, partial vector (kNone: a whole vector).
void FunctionLowering::emitTile(const TiledProduct &tp, ExprId i0, ExprId t, ExprId j0, ExprId p0, ExprId p1,
                                ExprId mask) {
  auto c = [&](int64_t v) { return f_->i64(v); };
  const uint16_t nr = tp.nr;
  std::vector<ExprId> cRow;
  std::vector<int32_t> acc;
  for (int64_t r = 0; r < kTileRows; ++r) {
    cRow.push_back(f_->add(f_->mul(f_->add(i0, c(r)), tp.ncols), j0));
    acc.push_back(b_->let(tp.vecTy, tp.zero, "acc" + std::to_string(r)));
  }
  // The first block starts from zero, so C is written, never read first.
  b_->when(f_->compare(Op::Ne, p0, c(0)), [&] {
    for (int64_t r = 0; r < kTileRows; ++r)
      b_->assign(acc[static_cast<size_t>(r)], f_->load(tp.out, cRow[static_cast<size_t>(r)], tp.vecTy, mask));
  });
  ExprId aTile = f_->mul(t, c(kTileKC * kTileRows));
  b_->loop(c(0), f_->sub(p1, p0), [&](ExprId q) {
    ExprId bv = f_->load(tp.packB, f_->mul(q, c(nr)), tp.vecTy);
    ExprId aRow = f_->add(aTile, f_->mul(q, c(kTileRows)));
    for (int64_t r = 0; r < kTileRows; ++r) {
      ExprId av = f_->broadcast(f_->load(tp.packA, f_->add(aRow, c(r)), tp.ty), nr);
      int32_t l = acc[static_cast<size_t>(r)];
      b_->assign(l, f_->fma(av, bv, f_->localRef(l)));
    }
  });
  for (int64_t r = 0; r < kTileRows; ++r)
    b_->store(tp.out, cRow[static_cast<size_t>(r)], f_->localRef(acc[static_cast<size_t>(r)]), mask);
}

// The rows below the last whole tile.
void FunctionLowering::emitRowsBelowTiles(const TiledProduct &tp) {
  auto c = [&](int64_t v) { return f_->i64(v); };
  const StridedMatrix &am = tp.am, &bm = tp.bm;
  ExprId ncols = tp.ncols;
  Ty ty = tp.ty;
  int32_t out = tp.out;
  b_->loop(f_->mul(tp.mTiles, c(kTileRows)), tp.m, [&](ExprId i) {
    b_->loop(c(0), ncols, [&](ExprId j) { b_->store(out, f_->add(f_->mul(i, ncols), j), konst(0.0, tp.dt)); });
    b_->loop(c(0), tp.k, [&](ExprId p) {
      ExprId av = keep(f_->load(am.buffer, f_->add(f_->mul(i, am.rowStride), f_->mul(p, am.colStride)), ty), "a");
      b_->loop(c(0), ncols, [&](ExprId j) {
        ExprId at = f_->add(f_->mul(i, ncols), j);
        ExprId bv = f_->load(bm.buffer, f_->add(f_->mul(p, bm.rowStride), f_->mul(j, bm.colStride)), ty);
        b_->store(out, at, f_->add(f_->load(out, at, ty), f_->mul(av, bv)));
      });
    });
  });
}

} // namespace gradc::loops
