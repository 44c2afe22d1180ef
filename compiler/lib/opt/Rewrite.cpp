// Rewrite.cpp: copying a graph through a rule, iteratively in id order.
#include "opt/Rewrite.h"

#include <algorithm>

namespace gradc {

NodeId rebuildLike(Graph &g, const Node &like, std::vector<NodeId> ops) {
  if (like.op == Op::Param)
    return g.param(like.ints[0], like.type);
  if (like.op == Op::Const)
    return g.constant(like.num, like.type.shape, like.type.dtype);
  Attrs a;
  a.num = like.num;
  a.ints = like.ints;
  a.type = like.type;
  return g.make(like.op, std::move(ops), std::move(a));
}

RewriteResult rewriteGraph(const Graph &g, const std::vector<NodeId> &roots,
                           const RewriteRule &rule) {
  size_t n = g.size();
  std::vector<bool> needed = reachableFrom(g, roots);

  RewriteResult out;
  out.graph = std::make_unique<Graph>(g.dimTable());
  out.graph->reserve(static_cast<size_t>(std::count(needed.begin(), needed.end(), true)) + 16);
  std::vector<NodeId> map(n, kNoNode);
  std::vector<NodeId> ops;
  for (size_t i = 0; i < n; ++i) {
    if (!needed[i])
      continue;
    const Node &node = g.node(static_cast<NodeId>(i));
    ops.clear();
    for (NodeId o : node.operands)
      ops.push_back(map[static_cast<size_t>(o)]);
    NodeId id = rule ? rule(*out.graph, node, ops) : kNoNode;
    if (id == kNoNode)
      id = rebuildLike(*out.graph, node, ops);
    map[i] = id;
    if (g.loc(static_cast<NodeId>(i)).valid())
      out.graph->setLoc(id, g.loc(static_cast<NodeId>(i)));
  }
  for (NodeId r : roots)
    out.roots.push_back(r == kNoNode ? kNoNode : map[static_cast<size_t>(r)]);
  return out;
}

} // namespace gradc
