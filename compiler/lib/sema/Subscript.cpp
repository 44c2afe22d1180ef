// Subscript.cpp: x[i, a:b, idx] to IR. Integers and slices make one Index view (the integers'
// axes drop out); integer arrays then gather from the view along the axes they index, with the
// result's axes placed as NumPy places them. Bounds known at compile time are checked here.
#include "ir/DimArith.h"
#include "sema/ExprBuilder.h"

#include <algorithm>

namespace gradc {

namespace {

// A negative literal counts from the end of the axis, as in NumPy: x[-1] is x[n-1], x[:-1] is
// x[0:n-1]. What it comes to is checked like any index.
std::optional<Dim> fromEnd(std::optional<Dim> v, const Dim &size) {
  if (!v || !v->isLiteral() || v->off >= 0)
    return v;
  return Dim{size.sym, size.off + v->off};
}

} // namespace

// The subscript's items so far: the Index view's attributes (five numbers per axis: whether it
// is kept, and its start and stop or its index as dims), and the index arrays.
struct ExprBuilder::Subscript {
  Attrs view;
  bool ok = true;
  int64_t kept = 0;               // axes of the view so far
  std::vector<NodeId> arrays;     // the index arrays, in order
  std::vector<int64_t> arrayAxes; // the axis of the view each one indexes
  // Items NumPy calls advanced (arrays, and integers with them): where they are.
  int64_t firstAdvanced = -1, lastAdvanced = -1, advanced = 0;
  void keepWhole(const Dim &size) {
    view.ints.insert(view.ints.end(), {1, -1, 0, size.sym, size.off});
    ++kept;
  }
  void countAdvanced(size_t k) {
    firstAdvanced = firstAdvanced < 0 ? static_cast<int64_t>(k) : firstAdvanced;
    lastAdvanced = static_cast<int64_t>(k);
    ++advanced;
  }
};

ExprBuilder::Value ExprBuilder::index(const Expr &e) {
  NodeId base = values_[e.kids[0]].node;
  const Shape shape = g_.type(base).shape;
  size_t items = e.kids.size() - 1;
  if (items > shape.size())
    return fail(e.loc, "too many indices: " + std::to_string(items) + " for a value of shape " +
                           shapeStr(base));
  // s[iota(N), y]: each row's element at its label, which is pick(s, y) (NumPy's
  // s[np.arange(N), y]); iota's elements are their own indices, so it indexes as integers.
  if (items == 2 && shape.size() == 2) {
    const Value &rows = values_[e.kids[1]], &labels = values_[e.kids[2]];
    if (rows.node != kNoNode && labels.node != kNoNode && !rows.dim && g_.node(rows.node).op == Op::Iota &&
        g_.type(rows.node).shape == Shape{shape[0]} && isInteger(g_.type(labels.node).dtype) &&
        g_.type(labels.node).shape == Shape{shape[0]}) {
      NodeId picked = make(e.loc, Op::Pick, {base, labels.node});
      return Value{picked, std::nullopt, picked == kNoNode};
    }
  }
  Subscript s;
  for (size_t k = 0; k < shape.size(); ++k) {
    if (k >= items) // missing trailing axes are taken whole
      s.keepWhole(shape[k]);
    else if (!subscriptItem(e.kids[k + 1], k, shape[k], s))
      return Value{kNoNode, std::nullopt, true};
  }
  if (!s.ok)
    return Value{kNoNode, std::nullopt, true};
  NodeId indexed = make(e.loc, Op::Index, {base}, s.view);
  if (s.arrays.empty() || indexed == kNoNode)
    return Value{indexed, std::nullopt, indexed == kNoNode};
  return gatherIndexArrays(e, indexed, s);
}

// Item k of a subscript (a slice, an integer or an index array) on an axis of `size`. False
// when the subscript cannot go on; an error it can go on after clears s.ok.
bool ExprBuilder::subscriptItem(ExprId id, size_t k, const Dim &size, Subscript &s) {
  const DimTable &dims = g_.dims();
  const Expr &item = ast_[id];
  std::string axis = "axis " + std::to_string(k) + " of size " + dims.str(size);
  auto error = [&](const std::string &message) { s.ok = !fail(item.loc, message).failed; };
  int64_t diff;
  if (item.kind == ExprKind::Slice) {
    std::optional<Dim> start = Dim::lit(0), stop = size;
    if (item.kids[0] != kNoExpr)
      start = staticDim(item.kids[0], "a slice bound");
    if (item.kids[1] != kNoExpr)
      stop = staticDim(item.kids[1], "a slice bound");
    if (!start || !stop)
      return false;
    std::optional<Dim> givenStart = start, givenStop = stop;
    start = fromEnd(start, size);
    stop = fromEnd(stop, size);
    if (start->isLiteral() && start->off < 0)
      error("slice start " + dims.str(*givenStart) + " is out of range for " + axis);
    else if (stop->isLiteral() && stop->off < 0)
      error("slice end " + dims.str(*givenStop) + " is out of range for " + axis);
    else if (dimDifference(size, *stop, diff) && diff < 0)
      error("slice end " + dims.str(*stop) + " is past the end of " + axis);
    else if (dimDifference(*stop, *start, diff) && diff < 0)
      error("slice " + dims.str(*start) + ":" + dims.str(*stop) + " is empty");
    s.view.ints.insert(s.view.ints.end(), {1, start->sym, start->off, stop->sym, stop->off});
    ++s.kept;
    return true;
  }
  // An integer tensor (a const i32 or i64 value): an index array, gathered after the view.
  const Value &iv = values_[id];
  if (!iv.dim && iv.node != kNoNode && isInteger(g_.type(iv.node).dtype)) {
    s.arrays.push_back(iv.node);
    s.arrayAxes.push_back(s.kept);
    s.countAdvanced(k);
    s.keepWhole(size);
    return true;
  }
  if (!iv.dim && iv.node != kNoNode) {
    fail(item.loc, "an index must be an integer literal, a dim expression such as 'n-1', or an integer "
                   "array (a const i32 or i64 parameter), not a value of type " +
                       std::string(dtypeName(g_.type(iv.node).dtype)) +
                       (g_.type(iv.node).isScalar() ? "" : shapeStr(iv.node)));
    return false;
  }
  std::optional<Dim> given = staticDim(id, "an index");
  if (!given)
    return false;
  std::optional<Dim> i = fromEnd(given, size);
  if (i->isLiteral() && i->off < 0)
    error("index " + dims.str(*given) + " is out of range for " + axis);
  else if (dimDifference(size, *i, diff) && diff <= 0)
    error("index " + dims.str(*i) + " is out of range for " + axis);
  s.view.ints.insert(s.view.ints.end(), {0, i->sym, i->off, -1, 0});
  s.countAdvanced(k);
  return true;
}

// The gather of the index arrays from the view `indexed`. Several arrays broadcast together
// into one shape S (NumPy), so that each element of the result reads one index of each. Where
// the advanced items are next to each other, S takes their place; where a slice separates
// them, S comes first. Integers index the view first, so the arrays index adjacent axes of it,
// or are moved to the front.
ExprBuilder::Value ExprBuilder::gatherIndexArrays(const Expr &e, NodeId indexed, Subscript &s) {
  if (!broadcastAll(e.loc, "the index arrays of a subscript", s.arrays))
    return Value{kNoNode, std::nullopt, true};
  Attrs at;
  at.ints = {s.arrayAxes[0]};
  if (s.lastAdvanced - s.firstAdvanced + 1 != s.advanced) {
    Attrs perm;
    perm.ints = s.arrayAxes;
    for (int64_t k = 0; k < s.kept; ++k)
      if (std::find(s.arrayAxes.begin(), s.arrayAxes.end(), k) == s.arrayAxes.end())
        perm.ints.push_back(k);
    indexed = make(e.loc, Op::Transpose, {indexed}, perm);
    if (indexed == kNoNode)
      return Value{kNoNode, std::nullopt, true};
    at.ints = {0};
  }
  std::vector<NodeId> operands{indexed};
  operands.insert(operands.end(), s.arrays.begin(), s.arrays.end());
  NodeId gathered = make(e.loc, Op::Gather, operands, at);
  return Value{gathered, std::nullopt, gathered == kNoNode};
}

} // namespace gradc
