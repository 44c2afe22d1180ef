// TensorBuilders.cpp: the builtins that build tensors from pieces or from nothing: list
// literals [a, b], stack, concat, zeros, ones, full, iota, eye.
//
// Joining is placement: concat(a, b) is index_grad(a) + index_grad(b), each piece placed at
// its slice of the result with zeros elsewhere. So a piece's gradient is the matching slice of
// the result's (index_grad's adjoint), and compiled code fuses the sum into one loop that reads
// each element from the piece it falls in.
#include "ir/DimArith.h"
#include "sema/ExprBuilder.h"

#include "ir/OpTable.h"

#include <limits>

namespace gradc {

namespace {

// Lists nest into tensors of one more axis per level: a limit keeps a hostile nesting from
// building shapes whose size grows with its square.
constexpr int64_t kMaxStackedRank = 32;

// a + b as a size (n + 2, n + m), or nullopt beyond what a size can hold.
std::optional<Dim> addDims(const DimTable &dims, const Dim &a, const Dim &b) {
  Dim sum = foldDims(dims, '+', a, b);
  return sum.sym >= -1 ? std::optional<Dim>(sum) : std::nullopt;
}

// The index_grad spec (5 ints per axis, OpTable.h) that selects [start, start + len) along
// `axis` of `shape` and all of every other axis.
std::vector<int64_t> placement(const Shape &shape, size_t axis, const Dim &start, const Dim &stop) {
  std::vector<int64_t> ints;
  for (size_t k = 0; k < shape.size(); ++k) {
    Dim from = k == axis ? start : Dim::lit(0), to = k == axis ? stop : shape[k];
    ints.insert(ints.end(), {1, from.sym, from.off, to.sym, to.off});
  }
  return ints;
}

} // namespace

bool isTensorBuilder(const std::string &name) {
  return name == "zeros" || name == "ones" || name == "full" || name == "iota" || name == "eye" ||
         name == "concat" || name == "stack";
}

bool takesShapeList(const std::string &fn, size_t arg) {
  return arg == 0 ? fn == "zeros" || fn == "ones" || fn == "full" : arg == 1 && fn == "reshape";
}

// A shape argument [d0, d1, ...]: each entry a static dim, positive and at most kMaxDimSize.
std::optional<Shape> ExprBuilder::shapeList(ExprId id, const std::string &fn) {
  const Expr &list = ast_[id];
  if (list.kind != ExprKind::List) {
    fail(list.loc, "the shape argument of '" + fn + "' must be a list such as [n, 3]");
    return std::nullopt;
  }
  Shape shape;
  for (ExprId k : list.kids) {
    std::optional<Dim> d = staticDim(k, "a shape entry");
    if (!d)
      return std::nullopt;
    if (d->isLiteral() && d->off <= 0) {
      fail(ast_[k].loc, "a shape entry must be positive");
      return std::nullopt;
    }
    if (d->isLiteral() && d->off > kMaxDimSize) {
      fail(ast_[k].loc, "shape entry " + std::to_string(d->off) + " is larger than " +
                            std::to_string(kMaxDimSize) + " (2^40), the largest size of an axis");
      return std::nullopt;
    }
    shape.push_back(*d);
  }
  return shape;
}

// The value of a list literal in value position: its elements stacked on a new first axis.
// Nested lists are stacked innermost first, without recursion (a list may nest deeply).
ExprBuilder::Value ExprBuilder::listValue(ExprId root) {
  std::vector<std::pair<ExprId, bool>> stack{{root, false}};
  while (!stack.empty()) {
    auto [id, expanded] = stack.back();
    stack.pop_back();
    const Expr &e = ast_[id];
    if (!expanded) {
      stack.push_back({id, true});
      for (ExprId k : e.kids)
        if (ast_[k].kind == ExprKind::List && !values_[k].failed && values_[k].node == kNoNode)
          stack.push_back({k, false});
      continue;
    }
    std::vector<NodeId> items;
    std::vector<SourceLoc> at;
    bool failed = false; // (the grammar has no empty list)
    for (ExprId k : e.kids) {
      failed = failed || values_[k].failed || values_[k].node == kNoNode;
      items.push_back(values_[k].node);
      at.push_back(ast_[k].loc);
    }
    NodeId n = failed ? kNoNode : stackOf(e.loc, items, at, 0, "a list");
    values_[id] = Value{n, std::nullopt, n == kNoNode};
  }
  return values_[root];
}

// Pieces of one rank, equal except along `axis`, joined along it.
// `at` locates each piece, for errors about one.
NodeId ExprBuilder::concatOf(SourceLoc loc, const std::vector<NodeId> &pieces, const std::vector<SourceLoc> &at,
                             int64_t axis, const char *what) {
  const Shape &first = g_.type(pieces[0]).shape;
  int64_t rank = static_cast<int64_t>(first.size());
  if (rank == 0) {
    fail(loc, std::string(what) + " joins tensors along an axis: a scalar has none (stack scalars instead)");
    return kNoNode;
  }
  if (axis < -rank || axis >= rank) {
    fail(loc, "axis " + std::to_string(axis) + " is out of range for " + what + " of rank " + std::to_string(rank));
    return kNoNode;
  }
  size_t ax = static_cast<size_t>(axis < 0 ? axis + rank : axis);
  Dim length = Dim::lit(0);
  std::vector<Dim> starts;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Shape &s = g_.type(pieces[i]).shape;
    bool fits = s.size() == first.size();
    for (size_t k = 0; fits && k < s.size(); ++k)
      fits = k == ax || s[k] == first[k];
    if (!fits) {
      fail(at[i], std::string(what) + ": piece " + std::to_string(i + 1) + " has shape " + g_.dims().str(s) +
                    ", which does not join " + g_.dims().str(first) + " along axis " + std::to_string(ax));
      return kNoNode;
    }
    starts.push_back(length);
    std::optional<Dim> next = addDims(g_.dims(), length, s[ax]);
    if (!next) {
      fail(at[i], std::string(what) + ": the joined axis would be " + g_.dims().str(length) + " + " +
                    g_.dims().str(s[ax]) + ", beyond what a size can hold");
      return kNoNode;
    }
    length = *next;
    if (length.isLiteral() && length.off > kMaxDimSize) {
      fail(at[i], std::string(what) + ": the joined axis would have " + std::to_string(length.off) +
                      " elements, more than 2^40, the largest size of an axis");
      return kNoNode;
    }
  }
  if (pieces.size() == 1)
    return pieces[0];
  Attrs placed;
  placed.type.shape = first;
  placed.type.shape[ax] = length;
  NodeId sum = kNoNode;
  for (size_t i = 0; i < pieces.size(); ++i) {
    placed.type.dtype = g_.type(pieces[i]).dtype;
    placed.ints = placement(placed.type.shape, ax, starts[i], *addDims(g_.dims(), starts[i], g_.type(pieces[i]).shape[ax]));
    NodeId p = make(loc, Op::IndexGrad, {pieces[i]}, placed);
    if (p == kNoNode)
      return kNoNode;
    sum = sum == kNoNode ? p : make(loc, Op::Add, {sum, p});
  }
  return sum;
}

