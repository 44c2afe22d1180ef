// Rewrite.h: the one mechanism every graph pass uses: copy the nodes the roots need
// into a fresh graph, in id order, letting a rule replace each node as it is copied.
#pragma once

#include "ir/Graph.h"

#include <functional>
#include <memory>
#include <vector>

namespace gradc {

struct RewriteResult {
  std::shared_ptr<Graph> graph;
  std::vector<NodeId> roots; // the old roots' nodes in the new graph (kNoNode stays)
};

/// Builds old node `n` in `g` from its already-copied operands `ops`; returns the new
/// node, or kNoNode to copy `n` unchanged.
using RewriteRule = std::function<NodeId(Graph &g, const Node &n, const std::vector<NodeId> &ops)>;

/// Copies what `roots` need (dead nodes are dropped, equal nodes merge by hash-consing).
RewriteResult rewriteGraph(const Graph &g, const std::vector<NodeId> &roots,
                           const RewriteRule &rule = nullptr);

/// Builds op(ops) with the attributes of `like` (its number, ints and type).
NodeId rebuildLike(Graph &g, const Node &like, std::vector<NodeId> ops);

} // namespace gradc
