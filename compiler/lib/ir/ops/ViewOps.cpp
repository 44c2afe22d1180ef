// ViewOps.cpp: views that reorder or pick elements by index arithmetic alone (flip, the
// diagonal), with their gradients. Compiled code reads the operand through `indexMap`.
#include "ir/OpTable.h"
#include "ir/ops/TensorWalk.h"

#include "ir/ElementBuilder.h"

namespace gradc {

namespace {

// --- flip: ints = {axis}; element i along the axis is the operand's n - 1 - i ---

bool flipShape(const ShapeQuery &q, Type &out, std::string &error) {
  if (q.attrs.ints.size() != 1 || q.attrs.ints[0] < 0 ||
      q.attrs.ints[0] >= static_cast<int64_t>(q.in[0]->shape.size())) {
    error = "flip needs an axis of " + q.dims.str(q.in[0]->shape);
    return false;
  }
  out = *q.in[0];
  return true;
}

void evalFlip(EvalContext &c) {
  const Tensor &a = *c.in[0];
  size_t axis = static_cast<size_t>(c.node.ints[0]);
  c.out.shape = a.shape;
  c.out.data.resize(a.data.size());
  std::vector<int64_t> stride = rowMajorStrides(a.shape);
  forEachIndex(a.shape, [&](const std::vector<int64_t> &idx, int64_t lin) {
    int64_t src = lin + (a.shape[axis] - 1 - 2 * idx[axis]) * stride[axis];
    c.out.data[static_cast<size_t>(lin)] = a.data[static_cast<size_t>(src)];
  });
}

void mapFlip(IndexMapper &m, const Node &n, std::span<Val const> out, std::vector<Val> &in) {
  size_t axis = static_cast<size_t>(n.ints[0]);
  in.assign(out.begin(), out.end());
  in[axis] = m.sub(m.add(m.dim(n.type.shape[axis]), m.constant(-1)), out[axis]);
}

// d flip(a) = flip(g): a permutation is its own adjoint's inverse, and flip is its own inverse
void vjpFlip(VjpContext &c) {
  Attrs a;
  a.ints = c.g.node(c.self).ints;
  c.give(0, c.g.make(Op::Flip, {c.grad}, a));
}

// --- diagonal: [..., n, n] -> [..., n], element i is the operand's (i, i) ---

bool diagonalShape(const ShapeQuery &q, Type &out, std::string &error) {
  const Shape &s = q.in[0]->shape;
  if (s.size() < 2 || !(s[s.size() - 1] == s[s.size() - 2])) {
    error = "'diagonal' needs square matrices (the last two axes equal), not " + q.dims.str(s);
    return false;
  }
  out = Type{q.in[0]->dtype, Shape(s.begin(), s.end() - 1)};
  return true;
}

void evalDiagonal(EvalContext &c) {
  const Tensor &a = *c.in[0];
  int64_t n = a.shape.back();
  c.out.shape.assign(a.shape.begin(), a.shape.end() - 1);
  c.out.data.resize(static_cast<size_t>(elementCount(c.out.shape)));
  for (size_t k = 0; k < c.out.data.size(); ++k) { // batch b = k / n, element i = k % n
    int64_t b = static_cast<int64_t>(k) / n, i = static_cast<int64_t>(k) % n;
    c.out.data[k] = a.data[static_cast<size_t>(b * n * n + i * n + i)];
  }
}

void mapDiagonal(IndexMapper &, const Node &, std::span<Val const> out, std::vector<Val> &in) {
  in.assign(out.begin(), out.end());
  in.push_back(out.back());
}

// d diagonal(a): g on the diagonal of a matrix of zeros: where(row == col, g as rows, 0)
void vjpDiagonal(VjpContext &c) {
  Type full = c.g.type(c.in(0));
  size_t r = full.shape.size();
  Attrs rowAttrs, colAttrs, lifted, wide;
  rowAttrs.type = colAttrs.type = Type{DType::I64, full.shape};
  rowAttrs.ints = {static_cast<int64_t>(r - 2)};
  colAttrs.ints = {static_cast<int64_t>(r - 1)};
  NodeId onDiagonal = c.g.make(Op::Eq, {c.g.make(Op::Iota, {}, rowAttrs), c.g.make(Op::Iota, {}, colAttrs)});
  lifted.type = c.g.type(c.grad);
  lifted.type.shape.insert(lifted.type.shape.end() - 1, Dim::lit(1));
  wide.type = Type{lifted.type.dtype, full.shape};
  NodeId spread = c.g.make(Op::Broadcast, {c.g.make(Op::Reshape, {c.grad}, lifted)}, wide);
  c.give(0, c.g.make(Op::Where, {onDiagonal, spread, c.konst(0.0, spread)}));
}

} // namespace

void registerViewOps(OpInfo *t) {
  t[int(Op::Flip)] = OpInfo{
      .name = "flip", .arity = 1, .shape = flipShape, .eval = evalFlip,
      .vjp = vjpFlip, .jvp = jvpLinear,
      .loop = LoopKind::View, .indexMap = mapFlip,
      .cost = 1,
  };
  t[int(Op::Diagonal)] = OpInfo{
      .name = "diagonal", .arity = 1, .shape = diagonalShape, .eval = evalDiagonal,
      .vjp = vjpDiagonal, .jvp = jvpLinear,
      .loop = LoopKind::View, .indexMap = mapDiagonal,
      .cost = 1,
  };
}

} // namespace gradc