// Pieces of one shape, each given a new axis of length 1 at `axis`, then joined along it.
NodeId ExprBuilder::stackOf(SourceLoc loc, const std::vector<NodeId> &pieces, const std::vector<SourceLoc> &at,
                            int64_t axis, const char *what) {
  const Shape &first = g_.type(pieces[0]).shape;
  int64_t rank = static_cast<int64_t>(first.size()) + 1;
  if (rank > kMaxStackedRank) {
    fail(loc, std::string(what) + " would have " + std::to_string(rank) + " axes; stacking stops at " +
                  std::to_string(kMaxStackedRank));
    return kNoNode;
  }
  if (axis < -rank || axis >= rank) {
    fail(loc, "axis " + std::to_string(axis) + " is out of range for " + what + " of rank " + std::to_string(rank));
    return kNoNode;
  }
  size_t ax = static_cast<size_t>(axis < 0 ? axis + rank : axis);
  std::vector<NodeId> lifted;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Type &t = g_.type(pieces[i]);
    if (t.shape != first) {
      fail(at[i], std::string(what) + ": element " + std::to_string(i + 1) + " has shape " + g_.dims().str(t.shape) +
                    ", element 1 has " + g_.dims().str(first) + " (stacked elements have one shape)");
      return kNoNode;
    }
    Attrs a;
    a.type = t;
    a.type.shape.insert(a.type.shape.begin() + static_cast<std::ptrdiff_t>(ax), Dim::lit(1));
    lifted.push_back(make(loc, Op::Reshape, {pieces[i]}, a));
    if (lifted.back() == kNoNode)
      return kNoNode;
  }
  return concatOf(loc, lifted, at, static_cast<int64_t>(ax), what);
}

