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
  };
  // Every rewrite copies only what the roots need: dead code elimination is part of each
  // pass, and the first pass's "before" count is the graph the roots reach.
  RewriteResult cur;
  const Graph *in = &g;
  const std::vector<NodeId> *inRoots = &roots;
  size_t size = reachableCount(g, roots);
  for (int round = 0; round < 4; ++round) {
    size_t start = size;
    for (const Pass &p : passes) {
      RewriteResult next = rewriteGraph(*in, *inRoots, p.rule);
      size_t after = reachableCount(*next.graph, next.roots);
      if (stats)
        stats->push_back({p.name, size, after});
      cur = std::move(next);
      in = cur.graph.get();
      inRoots = &cur.roots;
      size = after;
    }
    if (size >= start)
      break;
  }
  return cur;
}

} // namespace gradc
