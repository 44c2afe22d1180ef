// StructureOps.cpp: ops that move values without arithmetic: broadcast, reshape,
// transpose, indexing and its adjoint. Their gradients move the gradient back.
#include "ir/DimArith.h"
#include "ir/OpTable.h"
#include "support/Numbers.h"

#include "ir/ElementBuilder.h"
#include "ir/ops/TensorWalk.h"

#include <algorithm>
#include <limits>
#include <map>

namespace gradc {

namespace {

// --- broadcast: numpy's rule, operand right-aligned against the target shape ---

bool broadcastShape(const ShapeQuery &q, Type &out, std::string &error) {
  const Shape &from = q.in[0]->shape;
  const Shape &to = q.attrs.type.shape;
  bool ok = from.size() <= to.size();
  for (size_t i = 0; ok && i < from.size(); ++i) {
    const Dim &f = from[from.size() - 1 - i];
    ok = f == to[to.size() - 1 - i] || f == Dim::lit(1);
  }
  if (!ok) {
    error = "cannot broadcast " + q.dims.str(from) + " to " + q.dims.str(to);
    return false;
  }
  out = Type{q.in[0]->dtype, to};
  return true;
}

void evalBroadcast(EvalContext &c) {
  const Tensor &a = *c.in[0];
  c.out.shape = c.concrete(c.node.type.shape);
  c.out.data.resize(static_cast<size_t>(elementCount(c.out.shape)));
  size_t lead = c.out.shape.size() - a.shape.size();
  std::vector<int64_t> stride = rowMajorStrides(a.shape);
  forEachIndex(c.out.shape, [&](const std::vector<int64_t> &idx, int64_t lin) {
    int64_t src = 0;
    for (size_t k = 0; k < a.shape.size(); ++k)
      src += (a.shape[k] == 1 ? 0 : idx[lead + k]) * stride[k];
    c.out.data[static_cast<size_t>(lin)] = a.data[static_cast<size_t>(src)];
  });
}

// d broadcast(a): sum the gradient over the axes that were added or stretched
void vjpBroadcast(VjpContext &c) {
  const Shape from = c.g.type(c.in(0)).shape;
  const Shape to = c.g.type(c.self).shape;
  size_t lead = to.size() - from.size();
  Attrs sum;
  for (size_t k = 0; k < to.size(); ++k)
    if (k < lead || (from[k - lead] == Dim::lit(1) && !(to[k] == Dim::lit(1))))
      sum.ints.push_back(static_cast<int64_t>(k));
  NodeId g = sum.ints.empty() ? c.grad : c.g.make(Op::Sum, {c.grad}, sum);
  Attrs back;
  back.type = c.g.type(c.in(0));
  c.give(0, c.g.make(Op::Reshape, {g}, back));
}

// Compiled code reads operand axis k at I[lead + k], or at 0 where the axis was stretched.
void mapBroadcast(IndexMapper &m, const Node &n, std::span<Val const> out, std::vector<Val> &in) {
  const Shape &from = m.graph().type(n.operands[0]).shape;
  size_t lead = out.size() - from.size();
  for (size_t k = 0; k < from.size(); ++k)
    in.push_back(from[k] == Dim::lit(1) ? m.constant(0) : out[lead + k]);
}

// --- reshape: same elements, new shape ---

// Element counts are compared as sizes (ir/DimArith.h).
bool reshapeShape(const ShapeQuery &q, Type &out, std::string &error) {
  auto factors = [](const Shape &s, int64_t &lit, std::map<std::pair<int32_t, int64_t>, int> &syms) {
    lit = literalElementCount(s); // -1 beyond 2^56: the target is refused below
    for (const Dim &d : s)
      if (!d.isLiteral())
        ++syms[{d.sym, d.off}];
  };
  int64_t la, lb;
  std::map<std::pair<int32_t, int64_t>, int> sa, sb;
  factors(q.in[0]->shape, la, sa);
  factors(q.attrs.type.shape, lb, sb);
  if (lb < 0) {
    error = "cannot reshape to " + q.dims.str(q.attrs.type.shape) + ": more than " + maxElementsText() + " elements";
    return false;
  }
  // The counts as sizes: [K, D] reshapes to [K*D], [M] with M = D*(D+1)/2 to [D+1, D/2]...
  // when the polynomials are equal; too large to keep, they compare as multisets above.
  Dim ca = elementCountDim(q.dims, q.in[0]->shape), cb = elementCountDim(q.dims, q.attrs.type.shape);
  bool sameCount = ca.sym >= -1 && cb.sym >= -1 ? ca == cb : la == lb && sa == sb;
  if (!sameCount) {
    error = "cannot reshape " + q.dims.str(q.in[0]->shape) + " to " +
            q.dims.str(q.attrs.type.shape) + ": the number of elements differs";
    return false;
  }
  out = Type{q.in[0]->dtype, q.attrs.type.shape};
  return true;
}

void evalReshape(EvalContext &c) {
  c.out.shape = c.concrete(c.node.type.shape);
  c.out.data = c.in[0]->data;
}

// d reshape(a) = reshape(g) back to a's shape
void vjpReshape(VjpContext &c) {
  Attrs back;
  back.type = c.g.type(c.in(0));
  c.give(0, c.g.make(Op::Reshape, {c.grad}, back));
}

// --- transpose: ints = the permutation (result axis k is operand axis perm[k]) ---

bool transposeShape(const ShapeQuery &q, Type &out, std::string &error) {
  const Shape &s = q.in[0]->shape;
  const auto &perm = q.attrs.ints;
  if (perm.size() != s.size()) {
    error = "transpose needs one axis per dimension of " + q.dims.str(s);
    return false;
  }
  out = Type{q.in[0]->dtype, {}};
  for (int64_t p : perm)
    out.shape.push_back(s[static_cast<size_t>(p)]);
  return true;
}

void evalTranspose(EvalContext &c) {
  const Tensor &a = *c.in[0];
  const auto &perm = c.node.ints;
  c.out.shape.clear();
  for (int64_t p : perm)
    c.out.shape.push_back(a.shape[static_cast<size_t>(p)]);
  c.out.data.resize(a.data.size());
  std::vector<int64_t> stride = rowMajorStrides(a.shape);
  forEachIndex(c.out.shape, [&](const std::vector<int64_t> &idx, int64_t lin) {
    int64_t src = 0;
    for (size_t k = 0; k < perm.size(); ++k)
      src += idx[k] * stride[static_cast<size_t>(perm[k])];
    c.out.data[static_cast<size_t>(lin)] = a.data[static_cast<size_t>(src)];
  });
}

// Result axis k is operand axis perm[k].
void mapTranspose(IndexMapper &, const Node &n, std::span<Val const> out, std::vector<Val> &in) {
  in.assign(out.size(), nullptr);
  for (size_t k = 0; k < out.size(); ++k)
    in[static_cast<size_t>(n.ints[k])] = out[k];
}

// d transpose(a) = transpose(g) by the inverse permutation
void vjpTranspose(VjpContext &c) {
  const auto perm = c.g.node(c.self).ints;
  Attrs inv;
  inv.ints.resize(perm.size());
  for (size_t k = 0; k < perm.size(); ++k)
    inv.ints[static_cast<size_t>(perm[k])] = static_cast<int64_t>(k);
  c.give(0, c.g.make(Op::Transpose, {c.grad}, inv));
}

// --- index: ints hold 5 entries per axis: kind (0 index, 1 slice), start, stop ---

using AxisSpec = IndexAxis;

std::vector<AxisSpec> decodeSpec(const std::vector<int64_t> &ints) { return decodeIndexSpec(ints); }

// The shape of a[spec]: indexed axes drop out, sliced axes keep stop - start.
bool indexedShape(const Shape &in, const std::vector<int64_t> &ints, const DimTable &dims,
                  Shape &out, std::string &error) {
  std::vector<AxisSpec> axes = decodeSpec(ints);
  if (axes.size() != in.size()) {
    error = "expected " + std::to_string(in.size()) + " indices for " + dims.str(in);
    return false;
  }
  out.clear();
  for (const AxisSpec &a : axes) {
    if (!a.slice)
      continue;
    Dim len = foldDims(dims, '-', a.stop, a.start); // D:M is M-D long
    if (len.sym < -1) {
      error = "the length of slice " + dims.str(a.start) + ":" + dims.str(a.stop) + " is beyond what a size can hold";
      return false;
    }
    out.push_back(len);
  }
  return true;
}

bool indexShape(const ShapeQuery &q, Type &out, std::string &error) {
  out.dtype = q.in[0]->dtype;
  return indexedShape(q.in[0]->shape, q.attrs.ints, q.dims, out.shape, error);
}

// index_grad(g): zeros of the indexed operand's shape (attrs.type), g at the selected places.
bool indexGradShape(const ShapeQuery &q, Type &out, std::string &error) {
  Shape selected;
  if (!indexedShape(q.attrs.type.shape, q.attrs.ints, q.dims, selected, error))
    return false;
  if (selected != q.in[0]->shape) {
    error = "gradient shape " + q.dims.str(q.in[0]->shape) + " does not match " +
            q.dims.str(selected);
    return false;
  }
  out = q.attrs.type;
  return true;
}

// Visits each selected element: fn(source offset in the full tensor, offset in the selection).
// Returns false (with an error) when an index is out of range at run time.
template <typename F>
bool forEachSelected(EvalContext &c, const std::vector<int64_t> &full, F fn) {
  std::vector<AxisSpec> axes = decodeSpec(c.node.ints);
  std::vector<int64_t> start(axes.size()), selShape;
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t s = c.dimValue(axes[k].start);
    int64_t e = axes[k].slice ? c.dimValue(axes[k].stop) : s + 1;
    if (s < 0 || e > full[k] || e < s) {
      c.error = axes[k].slice ? "slice " + std::to_string(s) + ":" + std::to_string(e)
                              : "index " + std::to_string(s);
      c.error += " is out of range for axis " + std::to_string(k) + " of size " +
                 std::to_string(full[k]);
      return false;
    }
    start[k] = s;
    if (axes[k].slice)
      selShape.push_back(e - s);
  }
  std::vector<int64_t> stride = rowMajorStrides(full);
  forEachIndex(selShape, [&](const std::vector<int64_t> &idx, int64_t lin) {
    int64_t src = 0;
    size_t j = 0;
    for (size_t k = 0; k < axes.size(); ++k)
      src += (start[k] + (axes[k].slice ? idx[j++] : 0)) * stride[k];
    fn(src, lin);
  });
  return true;
}

void evalIndex(EvalContext &c) {
  const Tensor &a = *c.in[0];
  c.out.shape = c.concrete(c.node.type.shape);
  c.out.data.assign(static_cast<size_t>(elementCount(c.out.shape)), 0.0);
  forEachSelected(c, a.shape, [&](int64_t src, int64_t lin) {
    c.out.data[static_cast<size_t>(lin)] = a.data[static_cast<size_t>(src)];
  });
}

void evalIndexGrad(EvalContext &c) {
  const Tensor &g = *c.in[0];
  c.out.shape = c.concrete(c.node.type.shape);
  c.out.data.assign(static_cast<size_t>(elementCount(c.out.shape)), 0.0);
  forEachSelected(c, c.out.shape, [&](int64_t dst, int64_t lin) {
    c.out.data[static_cast<size_t>(dst)] = g.data[static_cast<size_t>(lin)];
  });
}

// An indexed axis reads at its index, a sliced axis at start + the result's index.
void mapIndex(IndexMapper &m, const Node &n, std::span<Val const> out, std::vector<Val> &in) {
  size_t j = 0;
  for (const AxisSpec &a : decodeSpec(n.ints))
    in.push_back(a.slice ? m.add(m.dim(a.start), out[j++]) : m.dim(a.start));
}

// d a[spec]: the gradient placed back at the selected elements, zero elsewhere
void vjpIndex(VjpContext &c) {
  Attrs a;
  a.ints = c.g.node(c.self).ints;
  a.type = c.g.type(c.in(0));
  c.give(0, c.g.make(Op::IndexGrad, {c.grad}, a));
}

// index_grad is linear; its adjoint selects the same elements again
void vjpIndexGrad(VjpContext &c) {
  Attrs a;
  a.ints = c.g.node(c.self).ints;
  c.give(0, c.g.make(Op::Index, {c.grad}, a));
}

// --- pick(s, y): s [N, C], integer labels y [N] -> [N], one element per row ---

bool pickShape(const ShapeQuery &q, Type &out, std::string &error) {
  const Type &s = *q.in[0], &y = *q.in[1];
  if (s.shape.size() != 2 || y.shape.size() != 1 || !(s.shape[0] == y.shape[0])) {
    error = "'pick' needs scores of shape [N, C] and labels of shape [N], not " +
            q.dims.str(s.shape) + " and " + q.dims.str(y.shape);
    return false;
  }
  if (!isInteger(y.dtype)) {
    error = "the labels of 'pick' must be integers (a const i32 or i64 parameter)";
    return false;
  }
  out = Type{isFloat(s.dtype) ? s.dtype : DType::F64, {s.shape[0]}};
  return true;
}

void evalPick(EvalContext &c) {
  const Tensor &s = *c.in[0], &y = *c.in[1];
  int64_t rows = s.shape[0], cols = s.shape[1];
  c.out.shape = {rows};
  c.out.data.assign(static_cast<size_t>(rows), std::numeric_limits<double>::quiet_NaN());
  for (int64_t i = 0; i < rows; ++i) {
    double label = y.data[static_cast<size_t>(i)];
    if (!(label >= 0 && label < static_cast<double>(cols))) {
      if (c.error.empty())
        c.error = "label " + integerText(label) + " (row " +
                  std::to_string(i) + ") is out of range for " + std::to_string(cols) + " classes";
      continue;
    }
    c.out.data[static_cast<size_t>(i)] = s.data[static_cast<size_t>(i * cols + static_cast<int64_t>(label))];
  }
}

// d pick(s, y): g[i] at (i, y[i]), zeros elsewhere, as where(iota == y, g, 0) (gather form)
void vjpPick(VjpContext &c) {
  Graph &g = c.g;
  const Type st = g.type(c.in(0));
  auto wide = [&](NodeId v) { // [N] -> [N, 1] -> [N, C]
    Attrs col;
    col.type = Type{g.type(v).dtype, {st.shape[0], Dim::lit(1)}};
    Attrs full;
    full.type = Type{g.type(v).dtype, st.shape};
    return g.make(Op::Broadcast, {g.make(Op::Reshape, {v}, col)}, full);
  };
  Attrs iota;
  iota.type = Type{DType::I64, st.shape};
  iota.ints = {1};
  NodeId hit = g.make(Op::Eq, {g.make(Op::Iota, {}, iota), wide(c.in(1))});
  c.give(0, g.make(Op::Where, {hit, wide(c.grad), c.konst(0.0, c.in(0))}));
}

} // namespace

