// StructureBuiltins.cpp: builtins about a tensor's structure, each built from the op table's
// ops: tril, triu, diag, diagonal, trace, outer, cross, prod, norm, flip, cumsum.
#include "ir/DimArith.h"
#include "sema/ExprBuilder.h"

#include "ir/OpTable.h"

namespace gradc {

bool isStructureBuiltin(const std::string &name) {
  return name == "tril" || name == "triu" || name == "diag" || name == "diagonal" || name == "trace" ||
         name == "outer" || name == "cross" || name == "prod" || name == "norm" || name == "flip" ||
         name == "cumsum";
}

// tril(A, k=0) keeps the elements on and below diagonal k (col <= row + k) of the last two
// axes, triu(A, k=0) those on and above it (col >= row + k); the rest are 0, with no gradient.
ExprBuilder::Value ExprBuilder::triangle(const Expr &e, NodeId a, const std::vector<ExprId> &kws) {
  int64_t k = 0;
  for (ExprId kw : kws) {
    const Value &v = values_[ast_[kw].kids[0]];
    if (ast_[kw].text != "k")
      return fail(ast_[kw].loc, "unknown keyword argument '" + ast_[kw].text + "' for '" + e.text + "'");
    if (!v.dim || !v.dim->isLiteral())
      return fail(ast_[ast_[kw].kids[0]].loc, "'k' must be an integer literal");
    k = v.dim->off;
  }
  const Type t = g_.type(a);
  if (t.shape.size() < 2)
    return fail(e.loc, "'" + e.text + "' needs a matrix (or a batch of them), not " + shapeStr(a));
  Attrs rows, cols;
  rows.type = cols.type = Type{DType::I64, t.shape};
  rows.ints = {static_cast<int64_t>(t.shape.size() - 2)};
  cols.ints = {static_cast<int64_t>(t.shape.size() - 1)};
  NodeId row = make(e.loc, Op::Iota, {}, rows), col = make(e.loc, Op::Iota, {}, cols);
  NodeId shifted = make(e.loc, Op::Add, {row, g_.constant(static_cast<double>(k), t.shape)});
  NodeId keep = make(e.loc, e.text == "tril" ? Op::Le : Op::Ge, {col, shifted});
  NodeId n = make(e.loc, Op::Where, {keep, a, g_.constant(0.0, t.shape, isFloat(t.dtype) ? t.dtype : DType::F64)});
  return Value{n, std::nullopt, n == kNoNode};
}

// Slice [k, k + 1) of `axis` of x (keeping the axis).
NodeId ExprBuilder::sliceOf(SourceLoc loc, NodeId x, size_t axis, int64_t k) {
  Attrs a;
  for (size_t j = 0; j < g_.type(x).shape.size(); ++j) {
    Dim from = j == axis ? Dim::lit(k) : Dim::lit(0), to = j == axis ? Dim::lit(k + 1) : g_.type(x).shape[j];
    a.ints.insert(a.ints.end(), {1, from.sym, from.off, to.sym, to.off});
  }
  return make(loc, Op::Index, {x}, a);
}

// The matrix with vector v on its diagonal and zeros elsewhere.
NodeId ExprBuilder::diagOf(SourceLoc loc, NodeId v) {
  const Dim n = g_.type(v).shape[0];
  Attrs sq;
  sq.type = Type{isFloat(g_.type(v).dtype) ? g_.type(v).dtype : DType::F64, {n, n}};
  Attrs rows = sq, cols = sq;
  rows.type.dtype = cols.type.dtype = DType::I64;
  rows.ints = {0};
  cols.ints = {1};
  NodeId on = make(loc, Op::Eq, {make(loc, Op::Iota, {}, rows), make(loc, Op::Iota, {}, cols)});
  NodeId spread = make(loc, Op::Broadcast, {v}, sq);
  return make(loc, Op::Where, {on, spread, g_.constant(0.0, sq.type.shape, sq.type.dtype)});
}

ExprBuilder::Value ExprBuilder::structureBuiltin(const Expr &e, const std::vector<ExprId> &args,
                                                 std::optional<int64_t> axis) {
  const std::string &fn = e.text;
  auto node = [&](size_t i) { return values_[args[i]].node; };
  auto done = [](NodeId n) { return Value{n, std::nullopt, n == kNoNode}; };
  NodeId x = node(0);
  const Shape shape = g_.type(x).shape;
  int64_t rank = static_cast<int64_t>(shape.size());
  auto axisOf = [&](int64_t ax) -> std::optional<size_t> {
    if (ax < -rank || ax >= rank) {
      fail(e.loc, "axis " + std::to_string(ax) + " is out of range for a value of shape " + shapeStr(x));
      return std::nullopt;
    }
    return static_cast<size_t>(ax < 0 ? ax + rank : ax);
  };
  if (fn == "prod")
    return done(reduce(e.loc, x, axis, false, Op::ReduceProd));
  if (fn == "norm") { // sqrt(sum(x^2)), with gradient 0 at 0 (PyTorch): sqrt never sees 0
    NodeId s = reduce(e.loc, make(e.loc, Op::Mul, {x, x}), axis, false);
    if (s == kNoNode)
      return Value{kNoNode, std::nullopt, true};
    NodeId zero = make(e.loc, Op::Eq, {s, constantLike(g_, 0.0, s)});
    NodeId safe = make(e.loc, Op::Where, {zero, constantLike(g_, 1.0, s), s});
    return done(make(e.loc, Op::Where, {zero, constantLike(g_, 0.0, s), make(e.loc, Op::Sqrt, {safe})}));
  }
  if (fn == "cumsum") { // along `axis`; without it the flattened value, as NumPy
    if (!axis) {
      Attrs flat;
      flat.type = Type{g_.type(x).dtype, {elementCountDim(g_.dims(), g_.type(x).shape)}};
      if (flat.type.shape[0].sym < -1)
        return fail(e.loc, "'cumsum' of " + shapeStr(x) + ": its element count is too large a size; give an axis");
      x = rank == 1 ? x : make(e.loc, Op::Reshape, {x}, flat);
      if (x == kNoNode)
        return Value{kNoNode, std::nullopt, true};
    }
    std::optional<size_t> ax = axis ? axisOf(*axis) : std::optional<size_t>(0);
    if (!ax)
      return Value{kNoNode, std::nullopt, true};
    if (g_.type(x).isScalar())
      return fail(e.loc, "'cumsum' needs an array, not a scalar");
    Attrs a;
    a.ints = {static_cast<int64_t>(*ax), 0};
    return done(make(e.loc, Op::Cumsum, {x}, a));
  }
  if (fn == "flip") { // every axis without `axis`, as NumPy
    for (int64_t k = 0; k < rank; ++k) {
      std::optional<size_t> ax = axis ? axisOf(*axis) : std::optional<size_t>(static_cast<size_t>(k));
      if (!ax)
        return Value{kNoNode, std::nullopt, true};
      Attrs a;
      a.ints = {static_cast<int64_t>(*ax)};
      x = make(e.loc, Op::Flip, {x}, a);
      if (axis || x == kNoNode)
        break;
    }
    return done(x);
  }
  if (fn == "diagonal" || fn == "trace") {
    NodeId d = make(e.loc, Op::Diagonal, {x});
    if (fn == "diagonal" || d == kNoNode)
      return done(d);
    if (rank != 2)
      return fail(e.loc, "'trace' needs a matrix, not " + shapeStr(x));
    return done(reduce(e.loc, d, std::nullopt, false));
  }
  if (fn == "diag") { // v [n] -> [n, n], v on the diagonal
    if (rank != 1)
      return fail(e.loc, "'diag' makes a matrix of a vector, not of " + shapeStr(x) +
                             " (the diagonal of a matrix is 'diagonal')");
    return done(diagOf(e.loc, x));
  }
  NodeId y = node(1);
  if (fn == "outer") { // a [n], b [m] -> [n, m]
    if (rank != 1 || g_.type(y).shape.size() != 1)
      return fail(e.loc, "'outer' takes two vectors, not " + shapeStr(x) + " and " + shapeStr(y));
    Attrs column;
    column.type = Type{g_.type(x).dtype, {shape[0], Dim::lit(1)}};
    std::vector<NodeId> ops{make(e.loc, Op::Reshape, {x}, column), y};
    if (!broadcastAll(e.loc, "'outer'", ops))
      return Value{kNoNode, std::nullopt, true};
    return done(make(e.loc, Op::Mul, ops));
  }
  return crossOf(e, x, y, axis.value_or(-1));
}

// cross(a, b, axis=-1): 3-vectors along the axis, broadcasting.
ExprBuilder::Value ExprBuilder::crossOf(const Expr &e, NodeId a, NodeId b, int64_t axis) {
  std::vector<NodeId> ops{a, b};
  if (!broadcastAll(e.loc, "'cross'", ops))
    return Value{kNoNode, std::nullopt, true};
  int64_t rank = static_cast<int64_t>(g_.type(ops[0]).shape.size());
  if (axis < -rank || axis >= rank)
    return fail(e.loc, "axis " + std::to_string(axis) + " is out of range for a value of shape " + shapeStr(ops[0]));
  size_t ax = static_cast<size_t>(axis < 0 ? axis + rank : axis);
  if (!(g_.type(ops[0]).shape[ax] == Dim::lit(3)))
    return fail(e.loc, "'cross' needs 3-vectors along axis " + std::to_string(ax) + ", not " + shapeStr(ops[0]));
  std::vector<NodeId> parts, at(3), bt(3);
  for (int64_t k = 0; k < 3; ++k) {
    at[static_cast<size_t>(k)] = sliceOf(e.loc, ops[0], ax, k);
    bt[static_cast<size_t>(k)] = sliceOf(e.loc, ops[1], ax, k);
  }
  for (size_t k = 0; k < 3; ++k) { // c_k = a_{k+1} b_{k+2} - a_{k+2} b_{k+1}
    size_t i = (k + 1) % 3, j = (k + 2) % 3;
    parts.push_back(make(e.loc, Op::Sub, {make(e.loc, Op::Mul, {at[i], bt[j]}), make(e.loc, Op::Mul, {at[j], bt[i]})}));
  }
  std::vector<SourceLoc> locs(3, e.loc);
  NodeId c = concatOf(e.loc, parts, locs, static_cast<int64_t>(ax), "'cross'");
  return Value{c, std::nullopt, c == kNoNode};
}

} // namespace gradc
