// LowerRowSweep.cpp: a row sweep (Schedule.h's RowSweep) in LLVM IR: one pass over W's rows
// computes q = W @ x, the vectors elementwise in q, rows of the outer products and the
// products W^T g.
//
// Rows go in blocks of kSweepRows. One loop over the columns does two things at once: the
// dot products of the next block's rows with x, and the current block's updates (rows of
// g v^T written, r += g[i] W[i, :]). So the loop reads the next rows from memory while it
// writes the outer products' rows, as a copy loop does, and reads the current rows a
// second time from cache. Large outer products are written with non-temporal stores: no
// read of the destination before writing it. Measured on l2wx (BENCHMARKS.md).
#include "backend/FunctionEmitter.h"

#include "backend/LoopNest.h"

#include <llvm/IR/Intrinsics.h>

namespace gradc::lowering {

namespace {

constexpr int64_t kSweepRows = 4;
// Outer products at least this big (bytes) bypass the cache; smaller ones are likely read
// again while still in it.
constexpr int64_t kNontemporalMinBytes = 16 << 20;
// The rows whose dot products a sweep computes are prefetched this far ahead: with several
// rows read at once the hardware prefetcher alone leaves the loop waiting on memory (l2wx
// n = 4096: 9.3 ms without, BENCHMARKS.md with).
constexpr int64_t kPrefetchBytes = 512;

} // namespace

void FunctionEmitter::emitRowSweep(const RowSweep &sw) {
  const Node &mv = g_.node(sw.matvec);
  DType dt = mv.type.dtype;
  llvm::Type *ty = llvmType(ctx_, dt);
  const int64_t vl = 64 / byteSize(dt);
  auto *vecTy = llvm::FixedVectorType::get(ty, static_cast<unsigned>(vl));
  llvm::Align align(static_cast<uint64_t>(byteSize(dt)));
  NodeId wNode = mv.operands[0];
  MatrixInMemory wm;
  matrixInMemory(g_, s_, wNode, dt, wm);
  StridedMatrix w = stridedMatrix(wNode, wm);
  const Shape &ws = g_.type(wNode).shape;
  LVal m = dimValue(ws[0]), n = dimValue(ws[1]);
  LVal x = basePointer(mv.operands[1]), q = basePointer(sw.matvec);

  auto c = [&](int64_t v) { return b_.getInt64(static_cast<uint64_t>(v)); };
  auto add = [&](LVal a, LVal b) { return b_.CreateAdd(a, b, "", true, true); };
  auto sub = [&](LVal a, LVal b) { return b_.CreateSub(a, b, "", true, true); };
  auto mul = [&](LVal a, LVal b) { return b_.CreateMul(a, b, "", true, true); };
  auto at = [&](LVal base, LVal offset) { return b_.CreateInBoundsGEP(ty, base, offset); };
  auto splat = [&](LVal v) { return b_.CreateVectorSplat(static_cast<unsigned>(vl), v); };
  std::vector<llvm::Constant *> laneIds;
  for (int64_t l = 0; l < vl; ++l)
    laneIds.push_back(c(l));
  LVal lanes = llvm::ConstantVector::get(laneIds);
  auto firstLanes = [&](LVal count) { return b_.CreateICmpSLT(lanes, splat(count)); };
  LVal zero = llvm::Constant::getNullValue(vecTy);
  auto load = [&](LVal p, LVal mask) {
    return mask ? static_cast<LVal>(b_.CreateMaskedLoad(vecTy, p, align, mask, zero))
                : static_cast<LVal>(b_.CreateAlignedLoad(vecTy, p, align));
  };
  auto fma = [&](LVal a, LVal b, LVal acc) {
    return b_.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vecTy}, {a, b, acc});
  };

  struct Outer {
    LVal out, v;
    NodeId g;
  };
  std::vector<Outer> outers;
  for (NodeId o : sw.outers) {
    NodeId vNode = g_.node(o).operands[1];
    MatrixInMemory vm;
    matrixInMemory(g_, s_, vNode, dt, vm);
    outers.push_back({basePointer(o), basePointer(vm.buffer), g_.node(o).operands[0]});
  }
  struct Transposed {
    LVal out;
    NodeId g;
  };
  std::vector<Transposed> transposed;
  for (NodeId t : sw.transposed) {
    transposed.push_back({basePointer(t), g_.node(t).operands[1]});
    LoopNest::forEach(b_, {n}, [&](const std::vector<LVal> &j) {
      b_.CreateAlignedStore(konst(0.0, dt), at(transposed.back().out, j[0]), align);
    });
  }

  std::vector<LVal> acc;
  for (int64_t k = 0; k < kSweepRows; ++k)
    acc.push_back(LoopNest::entryAlloca(b_, vecTy));
  auto wRow = [&](LVal i) { return at(w.base, mul(i, w.rowStride)); };

  // The g of each product for `rows` rows from i0, and the row values there (stored first:
  // the g read them).
  struct Block {
    std::vector<LVal> wRows;              // W's rows
    std::vector<std::vector<LVal>> outer; // per outer product: [row pointer, g splat] per row
    std::vector<std::vector<LVal>> trans; // per transposed product: g splat per row
  };
  auto prepare = [&](LVal i0, int64_t rows) {
    Block blk;
    for (int64_t k = 0; k < rows; ++k) {
      LVal i = add(i0, c(k));
      for (NodeId e : sw.rowValues) {
        memo_.clear();
        storeValue(elementPointer(basePointer(e), g_.type(e).dtype, g_.type(e).shape, {i}), compute(e, {i}),
                   g_.type(e).dtype, g_.type(e).dtype);
      }
    }
    for (int64_t k = 0; k < rows; ++k) {
      LVal i = add(i0, c(k));
      blk.wRows.push_back(wRow(i));
    }
    for (const Outer &o : outers) {
      blk.outer.emplace_back();
      for (int64_t k = 0; k < rows; ++k) {
        LVal i = add(i0, c(k));
        memo_.clear();
        blk.outer.back().push_back(at(o.out, mul(i, n)));
        blk.outer.back().push_back(splat(elementAs(o.g, {i, c(0)}, dt)));
      }
    }
    for (const Transposed &t : transposed) {
      blk.trans.emplace_back();
      for (int64_t k = 0; k < rows; ++k) {
        LVal i = add(i0, c(k));
        memo_.clear();
        std::vector<LVal> gi = g_.type(t.g).shape.size() == 2 ? std::vector<LVal>{i, c(0)} : std::vector<LVal>{i};
        blk.trans.back().push_back(splat(elementAs(t.g, gi, dt)));
      }
    }
    memo_.clear();
    return blk;
  };

  // The columns from j (a vector, or its first lanes under `mask`): the dot products of
  // W's rows `dots` with x, and the updates of `upd` (nullptr: none).
  auto columns = [&](LVal j, LVal mask, bool nontemporal, const std::vector<LVal> &dots, const Block *upd) {
    LVal xv = load(at(x, j), mask);
    for (size_t k = 0; k < dots.size(); ++k) {
      if (!mask) // one 64-byte line per row and vector
        b_.CreateIntrinsic(llvm::Intrinsic::prefetch, {b_.getPtrTy()},
                           {at(dots[k], add(j, c(kPrefetchBytes / byteSize(dt)))), b_.getInt32(0), b_.getInt32(3),
                            b_.getInt32(1)});
      b_.CreateStore(fma(load(at(dots[k], j), mask), xv, b_.CreateLoad(vecTy, acc[k])), acc[k]);
    }
    if (!upd)
      return;
    std::vector<LVal> wv;
    if (!transposed.empty())
      for (LVal row : upd->wRows)
        wv.push_back(load(at(row, j), mask));
    for (size_t o = 0; o < outers.size(); ++o) {
      LVal vv = load(at(outers[o].v, j), mask);
      const std::vector<LVal> &rows = upd->outer[o];
      for (size_t k = 0; k + 1 < rows.size(); k += 2) {
        LVal val = b_.CreateFMul(rows[k + 1], vv);
        LVal p = at(rows[k], j);
        if (mask) {
          b_.CreateMaskedStore(val, p, align, mask);
        } else if (nontemporal) {
          llvm::StoreInst *st = b_.CreateAlignedStore(val, p, llvm::Align(64));
          st->setMetadata(llvm::LLVMContext::MD_nontemporal,
                          llvm::MDNode::get(ctx_, llvm::ConstantAsMetadata::get(b_.getInt32(1))));
        } else {
          b_.CreateAlignedStore(val, p, align);
        }
      }
    }
    for (size_t t = 0; t < transposed.size(); ++t) {
      LVal p = at(transposed[t].out, j);
      LVal r = load(p, mask);
      for (size_t k = 0; k < wv.size(); ++k)
        r = fma(upd->trans[t][k], wv[k], r);
      if (mask)
        b_.CreateMaskedStore(r, p, align, mask);
      else
        b_.CreateAlignedStore(r, p, align);
    }
  };
  // All columns: `head` columns first (aligning the outer products' rows to 64 bytes for
  // non-temporal stores; nullptr: none), whole vectors, a tail; then q[i] for each row i
  // of `dotRows`.
  auto allColumns = [&](LVal head, bool nontemporal, const std::vector<LVal> &dotRows, const Block *upd) {
    std::vector<LVal> dots;
    for (size_t k = 0; k < dotRows.size(); ++k) {
      dots.push_back(wRow(dotRows[k]));
      b_.CreateStore(zero, acc[k]);
    }
    if (head)
      columns(c(0), firstLanes(head), false, dots, upd);
    LVal start = head ? head : c(0);
    LVal whole = b_.CreateSDiv(sub(n, start), c(vl));
    LoopNest::forEach(b_, {whole}, [&](const std::vector<LVal> &t) {
      columns(add(start, mul(t[0], c(vl))), nullptr, nontemporal, dots, upd);
    });
    LVal j = add(start, mul(whole, c(vl)));
    columns(j, firstLanes(sub(n, j)), false, dots, upd);
    llvm::IRBuilder<>::FastMathFlagGuard guard(b_);
    llvm::FastMathFlags fmf;
    fmf.setAllowReassoc();
    fmf.setAllowContract();
    b_.setFastMathFlags(fmf);
    for (size_t k = 0; k < dotRows.size(); ++k)
      b_.CreateAlignedStore(b_.CreateFAddReduce(konst(0.0, dt), b_.CreateLoad(vecTy, acc[k])),
                            at(q, dotRows[k]), align);
  };
  auto smin = [&](LVal a, LVal b) { return b_.CreateSelect(b_.CreateICmpSLT(a, b), a, b); };
  LVal lastRow = sub(m, c(1));
  auto dotRowsFrom = [&](LVal i0) { // rows past the last recompute it: same value, stored again
    std::vector<LVal> rows;
    for (int64_t k = 0; k < kSweepRows; ++k)
      rows.push_back(smin(add(i0, c(k)), lastRow));
    return rows;
  };

  // Non-temporal stores when the outer products are big, their rows 64-byte aligned alike,
  // and the head columns bring them to a 64-byte boundary.
  LVal nontemporal = nullptr, head = nullptr;
  if (!outers.empty()) {
    LVal bytes = c(byteSize(dt));
    auto addr = [&](LVal p) { return b_.CreatePtrToInt(p, b_.getInt64Ty()); };
    LVal a0 = addr(outers[0].out);
    nontemporal = b_.CreateAnd(
        b_.CreateICmpSGE(mul(mul(m, n), bytes), c(kNontemporalMinBytes)),
        b_.CreateAnd(b_.CreateICmpEQ(b_.CreateURem(mul(n, bytes), c(64)), c(0)),
                     b_.CreateICmpEQ(b_.CreateURem(a0, bytes), c(0))));
    for (size_t o = 1; o < outers.size(); ++o)
      nontemporal = b_.CreateAnd(nontemporal, b_.CreateICmpEQ(b_.CreateURem(b_.CreateSub(addr(outers[o].out), a0), c(64)), c(0)));
    head = smin(b_.CreateUDiv(b_.CreateURem(b_.CreateSub(c(64), b_.CreateURem(a0, c(64))), c(64)), bytes), n);
  }

  // The first block's dot products (all rows' when fewer than a block).
  LoopNest::forEach(b_, {smin(m, c(1))}, [&](const std::vector<LVal> &) {
    allColumns(nullptr, false, dotRowsFrom(c(0)), nullptr);
  });
  // Whole blocks: their updates, and the next block's dot products.
  LVal blocks = b_.CreateSDiv(m, c(kSweepRows));
  LoopNest::forEach(b_, {blocks}, [&](const std::vector<LVal> &blk) {
    LVal i0 = mul(blk[0], c(kSweepRows));
    Block upd = prepare(i0, kSweepRows);
    std::vector<LVal> next = dotRowsFrom(add(i0, c(kSweepRows)));
    if (!nontemporal) {
      allColumns(nullptr, false, next, &upd);
      return;
    }
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    auto *streaming = llvm::BasicBlock::Create(ctx_, "sweep.nontemporal", f);
    auto *cached = llvm::BasicBlock::Create(ctx_, "sweep.cached", f);
    auto *done = llvm::BasicBlock::Create(ctx_, "sweep.done", f);
    b_.CreateCondBr(nontemporal, streaming, cached);
    b_.SetInsertPoint(streaming);
    allColumns(head, true, next, &upd);
    b_.CreateBr(done);
    b_.SetInsertPoint(cached);
    allColumns(nullptr, false, next, &upd);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  });
  // The rows after the last whole block, one by one (their q are known).
  LoopNest::forRange(b_, mul(blocks, c(kSweepRows)), m, {}, [&](const std::vector<LVal> &i) {
    Block upd = prepare(i[0], 1);
    allColumns(nullptr, false, {}, &upd);
  });
}

} // namespace gradc::lowering
