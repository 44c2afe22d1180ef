// LeafOps.cpp: parameters, constants and dim values: the graph's inputs.
#include "ir/OpTable.h"

namespace gradc {

static bool typeFromAttrs(const ShapeQuery &q, Type &out, std::string &) {
  out = q.attrs.type;
  return true;
}

// A dim used as a number (`sum(x) / n`): an f64 scalar.
// A dim's size as a floating scalar of the requested dtype (f64 unless f32 is asked for:
// mean of an f32 tensor divides in f32).
static bool dimValueShape(const ShapeQuery &q, Type &out, std::string &) {
  out = Type{q.attrs.type.dtype == DType::F32 ? DType::F32 : DType::F64, {}};
  return true;
}

static void evalConst(EvalContext &c) {
  c.out.shape = c.concrete(c.node.type.shape);
  int64_t n = 1;
  for (int64_t d : c.out.shape)
    n *= d;
  c.out.data.assign(static_cast<size_t>(n), c.node.num);
}

static void evalDimValue(EvalContext &c) {
  c.out.shape.clear();
  c.out.data.assign(1, static_cast<double>(c.dimValue(Dim{static_cast<int32_t>(c.node.ints[0]), 0})));
}

// iota: attrs.type is the shape (i64), ints[0] the axis whose index each element holds.
static void evalIota(EvalContext &c) {
  c.out.shape = c.concrete(c.node.type.shape);
  int64_t n = 1;
  for (int64_t d : c.out.shape)
    n *= d;
  c.out.data.assign(static_cast<size_t>(n), 0.0);
  size_t axis = static_cast<size_t>(c.node.ints[0]);
  int64_t inner = 1;
  for (size_t k = axis + 1; k < c.out.shape.size(); ++k)
    inner *= c.out.shape[k];
  for (int64_t i = 0; i < n; ++i)
    c.out.data[static_cast<size_t>(i)] = static_cast<double>((i / inner) % c.out.shape[axis]);
}

void registerLeafOps(OpInfo *t) {
  // A call's type is its callee's result type; its body replaces it before any pass.
  t[int(Op::Call)] = OpInfo{
      .name = "call", .arity = -1, .shape = typeFromAttrs,
      .cost = 1, .inlinedFirst = true,
  };
  // Parameters are bound by the caller; they have no evaluation of their own.
  t[int(Op::Param)] = OpInfo{
      .name = "param", .arity = 0, .shape = typeFromAttrs, .noGradient = true,
      .cost = 1,
  };
  t[int(Op::Const)] = OpInfo{
      .name = "const", .arity = 0, .shape = typeFromAttrs, .eval = evalConst, .noGradient = true,
      .cost = 1,
  };
  t[int(Op::Iota)] = OpInfo{
      .name = "iota", .arity = 0, .shape = typeFromAttrs, .eval = evalIota, .noGradient = true,
      .loop = LoopKind::Iota,
      .cost = 1,
  };
  t[int(Op::DimValue)] = OpInfo{
      .name = "dimvalue", .arity = 0, .shape = dimValueShape, .eval = evalDimValue,
      .noGradient = true,
      .cost = 1,
  };
}

} // namespace gradc