void registerStructureOps(OpInfo *t) {
  // Broadcast, reshape, transpose, index and index_grad are linear: the tangent moves
  // exactly as the value does (jvpLinear).
  t[int(Op::Broadcast)] = OpInfo{
      .name = "broadcast", .arity = 1, .shape = broadcastShape, .eval = evalBroadcast,
      .vjp = vjpBroadcast, .jvp = jvpLinear,
      .loop = LoopKind::View, // a view: index arithmetic only
      .indexMap = mapBroadcast, .replicates = true,
      .cost = 1,
  };
  t[int(Op::Reshape)] = OpInfo{
      .name = "reshape", .arity = 1, .shape = reshapeShape, .eval = evalReshape,
      .vjp = vjpReshape, .jvp = jvpLinear,
      .loop = LoopKind::Reshape, // compiled code reads its operand's buffer
      .cost = 1,
  };
  t[int(Op::Transpose)] = OpInfo{
      .name = "transpose", .arity = 1, .shape = transposeShape, .eval = evalTranspose,
      .vjp = vjpTranspose, .jvp = jvpLinear,
      .loop = LoopKind::View, // a view: index arithmetic only
      .indexMap = mapTranspose,
      .cost = 1,
  };
  t[int(Op::Index)] = OpInfo{
      .name = "index", .arity = 1, .shape = indexShape, .eval = evalIndex,
      .vjp = vjpIndex, .jvp = jvpLinear,
      .loop = LoopKind::View, // a view: index arithmetic only
      .indexMap = mapIndex,
      .cost = 1,
  };
  t[int(Op::IndexGrad)] = OpInfo{
      .name = "index_grad", .arity = 1, .shape = indexGradShape, .eval = evalIndexGrad,
      .vjp = vjpIndexGrad, .jvp = jvpLinear,
      .loop = LoopKind::Scatter, // compiled code writes its operand into zeros
      .cost = 1,
  };
  t[int(Op::Pick)] = OpInfo{
      .name = "pick", .arity = 2, .shape = pickShape, .eval = evalPick, .vjp = vjpPick,
      .jvp = [](JvpContext &c) { // linear in s: pick(ds, y)
        return c.tangent(0) == kNoNode ? kNoNode : c.g.make(Op::Pick, {c.tangent(0), c.in(1)});
      },
      .loop = LoopKind::Gather,
      .cost = 1,
  };
}

} // namespace gradc
