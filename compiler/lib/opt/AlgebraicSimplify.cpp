// AlgebraicSimplify.cpp: identities, as a table of patterns. The exact ones hold for every
// IEEE input, NaN and signed zeros included; the others only under --fast-math.
#include "opt/Passes.h"

#include <algorithm>

namespace gradc {

namespace {

// A rewrite: when `match` holds for node n with operands x, `build` gives its replacement.
// `match` reads the graph only, so a pass can first ask whether anything would change.
struct Pattern {
  const char *identity;
  bool exact;
  bool (*match)(const Graph &g, const Node &n, const std::vector<NodeId> &x);
  NodeId (*build)(Graph &g, const Node &n, const std::vector<NodeId> &x);
};

bool isK(const Graph &g, NodeId id, double v) { return g.isConstant(id, v); }
bool isNeg(const Graph &g, NodeId id) { return g.node(id).op == Op::Neg; }
NodeId inner(const Graph &g, NodeId id) { return g.node(id).operands[0]; }
bool sameType(const Graph &g, const Node &n, NodeId id) { return g.type(id) == n.type; }

using X = const std::vector<NodeId> &;

// The product under a sum, looking through one negation: sum(A @ B) or sum(-(A @ B)).
NodeId summedProduct(const Graph &g, NodeId x) {
  if (isNeg(g, x))
    x = inner(g, x);
  return g.node(x).op == Op::MatMul ? x : kNoNode;
}

// Whether sum node n reduces the rows and the columns of product p (an axis of size 1, as this
// rewrite leaves, does not count).
struct SummedSides {
  bool rows = false, columns = false;
};
SummedSides summedSides(const Graph &g, const Node &n, NodeId p) {
  const Shape &shape = g.type(p).shape;
  auto summed = [&](size_t axis) {
    return !(shape[axis] == Dim::lit(1)) &&
           std::find(n.ints.begin(), n.ints.end(), static_cast<int64_t>(axis)) != n.ints.end();
  };
  return {summed(shape.size() - 2), summed(shape.size() - 1)};
}

// Whether a sum reduces the rows or the columns of a product of matrices (neither a vector).
bool sumsProductRowsOrColumns(const Graph &g, const Node &n, X x) {
  if (n.op != Op::Sum)
    return false;
  NodeId p = summedProduct(g, x[0]);
  if (p == kNoNode)
    return false;
  const Node &mm = g.node(p);
  if (g.type(mm.operands[0]).shape.size() < 2 || g.type(mm.operands[1]).shape.size() < 2)
    return false;
  SummedSides sides = summedSides(g, n, p);
  return sides.rows || sides.columns;
}

// m with its axis `axis` summed and kept with size 1.
NodeId sumKeepingAxis(Graph &g, NodeId m, size_t axis) {
  Attrs s, keep;
  s.ints = {static_cast<int64_t>(axis)};
  keep.type = g.type(m);
  keep.type.shape[axis] = Dim::lit(1);
  return g.make(Op::Reshape, {g.make(Op::Sum, {m}, s)}, keep);
}

// sum over the rows of A @ B is (A's rows summed) @ B, and over the columns A @ (B's columns
// summed): a product of one row or one column instead of a whole one. (The gradient of a
// mean subtracted before a product has this form.) The sum keeps its axes, now of size 1.
NodeId sumOfSmallerProduct(Graph &g, const Node &n, X x) {
  bool negated = isNeg(g, x[0]);
  NodeId p = summedProduct(g, x[0]);
  NodeId a = g.node(p).operands[0], b = g.node(p).operands[1];
  SummedSides sides = summedSides(g, n, p);
  if (sides.rows)
    a = sumKeepingAxis(g, a, g.type(a).shape.size() - 2);
  if (sides.columns)
    b = sumKeepingAxis(g, b, g.type(b).shape.size() - 1);
  NodeId product = g.make(Op::MatMul, {a, b});
  Attrs s;
  s.ints = n.ints;
  NodeId sum = g.make(Op::Sum, {product}, s);
  return negated ? g.make(Op::Neg, {sum}) : sum;
}

const Pattern kPatterns[] = {
    {"x - 0 -> x", true,
     [](const Graph &g, const Node &n, X x) { return n.op == Op::Sub && isK(g, x[1], 0.0) && sameType(g, n, x[0]); },
     [](Graph &, const Node &, X x) { return x[0]; }},
    {"x * -1 -> -x", true,
     [](const Graph &g, const Node &n, X x) { return n.op == Op::Mul && isK(g, x[1], -1.0) && sameType(g, n, x[0]); },
     [](Graph &g, const Node &, X x) { return g.make(Op::Neg, {x[0]}); }},
    {"x - (-y) -> x + y", true,
     [](const Graph &g, const Node &n, X x) { return n.op == Op::Sub && isNeg(g, x[1]); },
     [](Graph &g, const Node &, X x) { return g.make(Op::Add, {x[0], inner(g, x[1])}); }},
    {"x + (-y) -> x - y", true,
     [](const Graph &g, const Node &n, X x) { return n.op == Op::Add && isNeg(g, x[1]); },
     [](Graph &g, const Node &, X x) { return g.make(Op::Sub, {x[0], inner(g, x[1])}); }},
    {"(-x) * (-y) -> x * y", true,
     [](const Graph &g, const Node &n, X x) { return n.op == Op::Mul && isNeg(g, x[0]) && isNeg(g, x[1]); },
     [](Graph &g, const Node &, X x) { return g.make(Op::Mul, {inner(g, x[0]), inner(g, x[1])}); }},
    {"pow(x, 0) -> 1 (C99: for every x, NaN included)", true,
     [](const Graph &g, const Node &n, X x) { return n.op == Op::Pow && isK(g, x[1], 0.0); },
     [](Graph &g, const Node &n, X) { return g.constant(1.0, n.type.shape, n.type.dtype); }},
    {"pow(x, 1) -> x", true,
     [](const Graph &g, const Node &n, X x) { return n.op == Op::Pow && isK(g, x[1], 1.0) && sameType(g, n, x[0]); },
     [](Graph &, const Node &, X x) { return x[0]; }},
    // (x*x is correctly rounded; LLVM makes the same rewrite of pow(x, 2.0) without
    // fast-math. Doing it here also simplifies the derivative: 2 * pow(x, 1) -> 2 * x.)
    {"pow(x, 2) -> x * x", true,
     [](const Graph &g, const Node &n, X x) { return n.op == Op::Pow && isK(g, x[1], 2.0) && sameType(g, n, x[0]); },
     [](Graph &g, const Node &, X x) { return g.make(Op::Mul, {x[0], x[0]}); }},
    // (The gradient of x @ W.T transposes W.T again; a copy of each would be made.)
    {"transpose(transpose(x)) -> x when the axes come back", true,
     [](const Graph &g, const Node &n, X x) {
       if (n.op != Op::Transpose || g.node(x[0]).op != Op::Transpose || !sameType(g, n, inner(g, x[0])))
         return false;
       const std::vector<int64_t> &outer = n.ints, &first = g.node(x[0]).ints;
       for (size_t k = 0; k < outer.size(); ++k) // result axis k is x's axis first[outer[k]]
         if (first[static_cast<size_t>(outer[k])] != static_cast<int64_t>(k))
           return false;
       return true;
     },
     [](Graph &g, const Node &, X x) { return inner(g, x[0]); }},
    // (Exact up to the rounding of a sum taken in another order, which gradc's sums already
    // are: their order is the vectorizer's.)
    {"sum of A @ B over its rows -> sum(A's rows) @ B, and over its columns", true,
     sumsProductRowsOrColumns, sumOfSmallerProduct},
    {"where(c, x, x) -> x", true,
     [](const Graph &g, const Node &n, X x) { return n.op == Op::Where && x[1] == x[2] && sameType(g, n, x[1]); },
     [](Graph &, const Node &, X x) { return x[1]; }},
    {"x + 0 -> x (wrong for x = -0)", false,
     [](const Graph &g, const Node &n, X x) {
       return n.op == Op::Add && ((isK(g, x[1], 0.0) && sameType(g, n, x[0])) ||
                                  (isK(g, x[0], 0.0) && sameType(g, n, x[1])));
     },
     [](Graph &g, const Node &, X x) { return isK(g, x[1], 0.0) ? x[0] : x[1]; }},
    {"x * 0 -> 0 (wrong for x = inf, NaN)", false,
     [](const Graph &g, const Node &n, X x) { return n.op == Op::Mul && (isK(g, x[0], 0.0) || isK(g, x[1], 0.0)); },
     [](Graph &g, const Node &n, X) { return g.constant(0.0, n.type.shape, n.type.dtype); }},
    {"x - x -> 0 (wrong for x = inf, NaN)", false,
     [](const Graph &, const Node &n, X x) { return n.op == Op::Sub && x[0] == x[1]; },
     [](Graph &g, const Node &n, X) { return g.constant(0.0, n.type.shape, n.type.dtype); }},
    {"x / x -> 1 (wrong for x = 0, inf, NaN)", false,
     [](const Graph &, const Node &n, X x) { return n.op == Op::Div && x[0] == x[1]; },
     [](Graph &g, const Node &n, X) { return g.constant(1.0, n.type.shape, n.type.dtype); }},
};

} // namespace

NodeId algebraicSimplifyRule(Graph &g, const Node &n, const std::vector<NodeId> &ops,
                             const OptOptions &opts) {
  for (const Pattern &p : kPatterns)
    if ((p.exact || opts.fastMath) && p.match(g, n, ops))
      return p.build(g, n, ops);
  return kNoNode;
}

bool algebraicSimplifyMatches(const Graph &g, const Node &n, const OptOptions &opts) {
  for (const Pattern &p : kPatterns)
    if ((p.exact || opts.fastMath) && p.match(g, n, n.operands))
      return true;
  return false;
}

} // namespace gradc
