// TiledKernel.cpp: C = A @ B for matrices in memory, GotoBLAS's loop order with small packs:
// for each block of kTileKC along the shared axis and of kTileMCTiles * kTileRows rows of A,
// that block of A is copied tile by tile into a stack buffer; for each vector of columns of
// C, the block's panel of B is copied too; then each tile of kTileRows rows by one vector is
// summed in registers, reading both buffers in order. Copies keep the kernel's reads
// contiguous whatever the strides (X^T in a gradient, rows a power-of-two apart that share
// cache sets) and cost a small fraction of the arithmetic. The last columns are a masked
// vector; the last rows are a tile whose missing rows are packed as zeros and not stored, so
// a thin product (10 rows: one tile and four rows) runs the vector kernel on every row.
#include "loops/TiledKernel.h"

#include "loops/Builder.h"
#include "loops/Plan.h"

namespace gradc::loops {

namespace {

// The kernel's shape: tiles of kTileRows rows of C by one vector, blocks of kTileKC along the
// shared axis and of kTileMCTiles tiles of rows.
constexpr int64_t kTileRows = 6, kTileKC = 128, kTileMCTiles = 7;

enum Arg : int32_t { kM, kN, kK, kA, kRsa, kCsa, kB, kRsb, kCsb, kC };

// One kernel's function being built: its operands, shape and packs.
class KernelBuilder {
public:
  KernelBuilder(Func &f, DType dt, Form form) : f_(f), b_(f), form_(form) {
    ty_ = registerTy(dt);
    nr_ = static_cast<uint16_t>(kVectorBytes / kindBytes(ty_.kind));
    vecTy_ = ty_.withLanes(nr_);
    m_ = f.arg(kM), ncols_ = f.arg(kN), k_ = f.arg(kK);
    a_ = f.argBuffer(kA, ty_, "A"), b_buf_ = f.argBuffer(kB, ty_, "B"), out_ = f.argBuffer(kC, ty_, "C");
    rsa_ = f.arg(kRsa), csa_ = f.arg(kCsa), rsb_ = f.arg(kRsb);
    // The stack buffers: 51 KiB for f64, each starting a cache line, so that no vector read
    // from them straddles two (a square 512 product ran 15% slower in some stack frames).
    packA_ = f.stackBuffer(ty_, kTileMCTiles * kTileRows * kTileKC, "pack_a", kBufferAlign);
    packB_ = f.stackBuffer(ty_, kTileKC * nr_, "pack_b", kBufferAlign);
    zero_ = f.broadcast(f.floatImm(ty_, 0.0), nr_);
  }

  StmtId build();

private:
  ExprId c(int64_t v) { return f_.i64(v); }
  ExprId keep(ExprId v, const std::string &name) { return f_.localRef(b_.let(f_.type(v), v, name)); }
  ExprId ceilDiv(ExprId x, int64_t d) { return f_.div(f_.add(x, c(d - 1)), c(d)); }
  // Element (i, p) of A and (p, j) of B: the stride that is 1 in the form is not read, so the
  // copies of the packs run along memory with a known step (gcc does not version loops on a
  // run-time stride as LLVM does: mlp2's C ran 1.4x slower with both strides read).
  ExprId aAt(ExprId i, ExprId p) { return form_.aTransposed ? f_.add(i, f_.mul(p, csa_)) : f_.add(f_.mul(i, rsa_), p); }
  ExprId bAt(ExprId p, ExprId j) { return f_.add(f_.mul(p, rsb_), j); }
  void packBlockOfA(ExprId t0, ExprId t1, ExprId p0, ExprId p1);
  void packPanelOfB(ExprId j0, ExprId mask, ExprId p0, ExprId p1);
  void tile(ExprId i0, ExprId t, ExprId j0, ExprId p0, ExprId p1, ExprId mask);

