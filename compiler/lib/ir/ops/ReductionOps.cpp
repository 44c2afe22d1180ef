// ReductionOps.cpp: sums over axes and matrix products, with their gradients.
#include "ir/OpTable.h"
#include "ir/ops/TensorWalk.h"

#include "ir/ElementBuilder.h"

#include <algorithm>
#include <limits>

namespace gradc {

namespace {

// --- sum: ints = the reduced axes, ascending; they are dropped from the shape ---

bool sumShape(const ShapeQuery &q, Type &out, std::string &error) {
  const Shape &s = q.in[0]->shape;
  out = Type{isFloat(q.in[0]->dtype) ? q.in[0]->dtype : DType::F64, {}};
  int64_t prev = -1;
  for (int64_t a : q.attrs.ints) {
    if (a <= prev || a >= static_cast<int64_t>(s.size())) {
      error = "bad reduction axis " + std::to_string(a) + " for " + q.dims.str(s);
      return false;
    }
    prev = a;
  }
  size_t j = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    if (j < q.attrs.ints.size() && q.attrs.ints[j] == static_cast<int64_t>(k))
      ++j;
    else
      out.shape.push_back(s[k]);
  }
  return true;
}

// The interpreter reduces in source (row-major) order: it is the oracle for exactness.
// The op's scalar2 joins an element to the accumulator, which starts at reduceInit.
void evalReduce(EvalContext &c) {
  const OpInfo &info = opInfo(c.node.op);
  const Tensor &a = *c.in[0];
  const auto &axes = c.node.ints;
  std::vector<bool> reduced(a.shape.size(), false);
  for (int64_t ax : axes)
    reduced[static_cast<size_t>(ax)] = true;
  c.out.shape.clear();
  for (size_t k = 0; k < a.shape.size(); ++k)
    if (!reduced[k])
      c.out.shape.push_back(a.shape[k]);
  c.out.data.assign(static_cast<size_t>(elementCount(c.out.shape)), info.reduceInit);
  std::vector<int64_t> outStride = rowMajorStrides(c.out.shape);
  forEachIndex(a.shape, [&](const std::vector<int64_t> &idx, int64_t lin) {
    int64_t dst = 0;
    size_t j = 0;
    for (size_t k = 0; k < idx.size(); ++k)
      if (!reduced[k])
        dst += idx[k] * outStride[j++];
    double &acc = c.out.data[static_cast<size_t>(dst)];
    acc = info.scalar2(acc, a.data[static_cast<size_t>(lin)]);
  });
}

// v (of a reduction's result shape) put back over the reduced axes: reshaped with those
// axes as size 1, then broadcast to `in`'s shape. (By value: building nodes may move the
// graph's node array, where callers' shapes and axes live.)
NodeId spreadBack(Graph &g, NodeId v, Shape in, std::vector<int64_t> axes) {
  Attrs keep;
  keep.type = Type{g.type(v).dtype, {}};
  size_t j = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    bool r = j < axes.size() && axes[j] == static_cast<int64_t>(k);
    keep.type.shape.push_back(r ? Dim::lit(1) : in[k]);
    j += r;
  }
  NodeId kept = g.make(Op::Reshape, {v}, keep);
  Attrs wide;
  wide.type = Type{keep.type.dtype, in};
  return g.make(Op::Broadcast, {kept}, wide);
}

// max/min reductions route the gradient to the elements equal to the extreme, split
// equally among ties (PyTorch's amax/amin): mask = (a == m), count = sum(mask),
// da = where(mask, g / count, 0 / count). When the result is NaN no element equals it:
// count = 0 and every element's gradient is 0/0 = NaN, as amax's (a zero gradient would
// hide the NaN).
struct ExtremeMask {
  NodeId mask, count;
};
ExtremeMask extremeMask(Graph &g, NodeId self) {
  const Node &n = g.node(self);
  NodeId a = n.operands[0];
  const auto axes = n.ints;
  NodeId m = spreadBack(g, self, g.type(a).shape, axes);
  NodeId mask = g.make(Op::Eq, {a, m});
  Attrs sum;
  sum.ints = axes;
  return {mask, g.make(Op::Sum, {mask}, sum)};
}

void vjpExtreme(VjpContext &c) {
  const auto axes = c.g.node(c.self).ints;
  const Shape in = c.g.type(c.in(0)).shape;
  ExtremeMask e = extremeMask(c.g, c.self);
  NodeId perWinner = c.div(c.grad, e.count);
  NodeId share = spreadBack(c.g, perWinner, in, axes);
  NodeId rest = spreadBack(c.g, c.div(c.konst(0.0, perWinner), e.count), in, axes);
  c.give(0, c.g.make(Op::Where, {e.mask, share, rest}));
}

