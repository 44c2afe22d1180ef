// LowerRowSweep.cpp: a row sweep (Schedule.h's RowSweep) as loops: one pass over W's rows
// computes q = W @ x, the vectors elementwise in q, rows of the outer products and the
// products W^T g.
//
// Rows go in blocks of kSweepRows. One loop over the columns does two things at once: the
// dot products of the next block's rows with x, and the current block's updates (rows of
// g v^T written, r += g[i] W[i, :]). So the loop reads the next rows from memory while it
// writes the outer products' rows, as a copy loop does, and reads the current rows a second
// time from cache. Large outer products are written with streaming stores: no read of the
// destination before writing it. Measured on l2wx (BENCHMARKS.md).
#include "loops/FunctionLowering.h"

namespace gradc::loops {

namespace {

constexpr int64_t kSweepRows = 4;
// Outer products at least this big (bytes) bypass the cache; smaller ones are likely read
// again while still in it.
constexpr int64_t kStreamingMinBytes = 16 << 20;
// The rows whose dot products a sweep computes are prefetched this far ahead: with several
// rows read at once the hardware prefetcher alone leaves the loop waiting on memory (l2wx
// n = 4096: 9.3 ms without, BENCHMARKS.md with).
constexpr int64_t kPrefetchBytes = 512;

} // namespace

// What every part of one sweep reads: the types, W (with its strides), x and q, the products
// updated row by row, loop-invariant bounds, and whether and from which column the outer
// products' rows are written with streaming stores; and the vectors' spellings.
struct FunctionLowering::SweepOperands {
  struct Outer { // an outer product g v^T: its buffer, v's buffer and g
    int32_t out, v;
    NodeId g;
  };
  struct Transposed { // a product W^T g: its buffer and g
    int32_t out;
    NodeId g;
  };

  SweepOperands(Func &f, const RowSweep &sw) : f(f), sw(sw) {}

  ExprId c(int64_t v) const { return f.i64(v); }
  ExprId splat(ExprId v) const { return f.broadcast(v, vl); }
  ExprId firstLanes(ExprId count) const { return f.compare(Op::Lt, f.ramp(c(0), vl), splat(count)); }
  ExprId load(int32_t buffer, ExprId at, ExprId mask) const { return f.load(buffer, at, vecTy, mask); }
  ExprId wRow(ExprId i) const { return f.mul(i, w.rowStride); } // the index where row i starts
  // The rows of a block from i0 whose dot products are computed: rows past the last recompute
  // it (same value, stored again).
  std::vector<ExprId> dotRowsFrom(ExprId i0) const {
    std::vector<ExprId> rows;
    for (int64_t k = 0; k < kSweepRows; ++k)
      rows.push_back(f.min(f.add(i0, c(k)), lastRow));
    return rows;
  }