ExprBuilder::Value ExprBuilder::tensorBuilder(const Expr &e, const std::vector<ExprId> &args, std::optional<int64_t> axis) {
  const std::string &fn = e.text;
  auto done = [](NodeId n) { return Value{n, std::nullopt, n == kNoNode}; };
  if (fn == "concat" || fn == "stack") {
    std::vector<NodeId> pieces;
    std::vector<SourceLoc> at;
    for (ExprId a : args) {
      pieces.push_back(values_[a].node);
      at.push_back(ast_[a].loc);
    }
    std::string what = "'" + fn + "'";
    return done(fn == "concat" ? concatOf(e.loc, pieces, at, axis.value_or(0), what.c_str())
                               : stackOf(e.loc, pieces, at, axis.value_or(0), what.c_str()));
  }
  if (fn == "zeros" || fn == "ones" || fn == "full") {
    std::optional<Shape> shape = shapeList(args[0], fn);
    if (!shape)
      return Value{kNoNode, std::nullopt, true};
    if (fn != "full")
      return done(g_.constant(fn == "ones" ? 1.0 : 0.0, *shape));
    NodeId v = values_[args[1]].node;
    if (!g_.type(v).isScalar())
      return fail(ast_[args[1]].loc, "the fill value of 'full' must be a scalar, not " + shapeStr(v));
    if (g_.node(v).op == Op::Const) // a literal stays a constant (which adapts to f32 as literals do)
      return done(g_.constant(g_.node(v).num, *shape, g_.type(v).dtype));
    Attrs a;
    a.type = Type{g_.type(v).dtype, *shape}; // the fill value's dtype
    return done(make(e.loc, Op::Broadcast, {v}, a));
  }
  // iota(n), eye(n): n a static dim.
  std::optional<Dim> n = staticDim(args[0], ("the size given to '" + fn + "'").c_str());
  if (!n)
    return Value{kNoNode, std::nullopt, true};
  if (n->isLiteral() && (n->off <= 0 || n->off > kMaxDimSize))
    return fail(ast_[args[0]].loc, "the size given to '" + fn + "' must be between 1 and 2^40, not " +
                                       std::to_string(n->off));
  Attrs a;
  a.type.dtype = DType::F64;
  a.ints = {0};
  if (fn == "iota") {
    a.type.shape = {*n};
    return done(make(e.loc, Op::Iota, {}, a));
  }
  a.type.shape = {*n, *n};
  NodeId rows = make(e.loc, Op::Iota, {}, a);
  a.ints = {1};
  NodeId cols = make(e.loc, Op::Iota, {}, a);
  NodeId diagonal = make(e.loc, Op::Eq, {rows, cols});
  return done(make(e.loc, Op::Where, {diagonal, g_.constant(1.0, a.type.shape), g_.constant(0.0, a.type.shape)}));
}

} // namespace gradc
