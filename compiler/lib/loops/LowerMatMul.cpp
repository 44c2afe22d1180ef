// LowerMatMul.cpp: matrix products as loops: dot products, the host's gemm (CBLAS in the
// JIT), gradc's tiled kernel, and row updates for the rest.
#include "loops/FunctionLowering.h"

#include "ir/OpTable.h"
#include "loops/TiledKernel.h"

namespace gradc::loops {

// C = A @ B with A [m, k] or [k], B [k, n] or [k]: dot products for a vector B, and for
// matrices the host's gemm, the tiled kernel or row updates, the first that applies; batches
// of matrices (rank above 2) by emitBatchedMatMul.
ExprId FunctionLowering::emitMatMul(NodeId n, int32_t out) {
  const Node &node = g_.node(n);
  NodeId a = node.operands[0], bb = node.operands[1];
  const Shape &as = g_.type(a).shape, &bs = g_.type(bb).shape;
  DType dt = node.type.dtype;
  Ty ty = registerTy(dt);
  auto get = [&](NodeId x, const std::vector<ExprId> &idx) { return elementAs(x, idx, dt); };
  ExprId k = dimValue(as.back());
  if (as.size() > 2) {
    emitBatchedMatMul(n, out);
    return kNone;
  }
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
      }, kRolled);
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
        }, kRolled);
      }, kRolled);
      return kNone;
    }
    b_->loop(f_->i64(0), dimValue(as[0]), [&](ExprId i) { storeValue(out, i, dot({i}), dt, dt); }, kRolled);
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
    }, kRolled);
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

// Where matrix operand x (a buffer or a transposed view of one, `mem`) is, and its strides;
// the first matrix of a batch.
FunctionLowering::StridedMatrix FunctionLowering::stridedMatrix(NodeId x, const MatrixInMemory &mem) {
  const Shape &shape = g_.type(x).shape;
  const Dim &rows = shape[shape.size() - 2], &cols = shape.back();
  return mem.transposed ? StridedMatrix{bufferOf(mem.buffer), f_->i64(1), dimValue(rows), f_->i64(0)}
                        : StridedMatrix{bufferOf(mem.buffer), dimValue(cols), f_->i64(1), f_->i64(0)};
}