// d max(a) = sum(where(mask, da, 0)) / count
NodeId jvpExtreme(JvpContext &c) {
  if (c.tangent(0) == kNoNode)
    return kNoNode;
  ExtremeMask e = extremeMask(c.g, c.self);
  Attrs sum;
  sum.ints = c.g.node(c.self).ints;
  NodeId picked = c.g.make(Op::Where, {e.mask, c.tangent(0), c.konst(0.0, c.in(0))});
  return c.div(c.g.make(Op::Sum, {picked}, sum), e.count);
}

// The product of the other elements of each element's reduction group, safe where elements
// are 0 (PyTorch's prod_backward): out / a where the group has no zero; where it has exactly
// one, the product of the rest at that zero and 0 elsewhere; 0 everywhere with two or more.
NodeId productOfOthers(Graph &g, NodeId self) {
  const Node &n = g.node(self);
  NodeId a = n.operands[0];
  const auto axes = n.ints;
  const Shape in = g.type(a).shape;
  NodeId zero = constantLike(g, 0.0, a), one = constantLike(g, 1.0, a);
  NodeId isZero = g.make(Op::Eq, {a, zero});
  Attrs group;
  group.ints = axes;
  NodeId zeros = spreadBack(g, g.make(Op::Sum, {isZero}, group), in, axes);
  NodeId rest = spreadBack(g, g.make(Op::ReduceProd, {g.make(Op::Where, {isZero, one, a})}, group), in, axes);
  NodeId lone = g.make(Op::Where, {g.make(Op::Eq, {zeros, constantLike(g, 1.0, zeros)}), rest, zero});
  NodeId quotient = g.make(Op::Div, {spreadBack(g, self, in, axes), a});
  return g.make(Op::Where, {isZero, lone, quotient});
}

// d prod(a) = g * (product of the others), per element
void vjpProd(VjpContext &c) {
  c.give(0, c.mul(spreadBack(c.g, c.grad, c.g.type(c.in(0)).shape, c.g.node(c.self).ints),
                  productOfOthers(c.g, c.self)));
}

NodeId jvpProd(JvpContext &c) {
  if (c.tangent(0) == kNoNode)
    return kNoNode;
  Attrs group;
  group.ints = c.g.node(c.self).ints;
  return c.g.make(Op::Sum, {c.mul(c.tangent(0), productOfOthers(c.g, c.self))}, group);
}

// d sum(a, axes): g broadcast back over the reduced axes
void vjpSum(VjpContext &c) {
  c.give(0, spreadBack(c.g, c.grad, c.g.type(c.in(0)).shape, c.g.node(c.self).ints));
}

// --- matmul: numpy's rule for operands of rank 1 and 2, and batches of matrices ---
// A batched product (rank above 2) has operands with equal batch axes: sema broadcasts them
// and views vectors as matrices first (ExprBuilder::batchedMatMul).

bool matmulShape(const ShapeQuery &q, Type &out, std::string &error) {
  const Shape &a = q.in[0]->shape;
  const Shape &b = q.in[1]->shape;
  std::string both = q.dims.str(a) + " @ " + q.dims.str(b);
  if (a.empty() || b.empty()) {
    error = "'@' needs vectors or matrices, not a scalar: " + both;
    return false;
  }
  bool batched = a.size() > 2 || b.size() > 2;
  if (batched && (a.size() != b.size() || !std::equal(a.begin(), a.end() - 2, b.begin()))) {
    error = "the batch axes of '@' differ: " + both;
    return false;
  }
  const Dim &ka = a.back();
  const Dim &kb = b[b.size() == 1 ? 0 : b.size() - 2]; // a vector's only axis, or a matrix's rows
  if (!(ka == kb)) {
    error = "shape mismatch in '@': " + both + " (inner sizes " + q.dims.str(ka) + " and " +
            q.dims.str(kb) + " differ)";
    return false;
  }
  // The wider operand's float dtype, as for elementwise arithmetic (integers give f64).
  DType da = q.in[0]->dtype, db = q.in[1]->dtype;
  DType dt = da == DType::F64 || db == DType::F64 ? DType::F64
             : da == DType::F32 || db == DType::F32 ? DType::F32
                                                    : DType::F64;
  out = Type{dt, Shape(a.begin(), a.end() - std::min<size_t>(a.size(), 2))};
  if (a.size() >= 2)
    out.shape.push_back(a[a.size() - 2]);
  if (b.size() >= 2)
    out.shape.push_back(b.back());
  return true;
}

