// GatherOps.cpp: indexing by integer arrays. gather(x, idx) along an axis reads x's element at
// each index of idx; its adjoint scatter_add(g, idx) adds each element of g into the place it
// was read from, so repeated indices add their gradients (the lecture's fan-out rule).
// Both have ints = {axis}; x is [pre..., N, post...], idx [S...], gather's result
// [pre..., S..., post...].
#include "ir/OpTable.h"
#include "ir/ops/TensorWalk.h"

#include "support/Numbers.h"

#include <limits>

namespace gradc {

namespace {

// The gathered shape of `x` by `idx` along `axis`.
bool gatheredShape(const ShapeQuery &q, const Shape &x, const Type &idx, size_t axis, Shape &out, std::string &error) {
  if (!isInteger(idx.dtype)) {
    error = "an index array must be integers (a const i32 or i64 parameter)";
    return false;
  }
  if (axis >= x.size()) {
    error = "cannot gather along axis " + std::to_string(axis) + " of " + q.dims.str(x);
    return false;
  }
  out.assign(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(axis));
  out.insert(out.end(), idx.shape.begin(), idx.shape.end());
  out.insert(out.end(), x.begin() + static_cast<std::ptrdiff_t>(axis) + 1, x.end());
  return true;
}

bool gatherShape(const ShapeQuery &q, Type &out, std::string &error) {
  out.dtype = isFloat(q.in[0]->dtype) ? q.in[0]->dtype : DType::F64;
  return gatheredShape(q, q.in[0]->shape, *q.in[1], static_cast<size_t>(q.attrs.ints[0]), out.shape, error);
}

bool scatterAddShape(const ShapeQuery &q, Type &out, std::string &error) {
  Shape gathered;
  if (!gatheredShape(q, q.attrs.type.shape, *q.in[1], static_cast<size_t>(q.attrs.ints[0]), gathered, error))
    return false;
  if (gathered != q.in[0]->shape) {
    error = "scatter_add of " + q.dims.str(q.in[0]->shape) + " into " + q.dims.str(q.attrs.type.shape) +
            " needs " + q.dims.str(gathered);
    return false;
  }
  out = q.attrs.type;
  return true;
}

// Visits the gathered elements: fn(offset in x, offset in the gathered tensor). Returns false,
// with a located error, at an index out of range.
template <typename F>
bool forEachGathered(EvalContext &c, const std::vector<int64_t> &x, const Tensor &idx, F fn) {
  size_t axis = static_cast<size_t>(c.node.ints[0]);
  int64_t pre = 1, post = 1, n = x[axis], count = static_cast<int64_t>(idx.data.size());
  for (size_t k = 0; k < axis; ++k)
    pre *= x[k];
  for (size_t k = axis + 1; k < x.size(); ++k)
    post *= x[k];
  for (int64_t s = 0; s < count; ++s) {
    double i = idx.data[static_cast<size_t>(s)];
    if (!(i >= 0 && i < static_cast<double>(n))) {
      c.error = "index " + integerText(i) + " (element " + std::to_string(s) +
                " of the index array) is out of range for the axis it indexes, of size " + std::to_string(n);
      return false;
    }
  }
  for (int64_t p = 0; p < pre; ++p)
    for (int64_t s = 0; s < count; ++s)
      for (int64_t q = 0; q < post; ++q)
        fn((p * n + static_cast<int64_t>(idx.data[static_cast<size_t>(s)])) * post + q, (p * count + s) * post + q);
  return true;
}

void evalGather(EvalContext &c) {
  const Tensor &x = *c.in[0];
  c.out.shape = c.concrete(c.node.type.shape);
  c.out.data.assign(static_cast<size_t>(elementCount(c.out.shape)), std::numeric_limits<double>::quiet_NaN());
  forEachGathered(c, x.shape, *c.in[1], [&](int64_t from, int64_t to) {
    c.out.data[static_cast<size_t>(to)] = x.data[static_cast<size_t>(from)];
  });
}

void evalScatterAdd(EvalContext &c) {
  const Tensor &g = *c.in[0];
  c.out.shape = c.concrete(c.node.type.shape);
  c.out.data.assign(static_cast<size_t>(elementCount(c.out.shape)), 0.0);
  forEachGathered(c, c.out.shape, *c.in[1], [&](int64_t to, int64_t from) {
    c.out.data[static_cast<size_t>(to)] += g.data[static_cast<size_t>(from)];
  });
}

NodeId gatherOf(Graph &g, NodeId x, NodeId idx, const std::vector<int64_t> &ints) {
  Attrs a;
  a.ints = ints;
  return g.make(Op::Gather, {x, idx}, a);
}

NodeId scatterAddOf(Graph &g, NodeId v, NodeId idx, const std::vector<int64_t> &ints, Type into) {
  Attrs a;
  a.ints = ints;
  a.type = into;
  a.type.dtype = g.type(v).dtype;
  return g.make(Op::ScatterAdd, {v, idx}, a);
}

// d gather(x, idx) = scatter_add(g, idx): each read adds its gradient where it read
void vjpGather(VjpContext &c) {
  const auto ints = c.g.node(c.self).ints;
  c.give(0, scatterAddOf(c.g, c.grad, c.in(1), ints, c.g.type(c.in(0))));
}

// d scatter_add(v, idx) = gather(g, idx)
void vjpScatterAdd(VjpContext &c) {
  const auto ints = c.g.node(c.self).ints;
  c.give(0, gatherOf(c.g, c.grad, c.in(1), ints));
}

} // namespace

void registerGatherOps(OpInfo *t) {
  // Both are linear in their first operand: the tangent is gathered (scattered) the same way.
  t[int(Op::Gather)] = OpInfo{
      .name = "gather", .arity = 2, .shape = gatherShape, .eval = evalGather, .vjp = vjpGather,
      .jvp = [](JvpContext &c) {
        return c.tangent(0) == kNoNode ? kNoNode : gatherOf(c.g, c.tangent(0), c.in(1), c.g.node(c.self).ints);
      },
      .loop = LoopKind::Gather,
      .replicates = true, // repeated indices read an element of x again
      .cost = 1,
  };
  t[int(Op::ScatterAdd)] = OpInfo{
      .name = "scatter_add", .arity = 2, .shape = scatterAddShape, .eval = evalScatterAdd, .vjp = vjpScatterAdd,
      .jvp = [](JvpContext &c) {
        return c.tangent(0) == kNoNode ? kNoNode
                                       : scatterAddOf(c.g, c.tangent(0), c.in(1), c.g.node(c.self).ints, c.g.type(c.self));
      },
      .loop = LoopKind::ScatterAdd,
      .cost = 1,
  };
}

} // namespace gradc