// C = A @ B by `gemm` (a host gemm or the tiled kernel: their signature in TiledKernel.h).
// Whether the call is to be inlined.
bool FunctionLowering::callGemm(const Callee &gemm, NodeId n, const StridedMatrix &am, const StridedMatrix &bm,
                                int32_t out, ExprId outOffset, bool ownKernel) {
  const Node &node = g_.node(n);
  const Shape &as = g_.type(node.operands[0]).shape, &bs = g_.type(node.operands[1]).shape;
  size_t r = as.size();
  std::vector<ExprId> args = {dimValue(as[r - 2]),        dimValue(bs[r - 1]), dimValue(as[r - 1]),
                              f_->addr(am.buffer, am.offset), am.rowStride,     am.colStride,
                              f_->addr(bm.buffer, bm.offset), bm.rowStride,     bm.colStride,
                              f_->addr(out, outOffset)};
  // With the extents known, a copy of gradc's kernel specialized to them is worth its compile
  // time (constant trip counts and strides; square 1024^3 f32 ran 20-40% slower through the
  // shared copy, measured before whole panels were packed without a mask).
  bool known = ownKernel;
  for (size_t k = 0; k < 3; ++k)
    known = known && f_->expr(args[k]).op == Op::Int;
  b_->emit(f_->eval(f_->call(f_->callee(gemm), args, known ? kInlineCall : 0)));
  return known;
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
  Callee gemm = gemmCallee(dt == DType::F64 ? kHostGemmF64 : kHostGemmF32);
  auto call = [&] { callGemm(gemm, n, stridedMatrix(a, aMem), stridedMatrix(bb, bMem), out, f_->i64(0), false); };
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

// A product of matrices in memory: a call of the tiled kernel (TiledKernel.h) of its dtype
// and form, defined once per module.
bool FunctionLowering::emitTiledMatMul(NodeId n, int32_t out) {
  const Node &node = g_.node(n);
  DType dt = node.type.dtype;
  NodeId a = node.operands[0], bb = node.operands[1];
  MatrixInMemory aMem, bMem;
  if (!tilesMatMul(g_, s_, n, aMem, bMem))
    return false;
  callTiledKernel(dt, Form{aMem.transposed}, n, stridedMatrix(a, aMem), stridedMatrix(bb, bMem), out, f_->i64(0));
  return true;
}

// A call of the tiled kernel; the module defines it unless the call goes to the copy compiled
// ahead of time (LoweringOptions::runtimeKernels, for calls it does not inline).
void FunctionLowering::callTiledKernel(DType dt, Form form, NodeId n, const StridedMatrix &am,
                                       const StridedMatrix &bm, int32_t out, ExprId outOffset) {
  bool inlined = callGemm(tiledKernelCallee(dt, form), n, am, bm, out, outOffset, true);
  if (inlined || !plan_.opts.runtimeKernels)
    kernels_.insert({dt, form});
}

// A batch of products C[b] = A[b] @ B[b] (equal batch axes: ExprBuilder::batchedMatMul): a
// call of the tiled kernel per batch index on matrices in memory (matrices broadcast along
// batch axes are read in place), else a dot product per element.
void FunctionLowering::emitBatchedMatMul(NodeId n, int32_t out) {
  const Node &node = g_.node(n);
  NodeId a = node.operands[0], bb = node.operands[1];
  const Shape &shape = node.type.shape;
  Shape batch(shape.begin(), shape.end() - 2);
  DType dt = node.type.dtype;
  ExprId m = dimValue(shape[shape.size() - 2]), ncols = dimValue(shape.back());
  ExprId k = dimValue(g_.type(a).shape.back());
  MatrixInMemory aMem, bMem;
  if (tilesMatMul(g_, s_, n, aMem, bMem)) {
    Form form{aMem.transposed};
    b_->loopNest(extentsOf(batch), [&](const std::vector<ExprId> &idx) {
      // Batch index idx's matrix of operand x: the buffer's batch axes align with the
      // result's from the right, and one of length 1 (broadcast) stays at 0.
      auto matrix = [&](NodeId x, const MatrixInMemory &mem) {
        StridedMatrix sm = stridedMatrix(x, mem);
        const Shape &from = g_.type(mem.buffer).shape;
        size_t axes = from.size() - 2, skip = idx.size() - axes;
        ExprId stride = f_->mul(dimValue(from[axes]), dimValue(from[axes + 1]));
        for (size_t j = axes; j-- > 0;) {
          if (!(from[j] == Dim::lit(1)))
            sm.offset = f_->add(sm.offset, f_->mul(idx[skip + j], stride));
          stride = f_->mul(stride, dimValue(from[j]));
        }
        return sm;
      };
      callTiledKernel(dt, form, n, matrix(a, aMem), matrix(bb, bMem), out,
                      f_->mul(linearIndex(batch, idx), f_->mul(m, ncols)));
    });
    return;
  }
  Ty ty = registerTy(dt);
  ExprId combine = combineOf(opInfo(IrOp::Sum), dt);
  b_->loopNest(extentsOf(shape), [&](const std::vector<ExprId> &idx) {
    int32_t acc = b_->let(ty, konst(0.0, dt), "dot" + std::to_string(n));
    b_->loop(f_->i64(0), k, [&](ExprId p) {
      memo_.clear();
      std::vector<ExprId> ai(idx.begin(), idx.end() - 1), bi(idx.begin(), idx.end() - 2);
      ai.push_back(p); // [batch..., i, p]
      bi.push_back(p); // [batch..., p, j]
      bi.push_back(idx.back());
      b_->emit(f_->accumulate(acc, f_->mul(elementAs(a, ai, dt), elementAs(bb, bi, dt)), combine, kReassocAcc,
                              konst(0.0, dt)));
      memo_.clear();
    }, kRolled);
    storeValue(out, linearIndex(shape, idx), f_->localRef(acc), dt, dt);
  }, kRolled);
}

} // namespace gradc::loops
