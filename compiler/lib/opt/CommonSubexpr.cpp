// CommonSubexpr.cpp: hash-consing already merges equal nodes; this pass also merges nodes
// equal up to the order of a commutative op's operands (a*b and b*a), which IEEE
// arithmetic allows for add, mul, ==, != (not max/min: they differ on signed zeros).
#include "opt/Passes.h"

namespace gradc {

static bool commutative(Op op) {
  return op == Op::Add || op == Op::Mul || op == Op::Eq || op == Op::Ne;
}

bool commonSubexprMatches(const Graph &, const Node &n) {
  return commutative(n.op) && n.operands[0] > n.operands[1];
}

NodeId commonSubexprRule(Graph &g, const Node &n, const std::vector<NodeId> &ops) {
  if (!commutative(n.op) || ops[0] <= ops[1])
    return kNoNode;
  return rebuildLike(g, n, {ops[1], ops[0]});
}

} // namespace gradc
