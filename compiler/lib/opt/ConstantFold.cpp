// ConstantFold.cpp: structural ops on constants. (Elementwise ops on constants are folded
// by Graph::make as they are built; this pass folds what that cannot see.)
#include "opt/Passes.h"

namespace gradc {

NodeId constantFoldRule(Graph &g, const Node &n, const std::vector<NodeId> &ops) {
  auto isConst = [&](NodeId id) { return g.node(id).op == Op::Const; };
  switch (n.op) {
  case Op::Transpose: // transpose(c) -> c: a splat has the same value everywhere
  case Op::Index:     // c[spec] -> c
    if (isConst(ops[0]))
      return g.constant(g.node(ops[0]).num, n.type.shape, n.type.dtype);
    break;
  case Op::IndexGrad: // index_grad(0) -> 0
  case Op::Sum:       // sum(0) -> 0
    if (isConst(ops[0]) && g.node(ops[0]).num == 0.0)
      return g.constant(0.0, n.type.shape, n.type.dtype);
    break;
  default:
    break;
  }
  return kNoNode;
}

bool constantFoldMatches(const Graph &g, const Node &n) {
  if (n.operands.empty() || g.node(n.operands[0]).op != Op::Const)
    return false;
  if (n.op == Op::Transpose || n.op == Op::Index)
    return true;
  return (n.op == Op::IndexGrad || n.op == Op::Sum) && g.node(n.operands[0]).num == 0.0;
}

} // namespace gradc