void evalMatMul(EvalContext &c) {
  const Tensor &a = *c.in[0];
  const Tensor &b = *c.in[1];
  int64_t m = a.shape.size() >= 2 ? a.shape[a.shape.size() - 2] : 1;
  int64_t k = a.shape.back();
  int64_t n = b.shape.size() >= 2 ? b.shape.back() : 1;
  c.out.shape.assign(a.shape.begin(), a.shape.end() - static_cast<long>(std::min<size_t>(a.shape.size(), 2)));
  int64_t batches = 1;
  for (int64_t d : c.out.shape)
    batches *= d;
  if (a.shape.size() >= 2)
    c.out.shape.push_back(m);
  if (b.shape.size() >= 2)
    c.out.shape.push_back(n);
  c.out.data.assign(static_cast<size_t>(batches * m * n), 0.0);
  for (int64_t t = 0; t < batches; ++t) {
    const double *x = a.data.data() + t * m * k, *y = b.data.data() + t * k * n;
    double *z = c.out.data.data() + t * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p)
          s += x[i * k + p] * y[p * n + j];
        z[i * n + j] = s;
      }
  }
}

// A vector as a one-row or one-column matrix, so every case below is matrix @ matrix.
NodeId asMatrix(Graph &g, NodeId v, bool column) {
  Attrs r;
  const Type &t = g.type(v);
  r.type = Type{t.dtype, column ? Shape{t.shape[0], Dim::lit(1)} : Shape{Dim::lit(1), t.shape[0]}};
  return g.make(Op::Reshape, {v}, r);
}

// m with its last two axes swapped (a batch of matrices transposed). One matrix broadcast to
// a batch becomes the broadcast of its transpose, which a batched product reads in place.
NodeId transposed(Graph &g, NodeId m) {
  const Type type = g.type(m); // a copy: making nodes may move the array
  size_t r = type.shape.size();
  if (g.node(m).op == Op::Broadcast && r > 2) {
    NodeId inner = g.node(m).operands[0];
    const Shape from = g.type(inner).shape;
    if (from.size() >= 2 && std::equal(from.end() - 2, from.end(), type.shape.end() - 2)) {
      Attrs b;
      b.type = type;
      std::swap(b.type.shape[r - 2], b.type.shape[r - 1]);
      return g.make(Op::Broadcast, {transposed(g, inner)}, b);
    }
  }
  Attrs t;
  t.ints = matrixTransposePerm(r);
  return g.make(Op::Transpose, {m}, t);
}

// C = A @ B: dA = G @ B^T, dB = A^T @ G, with vectors viewed as matrices (a left
// vector is a row, a right vector a column) and the results reshaped back; batches of
// matrices are transposed matrix by matrix.
void vjpMatMul(VjpContext &c) {
  Graph &g = c.g;
  NodeId a = c.in(0), b = c.in(1);
  bool aVec = g.type(a).shape.size() == 1, bVec = g.type(b).shape.size() == 1;
  NodeId A = aVec ? asMatrix(g, a, false) : a;
  NodeId B = bVec ? asMatrix(g, b, true) : b;
  NodeId G = c.grad;
  if (aVec || bVec) {
    Attrs gm;
    gm.type = Type{g.type(c.grad).dtype, {g.type(A).shape[0], g.type(B).shape[1]}};
    G = g.make(Op::Reshape, {c.grad}, gm);
  }
  auto back = [&](NodeId d, NodeId like) {
    if (g.type(d).shape == g.type(like).shape)
      return d;
    Attrs r;
    r.type = g.type(like);
    return g.make(Op::Reshape, {d}, r);
  };
  if (c.needs(0))
    c.give(0, back(g.make(Op::MatMul, {G, transposed(g, B)}), a));
  if (c.needs(1))
    c.give(1, back(g.make(Op::MatMul, {transposed(g, A), G}), b));
}

// --- cumsum: ints = {axis, reverse}; the shape is the operand's ---

bool cumsumShape(const ShapeQuery &q, Type &out, std::string &error) {
  const Shape &s = q.in[0]->shape;
  if (q.attrs.ints.size() != 2 || q.attrs.ints[0] < 0 || q.attrs.ints[0] >= static_cast<int64_t>(s.size())) {
    error = "bad cumsum axis for " + q.dims.str(s);
    return false;
  }
  out = Type{isFloat(q.in[0]->dtype) ? q.in[0]->dtype : DType::F64, s};
  return true;
}

