// AlgebraicSimplify.cpp: identities, as a table of patterns. The exact ones hold for every
// IEEE input, NaN and signed zeros included; the others only under --fast-math.
#include "opt/Passes.h"

namespace gradc {

namespace {

struct Pattern {
  const char *identity;
  bool exact;
  NodeId (*apply)(Graph &g, const Node &n, const std::vector<NodeId> &x);
};

bool isK(Graph &g, NodeId id, double v) { return g.isConstant(id, v); }
bool isNeg(Graph &g, NodeId id) { return g.node(id).op == Op::Neg; }
NodeId inner(Graph &g, NodeId id) { return g.node(id).operands[0]; }
NodeId zeroLike(Graph &g, const Node &n) { return g.constant(0.0, n.type.shape, n.type.dtype); }
bool sameType(Graph &g, const Node &n, NodeId id) { return g.type(id) == n.type; }

const Pattern kPatterns[] = {
    {"x - 0 -> x", true,
     [](Graph &g, const Node &n, const std::vector<NodeId> &x) {
       return n.op == Op::Sub && isK(g, x[1], 0.0) && sameType(g, n, x[0]) ? x[0] : kNoNode;
     }},
    {"x * -1 -> -x", true,
     [](Graph &g, const Node &n, const std::vector<NodeId> &x) {
       return n.op == Op::Mul && isK(g, x[1], -1.0) && sameType(g, n, x[0])
                  ? g.make(Op::Neg, {x[0]})
                  : kNoNode;
     }},
    {"x - (-y) -> x + y", true,
     [](Graph &g, const Node &n, const std::vector<NodeId> &x) {
       return n.op == Op::Sub && isNeg(g, x[1]) ? g.make(Op::Add, {x[0], inner(g, x[1])}) : kNoNode;
     }},
    {"x + (-y) -> x - y", true,
     [](Graph &g, const Node &n, const std::vector<NodeId> &x) {
       return n.op == Op::Add && isNeg(g, x[1]) ? g.make(Op::Sub, {x[0], inner(g, x[1])}) : kNoNode;
     }},
    {"(-x) * (-y) -> x * y", true,
     [](Graph &g, const Node &n, const std::vector<NodeId> &x) {
       return n.op == Op::Mul && isNeg(g, x[0]) && isNeg(g, x[1])
                  ? g.make(Op::Mul, {inner(g, x[0]), inner(g, x[1])})
                  : kNoNode;
     }},
    {"pow(x, 1) -> x", true,
     [](Graph &g, const Node &n, const std::vector<NodeId> &x) {
       return n.op == Op::Pow && isK(g, x[1], 1.0) && sameType(g, n, x[0]) ? x[0] : kNoNode;
     }},
    // (x*x is correctly rounded; LLVM makes the same rewrite of pow(x, 2.0) without
    // fast-math. Doing it here also simplifies the derivative: 2 * pow(x, 1) -> 2 * x.)
    {"pow(x, 2) -> x * x", true,
     [](Graph &g, const Node &n, const std::vector<NodeId> &x) {
       return n.op == Op::Pow && isK(g, x[1], 2.0) && sameType(g, n, x[0])
                  ? g.make(Op::Mul, {x[0], x[0]})
                  : kNoNode;
     }},
    {"where(c, x, x) -> x", true,
     [](Graph &g, const Node &n, const std::vector<NodeId> &x) {
       return n.op == Op::Where && x[1] == x[2] && sameType(g, n, x[1]) ? x[1] : kNoNode;
     }},
    {"x + 0 -> x (wrong for x = -0)", false,
     [](Graph &g, const Node &n, const std::vector<NodeId> &x) {
       if (n.op != Op::Add)
         return kNoNode;
       if (isK(g, x[1], 0.0) && sameType(g, n, x[0]))
         return x[0];
       return isK(g, x[0], 0.0) && sameType(g, n, x[1]) ? x[1] : kNoNode;
     }},
    {"x * 0 -> 0 (wrong for x = inf, NaN)", false,
     [](Graph &g, const Node &n, const std::vector<NodeId> &x) {
       return n.op == Op::Mul && (isK(g, x[0], 0.0) || isK(g, x[1], 0.0)) ? zeroLike(g, n) : kNoNode;
     }},
    {"x - x -> 0 (wrong for x = inf, NaN)", false,
     [](Graph &g, const Node &n, const std::vector<NodeId> &x) {
       return n.op == Op::Sub && x[0] == x[1] ? zeroLike(g, n) : kNoNode;
     }},
    {"x / x -> 1 (wrong for x = 0, inf, NaN)", false,
     [](Graph &g, const Node &n, const std::vector<NodeId> &x) {
       return n.op == Op::Div && x[0] == x[1] ? g.constant(1.0, n.type.shape, n.type.dtype) : kNoNode;
     }},
};

} // namespace

NodeId algebraicSimplifyRule(Graph &g, const Node &n, const std::vector<NodeId> &ops,
                             const OptOptions &opts) {
  for (const Pattern &p : kPatterns) {
    if (!p.exact && !opts.fastMath)
      continue;
    NodeId r = p.apply(g, n, ops);
    if (r != kNoNode)
      return r;
  }
  return kNoNode;
}

} // namespace gradc