  Func &f_;
  Builder b_;
  Form form_;
  Ty ty_, vecTy_;
  uint16_t nr_ = 0; // one vector of C per row of a tile
  ExprId m_, ncols_, k_, rsa_, csa_, rsb_, zero_, mTiles_ = kNone, wholeTiles_ = kNone, nTiles_ = kNone;
  int32_t a_, b_buf_, out_, packA_, packB_;
};

StmtId KernelBuilder::build() {
  mTiles_ = keep(ceilDiv(m_, kTileRows), "m_tiles");
  wholeTiles_ = keep(f_.div(m_, c(kTileRows)), "whole_tiles");
  nTiles_ = keep(ceilDiv(ncols_, nr_), "n_tiles");
  // At least one block, which writes the tiles of C when the shared axis is empty.
  ExprId kBlocks = keep(f_.max(ceilDiv(k_, kTileKC), c(1)), "k_blocks");
  ExprId mBlocks = ceilDiv(mTiles_, kTileMCTiles);
  b_.loop(c(0), kBlocks, [&](ExprId kb) {
    b_.loop(c(0), mBlocks, [&](ExprId mb) {
      ExprId p0 = keep(f_.mul(kb, c(kTileKC)), "p0"), p1 = keep(f_.min(f_.add(p0, c(kTileKC)), k_), "p1");
      ExprId t0 = keep(f_.mul(mb, c(kTileMCTiles)), "t0");
      ExprId t1 = keep(f_.min(f_.add(t0, c(kTileMCTiles)), mTiles_), "t1");
      packBlockOfA(t0, t1, p0, p1);
      b_.loop(c(0), nTiles_, [&](ExprId jt) {
        ExprId j0 = keep(f_.mul(jt, c(nr_)), "j0");
        ExprId left = keep(f_.sub(ncols_, j0), "left");
        ExprId mask = f_.compare(Op::Lt, f_.ramp(c(0), nr_), f_.broadcast(left, nr_));
        // The panel and the block's tiles at j0, under `columns` (kNone: a whole vector, read
        // without a mask: a masked load is a select per lane in C).
        auto panel = [&](ExprId columns) {
          packPanelOfB(j0, columns, p0, p1);
          b_.loop(t0, t1, [&](ExprId t) { tile(f_.mul(t, c(kTileRows)), f_.sub(t, t0), j0, p0, p1, columns); });
        };
        b_.when(f_.compare(Op::Ge, left, c(nr_)), [&] { panel(kNone); }, [&] { panel(mask); });
      });
    });
  });
  b_.emit(f_.returnStmt());
  return b_.finish();
}

// A's block, tile by tile: packA[t - t0][p - p0][r] = A[t * kTileRows + r, p], or 0 for a
// row past m. Whole tiles are plain copies; the last, partial tile (at most one) reads its
// missing rows at row m - 1, so that no address past A is formed, and keeps zeros.
void KernelBuilder::packBlockOfA(ExprId t0, ExprId t1, ExprId p0, ExprId p1) {
  ExprId wholeEnd = keep(f_.max(f_.min(t1, wholeTiles_), t0), "whole_end");
  ExprId lastRow = f_.sub(m_, c(1));
  auto copy = [&](ExprId from, ExprId to, bool partial) {
    b_.loop(from, to, [&](ExprId t) {
      b_.loop(c(0), f_.sub(p1, p0), [&](ExprId q) {
        ExprId p = f_.add(p0, q);
        ExprId dst = f_.add(f_.mul(f_.sub(t, t0), c(kTileKC * kTileRows)), f_.mul(q, c(kTileRows)));
        for (int64_t r = 0; r < kTileRows; ++r) {
          ExprId i = f_.add(f_.mul(t, c(kTileRows)), c(r));
          ExprId v = f_.load(a_, aAt(partial ? f_.min(i, lastRow) : i, p), ty_);
          if (partial)
            v = f_.select(f_.compare(Op::Lt, i, m_), v, f_.constant(ty_, 0.0));
          b_.store(packA_, f_.add(dst, c(r)), v);
        }
      });
    });
  };
  copy(t0, wholeEnd, false);
  copy(wholeEnd, t1, true);
}

// B's panel: packB[p - p0] = B[p, j0 .. j0 + nr), zeros past the last column (`mask` marks
// the columns there are in a vector, kNone: all nr). B is stored by rows: the schedule copies
// a transposed right operand first (Schedule.cpp), so the panel is vector copies.
void KernelBuilder::packPanelOfB(ExprId j0, ExprId mask, ExprId p0, ExprId p1) {
  b_.loop(c(0), f_.sub(p1, p0), [&](ExprId q) {
    ExprId src = bAt(f_.add(p0, q), j0);
    b_.store(packB_, f_.mul(q, c(nr_)), f_.load(b_buf_, src, vecTy_, mask));
  });
}

// One tile: rows i0.., columns j0.. of C over [p0, p1), from tile t of the packs; `mask`
// marks the columns of a last, partial vector (kNone: a whole vector).
void KernelBuilder::tile(ExprId i0, ExprId t, ExprId j0, ExprId p0, ExprId p1, ExprId mask) {
  std::vector<ExprId> cRow;
  std::vector<int32_t> acc;
  for (int64_t r = 0; r < kTileRows; ++r) {
    cRow.push_back(f_.add(f_.mul(f_.add(i0, c(r)), ncols_), j0));
    acc.push_back(b_.let(vecTy_, zero_, "acc" + std::to_string(r)));
  }
  // Row r of the tile is a row of C when i0 + r < m (the last tile's may not be).
  auto inC = [&](int64_t r) { return f_.compare(Op::Lt, f_.add(i0, c(r)), m_); };
  // The first block starts from zero, so C is written, never read first.
  b_.when(f_.compare(Op::Ne, p0, c(0)), [&] {
    for (int64_t r = 0; r < kTileRows; ++r)
      b_.when(inC(r), [&] {
        b_.assign(acc[static_cast<size_t>(r)], f_.load(out_, cRow[static_cast<size_t>(r)], vecTy_, mask));
      });
  });
  // The packs are read through offsets that step by a constant, so the loop needs no
  // multiplication (LLVM runs without loop strength reduction: Optimize.cpp).
  int32_t aOff = b_.let(kI64, f_.mul(t, c(kTileKC * kTileRows)), "a_off"), bOff = b_.let(kI64, c(0), "b_off");
  b_.loop(c(0), f_.sub(p1, p0), [&](ExprId) {
    ExprId bv = f_.load(packB_, f_.localRef(bOff), vecTy_);
    for (int64_t r = 0; r < kTileRows; ++r) {
      ExprId av = f_.broadcast(f_.load(packA_, f_.add(f_.localRef(aOff), c(r)), ty_), nr_);
      int32_t l = acc[static_cast<size_t>(r)];
      b_.assign(l, f_.fma(av, bv, f_.localRef(l)));
    }
    b_.assign(aOff, f_.add(f_.localRef(aOff), c(kTileRows)));
    b_.assign(bOff, f_.add(f_.localRef(bOff), c(nr_)));
  });
  for (int64_t r = 0; r < kTileRows; ++r)
    b_.when(inC(r), [&] { b_.store(out_, cRow[static_cast<size_t>(r)], f_.localRef(acc[static_cast<size_t>(r)]), mask); });
}

std::vector<Ty> kernelParamTypes() { return {kI64, kI64, kI64, kPtr, kI64, kI64, kPtr, kI64, kI64, kPtr}; }

} // namespace

Callee gemmCallee(const std::string &symbol) { return {symbol, kVoid, kernelParamTypes(), true}; }

Callee tiledKernelCallee(DType dt, Form form) {
  Callee c = gemmCallee(std::string("gradc_tiled_gemm_") + dtypeName(dt) + "_" + (form.aTransposed ? "tn" : "nn"));
  // As aAt and bAt read them (the stride that is 1 in the form is not read); C by rows of n.
  using Axes = std::vector<ArgFootprint::Axis>;
  Axes a = form.aTransposed ? Axes{{kM, kNone}, {kK, kCsa}} : Axes{{kM, kRsa}, {kK, kNone}};
  c.footprints = {{kA, false, a}, {kB, false, {{kK, kRsb}, {kN, kNone}}}, {kC, true, {{kM, kN}, {kN, kNone}}}};
  return c;
}

std::unique_ptr<Func> tiledKernel(DType dt, Form form) {
  const char *names[] = {"m", "n", "k", "A", "rsa", "csa", "B", "rsb", "csb", "C"};
  std::vector<Ty> types = kernelParamTypes();
  std::vector<Param> params;
  for (size_t i = 0; i < types.size(); ++i)
    params.push_back({names[i], types[i], types[i] == kPtr});
  auto f = std::make_unique<Func>(tiledKernelCallee(dt, form).symbol, kVoid, params, Linkage::Internal);
  f->noinline = true;
  f->shared = true;
  std::string t = dt == DType::F64 ? "double" : "float";
  f->cReturn = "void";
  f->cParams = {"int64_t", "int64_t", "int64_t", "const " + t + " *", "int64_t", "int64_t", "const " + t + " *",
                "int64_t", "int64_t", t + " *"};
  f->body = KernelBuilder(*f, dt, form).build();
  return f;
}

} // namespace gradc::loops
