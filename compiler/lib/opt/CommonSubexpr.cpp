// CommonSubexpr.cpp: hash-consing already merges equal nodes; this pass also merges nodes
// equal up to the order of a commutative op's operands (a*b and b*a), which IEEE
// arithmetic allows for add, mul, ==, != (not max/min: they differ on signed zeros).
#include "opt/Passes.h"

namespace gradc {

NodeId commonSubexprRule(Graph &g, const Node &n, const std::vector<NodeId> &ops) {
  bool commutative = n.op == Op::Add || n.op == Op::Mul || n.op == Op::Eq || n.op == Op::Ne;
  if (!commutative || ops[0] <= ops[1])
    return kNoNode;
  return rebuildLike(g, n, {ops[1], ops[0]});
}

} // namespace gradc
