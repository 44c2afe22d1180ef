// Passes.h: the graph optimizations run on the combined forward+backward graph.
// Each pass is a rewrite rule in its own file; the pass manager runs them to a fixed point.
#pragma once

#include "opt/Rewrite.h"

#include <string>
#include <vector>

namespace gradc {

struct OptOptions {
  /// Also rewrites that are exact only up to the sign of zero or NaN (x + 0 -> x,
  /// x * 0 -> 0, x - x -> 0, x / x -> 1): `--fast-math`.
  bool fastMath = false;
};

/// Node counts around one pass run (`--stats`).
struct PassStat {
  std::string pass;
  size_t before = 0, after = 0;
};

// One rule per pass. Each returns the replacement of `n` built from `ops`, or kNoNode.
NodeId constantFoldRule(Graph &g, const Node &n, const std::vector<NodeId> &ops);
NodeId algebraicSimplifyRule(Graph &g, const Node &n, const std::vector<NodeId> &ops,
                             const OptOptions &opts);
NodeId commonSubexprRule(Graph &g, const Node &n, const std::vector<NodeId> &ops);
// Whether the rule would rewrite node n of g (read-only), so a pass that would change
// nothing is skipped without copying the graph.
bool constantFoldMatches(const Graph &g, const Node &n);
bool algebraicSimplifyMatches(const Graph &g, const Node &n, const OptOptions &opts);
bool commonSubexprMatches(const Graph &g, const Node &n);

/// Runs constant folding, algebraic simplification, CSE and DCE until the graph stops
/// shrinking. `stats` (if given) receives one entry per pass run. The result is a new graph
/// of the nodes the roots need.
RewriteResult optimizeGraph(const Graph &g, const std::vector<NodeId> &roots,
                            const OptOptions &opts, std::vector<PassStat> *stats = nullptr);
/// The same, except that when no pass changes anything and every node of `g` is needed,
/// the result is `g` itself rather than a copy (a million-node graph takes seconds to copy).
RewriteResult optimizeGraph(const std::shared_ptr<Graph> &g, const std::vector<NodeId> &roots,
                            const OptOptions &opts, std::vector<PassStat> *stats = nullptr);

} // namespace gradc
