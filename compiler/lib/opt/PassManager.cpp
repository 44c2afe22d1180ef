// PassManager.cpp: fold, simplify, CSE and DCE, repeated while the graph shrinks.
#include "opt/Passes.h"

#include "autodiff/ReverseMode.h"

namespace gradc {

RewriteResult optimizeGraph(const Graph &g, const std::vector<NodeId> &roots,
                            const OptOptions &opts, std::vector<PassStat> *stats) {
  struct Pass {
    const char *name;
    RewriteRule rule;
  };
  const Pass passes[] = {
      {"constant-fold", constantFoldRule},
      {"simplify", [&](Graph &ng, const Node &n, const std::vector<NodeId> &ops) {
         return algebraicSimplifyRule(ng, n, ops, opts);
       }},
      {"cse", commonSubexprRule},
      // Every rewrite copies only what the roots need, so DCE is the copy with no rule.
      {"dce", nullptr},
  };
  RewriteResult cur = rewriteGraph(g, roots);
  size_t size = reachableCount(*cur.graph, cur.roots);
  if (stats)
    stats->push_back({"dce", reachableCount(g, roots), size});
  for (int round = 0; round < 4; ++round) {
    size_t start = size;
    for (const Pass &p : passes) {
      RewriteResult next = rewriteGraph(*cur.graph, cur.roots, p.rule);
      size_t after = reachableCount(*next.graph, next.roots);
      if (stats)
        stats->push_back({p.name, size, after});
      cur = std::move(next);
      size = after;
    }
    if (size >= start)
      break;
  }
  return cur;
}

} // namespace gradc