void evalCumsum(EvalContext &c) {
  const Tensor &a = *c.in[0];
  size_t axis = static_cast<size_t>(c.node.ints[0]);
  bool reverse = c.node.ints[1] != 0;
  c.out.shape = a.shape;
  c.out.data.assign(a.data.size(), 0.0);
  int64_t n = a.shape[axis], stride = rowMajorStrides(a.shape)[axis];
  // Each line along the axis starts where its index on the axis is 0.
  forEachIndex(a.shape, [&](const std::vector<int64_t> &idx, int64_t lin) {
    if (idx[axis] != 0)
      return;
    double acc = 0;
    for (int64_t k = 0; k < n; ++k) {
      int64_t at = lin + (reverse ? n - 1 - k : k) * stride;
      acc += a.data[static_cast<size_t>(at)];
      c.out.data[static_cast<size_t>(at)] = acc;
    }
  });
}

NodeId cumsumOf(Graph &g, NodeId x, int64_t axis, bool reverse) {
  Attrs a;
  a.ints = {axis, reverse ? 1 : 0};
  return g.make(Op::Cumsum, {x}, a);
}

// Each x[k] joins every sum from k on: its adjoint is the sum of the adjoints from k on,
// the running sum taken from the other end.
void vjpCumsum(VjpContext &c) {
  const auto ints = c.g.node(c.self).ints;
  c.give(0, cumsumOf(c.g, c.grad, ints[0], ints[1] == 0));
}

} // namespace

void registerReductionOps(OpInfo *t) {
  using B = ElementBuilder;
  using In = std::span<Val const>;
  t[int(Op::Sum)] = OpInfo{
      .name = "sum", .arity = 1, .shape = sumShape, .eval = evalReduce, .vjp = vjpSum,
      .scalar2 = [](double acc, double v) { return acc + v; },
      .jvp = jvpLinear, // d sum(a) = sum(da)
      .loop = LoopKind::Reduce,
      .reduceInit = 0,
      .reduceCombine = [](B &b, In x) { return b.reduceAdd(x[0], x[1]); },
      .cost = 1,
  };
  // max/min reductions propagate NaN, as PyTorch's do.
  constexpr double inf = std::numeric_limits<double>::infinity();
  t[int(Op::ReduceMax)] = OpInfo{
      .name = "reduce_max", .arity = 1, .shape = sumShape, .eval = evalReduce, .vjp = vjpExtreme,
      .scalar2 = [](double acc, double v) {
        return acc != acc || v != v ? acc + v : (v > acc ? v : acc);
      },
      .jvp = jvpExtreme,
      .loop = LoopKind::Reduce,
      .reduceInit = -inf,
      .reduceCombine = [](B &b, In x) { return b.maximum(x[0], x[1]); },
      .cost = 1,
  };
  t[int(Op::ReduceMin)] = OpInfo{
      .name = "reduce_min", .arity = 1, .shape = sumShape, .eval = evalReduce, .vjp = vjpExtreme,
      .scalar2 = [](double acc, double v) {
        return acc != acc || v != v ? acc + v : (v < acc ? v : acc);
      },
      .jvp = jvpExtreme,
      .loop = LoopKind::Reduce,
      .reduceInit = inf,
      .reduceCombine = [](B &b, In x) { return b.minimum(x[0], x[1]); },
      .cost = 1,
  };
  t[int(Op::ReduceProd)] = OpInfo{
      .name = "reduce_prod", .arity = 1, .shape = sumShape, .eval = evalReduce, .vjp = vjpProd,
      .scalar2 = [](double acc, double v) { return acc * v; },
      .jvp = jvpProd,
      .loop = LoopKind::Reduce,
      .reduceInit = 1,
      .reduceCombine = [](B &b, In x) { return b.mul(x[0], x[1]); },
      .cost = 1,
  };
  t[int(Op::Cumsum)] = OpInfo{
      .name = "cumsum", .arity = 1, .shape = cumsumShape, .eval = evalCumsum, .vjp = vjpCumsum,
      .jvp = jvpLinear,
      .loop = LoopKind::Scan,
      .cost = 1,
  };
  t[int(Op::MatMul)] = OpInfo{
      .name = "matmul", .arity = 2, .shape = matmulShape, .eval = evalMatMul, .vjp = vjpMatMul,
      // d (A @ B) = dA @ B + A @ dB
      .jvp = [](JvpContext &c) {
        NodeId l = c.tangent(0) == kNoNode ? kNoNode : c.bin(Op::MatMul, c.tangent(0), c.in(1));
        NodeId r = c.tangent(1) == kNoNode ? kNoNode : c.bin(Op::MatMul, c.in(0), c.tangent(1));
        return c.add(l, r);
      },
      .loop = LoopKind::MatMul,
      .replicates = true,
      .cost = 1,
  };
}

} // namespace gradc
