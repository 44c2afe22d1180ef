// CommonSubexpr.cpp: hash-consing already merges equal nodes; this pass also merges nodes
// equal up to the order of a commutative op's operands (a*b and b*a), which IEEE
// arithmetic allows for add, mul, ==, != (not max/min: they differ on signed zeros).
#include "opt/Passes.h"

#include <utility>

namespace gradc {

static bool commutative(Op op) {
  return op == Op::Add || op == Op::Mul || op == Op::Eq || op == Op::Ne;
}

// Only a node whose swapped twin exists: when no twin does, putting every commutative node's
// operands in order merges nothing (a merge higher up needs one further down), and the pass
// would copy the whole graph for nothing.
bool commonSubexprMatches(const Graph &g, const Node &n) {
  if (!commutative(n.op) || n.operands[0] <= n.operands[1])
    return false;
  Node twin = n;
  std::swap(twin.operands[0], twin.operands[1]);
  return g.find(twin) != kNoNode;
}

NodeId commonSubexprRule(Graph &g, const Node &n, const std::vector<NodeId> &ops) {
  if (!commutative(n.op) || ops[0] <= ops[1])
    return kNoNode;
  return rebuildLike(g, n, {ops[1], ops[0]});
}

} // namespace gradc