  Func &f;
  const RowSweep &sw;
  DType dt = DType::F64;
  Ty ty, vecTy;
  int64_t bytes = 0;
  uint16_t vl = 0;
  StridedMatrix w;
  ExprId m = kNone, n = kNone;
  int32_t x = kNone, q = kNone;
  ExprId zero = kNone;
  std::vector<Outer> outers;
  std::vector<Transposed> transposed;
  ExprId lastElement = kNone, lastRow = kNone;
  ExprId streaming = kNone, head = kNone; // kNone: no streaming stores (no outer products)
};

// The updates of one block of rows (prepareSweepBlock).
struct FunctionLowering::SweepBlock {
  std::vector<ExprId> wRows;              // where W's rows start
  std::vector<std::vector<ExprId>> outer; // per outer product: [row start, g splat] per row
  std::vector<std::vector<ExprId>> trans; // per transposed product: g splat per row
};

void FunctionLowering::emitRowSweep(const RowSweep &sw) {
  SweepOperands op = sweepOperands(sw);
  chooseStreamingStores(op);
  auto c = [&](int64_t v) { return f_->i64(v); };
  ExprId m = op.m;

  // The first block's dot products (all rows' when fewer than a block).
  b_->loop(c(0), f_->min(m, c(1)), [&](ExprId) { sweepAllColumns(op, kNone, false, op.dotRowsFrom(c(0)), nullptr); });
  // Whole blocks: their updates, and the next block's dot products.
  ExprId blocks = keep(f_->div(m, c(kSweepRows)), "blocks");
  b_->loop(c(0), blocks, [&](ExprId blk) {
    ExprId i0 = keep(f_->mul(blk, c(kSweepRows)), "i0");
    SweepBlock upd = prepareSweepBlock(op, i0, kSweepRows);
    std::vector<ExprId> next = op.dotRowsFrom(f_->add(i0, c(kSweepRows)));
    if (op.streaming == kNone) {
      sweepAllColumns(op, kNone, false, next, &upd);
      return;
    }
    b_->when(
        op.streaming, [&] { sweepAllColumns(op, op.head, true, next, &upd); },
        [&] { sweepAllColumns(op, kNone, false, next, &upd); });
  });
  // The rows after the last whole block, one by one (their q are known).
  b_->loop(f_->mul(blocks, c(kSweepRows)), m, [&](ExprId i) {
    SweepBlock upd = prepareSweepBlock(op, i, 1);
    sweepAllColumns(op, kNone, false, {}, &upd);
  });
}

// The sweep's operands; the products W^T g start from zero.
FunctionLowering::SweepOperands FunctionLowering::sweepOperands(const RowSweep &sw) {
  SweepOperands op(*f_, sw);
  auto c = [&](int64_t v) { return f_->i64(v); };
  const Node &mv = g_.node(sw.matvec);
  DType dt = op.dt = mv.type.dtype;
  Ty ty = op.ty = registerTy(dt);
  op.bytes = kindBytes(ty.kind);
  op.vl = static_cast<uint16_t>(kVectorBytes / op.bytes);
  op.vecTy = ty.withLanes(op.vl);
  NodeId wNode = mv.operands[0];
  MatrixInMemory wm;
  matrixInMemory(g_, s_, wNode, dt, wm);
  op.w = stridedMatrix(wNode, wm);
  const Shape &ws = g_.type(wNode).shape;
  ExprId m = op.m = dimValue(ws[0]), n = op.n = dimValue(ws[1]);
  op.x = bufferOf(mv.operands[1]);
  op.q = bufferOf(sw.matvec);
  op.zero = op.splat(f_->floatImm(ty, 0.0));

  for (NodeId o : sw.outers) {
    MatrixInMemory vm;
    matrixInMemory(g_, s_, g_.node(o).operands[1], dt, vm);
    op.outers.push_back({bufferOf(o), bufferOf(vm.buffer), g_.node(o).operands[0]});
  }
  for (NodeId t : sw.transposed) {
    op.transposed.push_back({bufferOf(t), g_.node(t).operands[1]});
    b_->loop(c(0), n, [&](ExprId j) { b_->store(op.transposed.back().out, j, konst(0.0, dt)); });
  }
  op.lastElement = keep(f_->add(f_->mul(f_->sub(m, c(1)), op.w.rowStride), f_->mul(f_->sub(n, c(1)), op.w.colStride)),
                        "w_last");
  op.lastRow = keep(f_->sub(m, c(1)), "last_row");
  return op;
}

// Streaming stores when the outer products are big, their rows aligned alike to cache lines,
// and the head columns bring them to a line's boundary.
void FunctionLowering::chooseStreamingStores(SweepOperands &op) {
  if (op.outers.empty())
    return;
  auto c = [&](int64_t v) { return f_->i64(v); };
  ExprId m = op.m, n = op.n;
  const int64_t bytes = op.bytes;
  auto address = [&](int32_t buffer) { return f_->cast(kU64, f_->addr(buffer, c(0))); };
  auto u = [&](int64_t v) { return f_->u64(static_cast<uint64_t>(v)); };
  ExprId a0 = keep(address(op.outers[0].out), "out_at");
  ExprId total = f_->mul(f_->mul(m, n), c(bytes));
  ExprId ok = f_->logic(Op::And, f_->compare(Op::Ge, total, c(kStreamingMinBytes)),
                        f_->logic(Op::And, f_->compare(Op::Eq, f_->rem(f_->mul(n, c(bytes)), c(kCacheLineBytes)), c(0)),
                                  f_->compare(Op::Eq, f_->rem(a0, u(bytes)), u(0))));
  for (size_t o = 1; o < op.outers.size(); ++o)
    ok = f_->logic(Op::And, ok, f_->compare(Op::Eq, f_->rem(f_->sub(address(op.outers[o].out), a0), u(kCacheLineBytes)), u(0)));
  op.streaming = keep(ok, "streaming");
  ExprId line = u(kCacheLineBytes);
  ExprId headBytes = f_->rem(f_->sub(line, f_->rem(a0, line)), line);
  op.head = keep(f_->min(f_->cast(kI64, f_->div(headBytes, u(bytes))), n), "head");
}

// The g of each product for `rows` rows from i0, and the row values there (stored first:
// the g read them).
FunctionLowering::SweepBlock FunctionLowering::prepareSweepBlock(const SweepOperands &op, ExprId i0, int64_t rows) {
  auto c = [&](int64_t v) { return f_->i64(v); };
  DType dt = op.dt;
  SweepBlock blk;
  for (int64_t k = 0; k < rows; ++k) {
    ExprId i = f_->add(i0, c(k));
    for (NodeId e : op.sw.rowValues) {
      memo_.clear();
      storeValue(bufferOf(e), i, compute(e, {i}), g_.type(e).dtype, g_.type(e).dtype);
    }
  }
  for (int64_t k = 0; k < rows; ++k)
    blk.wRows.push_back(keep(op.wRow(f_->add(i0, c(k))), "row"));
  for (const SweepOperands::Outer &o : op.outers) {
    blk.outer.emplace_back();
    for (int64_t k = 0; k < rows; ++k) {
      ExprId i = f_->add(i0, c(k));
      memo_.clear();
      blk.outer.back().push_back(keep(f_->mul(i, op.n), "outer_row"));
      blk.outer.back().push_back(keep(op.splat(elementAs(o.g, {i, c(0)}, dt)), "g"));
    }
  }
  for (const SweepOperands::Transposed &t : op.transposed) {
    blk.trans.emplace_back();
    for (int64_t k = 0; k < rows; ++k) {
      ExprId i = f_->add(i0, c(k));
      memo_.clear();
      std::vector<ExprId> gi = g_.type(t.g).shape.size() == 2 ? std::vector<ExprId>{i, c(0)} : std::vector<ExprId>{i};
      blk.trans.back().push_back(keep(op.splat(elementAs(t.g, gi, dt)), "g"));
    }
  }
  memo_.clear();
  return blk;
}

// The columns from j (a vector, or its first lanes under `mask`): the dot products of W's
// rows starting at `dots` with x into `acc`, and the updates of `upd` (nullptr: none).
void FunctionLowering::sweepColumns(const SweepOperands &op, ExprId j, ExprId mask, bool streaming,
                                    const std::vector<ExprId> &dots, const std::vector<int32_t> &acc,
                                    const SweepBlock *upd) {
  auto c = [&](int64_t v) { return f_->i64(v); };
  const StridedMatrix &w = op.w;
  ExprId xv = op.load(op.x, j, mask);
  for (size_t k = 0; k < dots.size(); ++k) {
    if (mask == kNone) // one 64-byte line per row and vector; never past W's last element
      b_->emit(f_->prefetch(
          f_->addr(w.buffer, f_->min(f_->add(f_->add(dots[k], j), c(kPrefetchBytes / op.bytes)), op.lastElement))));
    b_->assign(acc[k], f_->fma(op.load(w.buffer, f_->add(dots[k], j), mask), xv, f_->localRef(acc[k])));
  }
  if (!upd)
    return;
  std::vector<ExprId> wv;
  if (!op.transposed.empty())
    for (ExprId row : upd->wRows)
      wv.push_back(keep(op.load(w.buffer, f_->add(row, j), mask), "w"));
  for (size_t o = 0; o < op.outers.size(); ++o) {
    ExprId vv = keep(op.load(op.outers[o].v, j, mask), "v");
    const std::vector<ExprId> &rows = upd->outer[o];
    for (size_t k = 0; k + 1 < rows.size(); k += 2)
      b_->store(op.outers[o].out, f_->add(rows[k], j), f_->mul(rows[k + 1], vv), mask,
                streaming && mask == kNone ? kStreaming : 0);
  }
  for (size_t t = 0; t < op.transposed.size(); ++t) {
    ExprId r = op.load(op.transposed[t].out, j, mask);
    for (size_t k = 0; k < wv.size(); ++k)
      r = f_->fma(upd->trans[t][k], wv[k], r);
    b_->store(op.transposed[t].out, j, r, mask);
  }
}

// All columns: `head` columns first (aligning the outer products' rows to 64 bytes for
// streaming stores; kNone: none), whole vectors, a tail; then q[i] for each row i of
// `dotRows`.
void FunctionLowering::sweepAllColumns(const SweepOperands &op, ExprId head, bool streaming,
                                       const std::vector<ExprId> &dotRows, const SweepBlock *upd) {
  auto c = [&](int64_t v) { return f_->i64(v); };
  ExprId n = op.n;
  const uint16_t vl = op.vl;
  std::vector<ExprId> dots;
  std::vector<int32_t> acc;
  for (size_t k = 0; k < dotRows.size(); ++k) {
    dots.push_back(keep(op.wRow(dotRows[k]), "dot_row"));
    acc.push_back(b_->let(op.vecTy, op.zero, "q" + std::to_string(k)));
  }
  if (head != kNone)
    sweepColumns(op, c(0), op.firstLanes(head), false, dots, acc, upd);
  ExprId start = head != kNone ? head : c(0);
  ExprId whole = keep(f_->div(f_->sub(n, start), c(vl)), "whole");
  b_->loop(c(0), whole,
           [&](ExprId t) { sweepColumns(op, f_->add(start, f_->mul(t, c(vl))), kNone, streaming, dots, acc, upd); });
  ExprId j = keep(f_->add(start, f_->mul(whole, c(vl))), "tail");
  sweepColumns(op, j, op.firstLanes(f_->sub(n, j)), false, dots, acc, upd);
  for (size_t k = 0; k < dotRows.size(); ++k)
    b_->store(op.q, dotRows[k], f_->reduceAdd(f_->localRef(acc[k])));
}

} // namespace gradc::loops
