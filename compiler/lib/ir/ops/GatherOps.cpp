// GatherOps.cpp: indexing by integer arrays. gather(x, i1, ..., im) reads x's element at each
// position of the index arrays, over m adjacent axes; its adjoint scatter_add(g, i1, ..., im)
// adds each element of g into the place it was read from, so repeated indices add their
// gradients (the lecture's fan-out rule). Both have ints = {axis}; x is
// [pre..., N1, ..., Nm, post...], every index array [S...] (sema broadcasts them together, as
// NumPy does), gather's result [pre..., S..., post...].
#include "ir/OpTable.h"
#include "ir/ops/TensorWalk.h"

#include "support/Numbers.h"

#include <limits>

namespace gradc {

namespace {

// The gathered shape of `x` by the index arrays in[1..] along `axis`.
bool gatheredShape(const ShapeQuery &q, const Shape &x, size_t axis, Shape &out, std::string &error) {
  size_t arrays = q.in.size() - 1;
  if (arrays == 0) {
    error = "a gather needs an index array";
    return false;
  }
  const Shape &s = q.in[1]->shape;
  for (size_t k = 1; k <= arrays; ++k) {
    if (!isInteger(q.in[k]->dtype)) {
      error = "an index array must be integers (a const i32 or i64 parameter)";
      return false;
    }
    if (q.in[k]->shape != s) {
      error = "index arrays of shapes " + q.dims.str(s) + " and " + q.dims.str(q.in[k]->shape) + " in one gather";
      return false;
    }
  }
  if (axis + arrays > x.size()) {
    error = "cannot gather " + std::to_string(arrays) + " axes from axis " + std::to_string(axis) + " of " +
            q.dims.str(x);
    return false;
  }
  out.assign(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(axis));
  out.insert(out.end(), s.begin(), s.end());
  out.insert(out.end(), x.begin() + static_cast<std::ptrdiff_t>(axis + arrays), x.end());
  return true;
}

bool gatherShape(const ShapeQuery &q, Type &out, std::string &error) {
  out.dtype = isFloat(q.in[0]->dtype) ? q.in[0]->dtype : DType::F64;
  return gatheredShape(q, q.in[0]->shape, static_cast<size_t>(q.attrs.ints[0]), out.shape, error);
}

bool scatterAddShape(const ShapeQuery &q, Type &out, std::string &error) {
  Shape gathered;
  if (!gatheredShape(q, q.attrs.type.shape, static_cast<size_t>(q.attrs.ints[0]), gathered, error))
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
// with a located error, at an index out of range (nothing visited).
template <typename F>
bool forEachGathered(EvalContext &c, const std::vector<int64_t> &x, F fn) {
  size_t axis = static_cast<size_t>(c.node.ints[0]), arrays = c.in.size() - 1;
  int64_t pre = 1, block = 1, post = 1, count = static_cast<int64_t>(c.in[1]->data.size());
  for (size_t k = 0; k < axis; ++k)
    pre *= x[k];
  for (size_t k = axis; k < axis + arrays; ++k)
    block *= x[k];
  for (size_t k = axis + arrays; k < x.size(); ++k)
    post *= x[k];
  // Each index array checked whole, then the offsets inside the m axes summed once.
  std::vector<int64_t> within(static_cast<size_t>(count), 0);
  for (size_t a = 0; a < arrays; ++a) {
    int64_t n = x[axis + a];
    const Tensor &idx = *c.in[a + 1];
    for (int64_t s = 0; s < count; ++s) {
      double i = idx.data[static_cast<size_t>(s)];
      if (!(i >= 0 && i < static_cast<double>(n))) {
        c.error = "index " + integerText(i) + " (element " + std::to_string(s) +
                  " of the index array) is out of range for the axis it indexes, of size " + std::to_string(n);
        return false;
      }
      within[static_cast<size_t>(s)] = within[static_cast<size_t>(s)] * n + static_cast<int64_t>(i);
    }
  }
  for (int64_t p = 0; p < pre; ++p)
    for (int64_t s = 0; s < count; ++s)
      for (int64_t q = 0; q < post; ++q)
        fn((p * block + within[static_cast<size_t>(s)]) * post + q, (p * count + s) * post + q);
  return true;
}

void evalGather(EvalContext &c) {
  const Tensor &x = *c.in[0];
  c.out.shape = c.concrete(c.node.type.shape);
  c.out.data.assign(static_cast<size_t>(elementCount(c.out.shape)), std::numeric_limits<double>::quiet_NaN());
  forEachGathered(c, x.shape, [&](int64_t from, int64_t to) {
    c.out.data[static_cast<size_t>(to)] = x.data[static_cast<size_t>(from)];
  });
}

void evalScatterAdd(EvalContext &c) {
  const Tensor &g = *c.in[0];
  c.out.shape = c.concrete(c.node.type.shape);
  c.out.data.assign(static_cast<size_t>(elementCount(c.out.shape)), 0.0);
  forEachGathered(c, c.out.shape, [&](int64_t to, int64_t from) {
    c.out.data[static_cast<size_t>(to)] += g.data[static_cast<size_t>(from)];
  });
}

// `op` of `v` by the index arrays of node `self` (its operands after the first).
NodeId byIndicesOf(Graph &g, Op op, NodeId self, NodeId v, const Type *into = nullptr) {
  const Node &node = g.node(self);
  std::vector<NodeId> operands{v};
  operands.insert(operands.end(), node.operands.begin() + 1, node.operands.end());
  Attrs a;
  a.ints = node.ints;
  if (into) {
    a.type = *into;
    a.type.dtype = g.type(v).dtype;
  }
  return g.make(op, operands, a);
}

// d gather(x, i...) = scatter_add(g, i...): each read adds its gradient where it read
void vjpGather(VjpContext &c) {
  Type into = c.g.type(c.in(0));
  c.give(0, byIndicesOf(c.g, Op::ScatterAdd, c.self, c.grad, &into));
}

// d scatter_add(v, i...) = gather(g, i...)
void vjpScatterAdd(VjpContext &c) { c.give(0, byIndicesOf(c.g, Op::Gather, c.self, c.grad)); }

} // namespace

void registerGatherOps(OpInfo *t) {
  // Both are linear in their first operand: the tangent is gathered (scattered) the same way.
  t[int(Op::Gather)] = OpInfo{
      .name = "gather", .arity = -1, .shape = gatherShape, .eval = evalGather, .vjp = vjpGather,
      .jvp = [](JvpContext &c) {
        return c.tangent(0) == kNoNode ? kNoNode : byIndicesOf(c.g, Op::Gather, c.self, c.tangent(0));
      },
      .loop = LoopKind::Gather,
      .replicates = true, // repeated indices read an element of x again
      .cost = 1,
  };
  t[int(Op::ScatterAdd)] = OpInfo{
      .name = "scatter_add", .arity = -1, .shape = scatterAddShape, .eval = evalScatterAdd, .vjp = vjpScatterAdd,
      .jvp = [](JvpContext &c) {
        Type into = c.g.type(c.self);
        return c.tangent(0) == kNoNode ? kNoNode : byIndicesOf(c.g, Op::ScatterAdd, c.self, c.tangent(0), &into);
      },
      .loop = LoopKind::ScatterAdd,
      .cost = 1,
  };
}

} // namespace gradc
