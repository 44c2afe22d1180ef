// PassManager.cpp: fold, simplify, CSE and DCE, repeated while the graph shrinks.
#include "opt/Passes.h"

#include <functional>

namespace gradc {

namespace {

// `shared`: g's owner, returned as the result when nothing changes and nothing is dead.
RewriteResult optimize(const Graph &g, const std::shared_ptr<Graph> *shared,
                       const std::vector<NodeId> &roots, const OptOptions &opts,
                       std::vector<PassStat> *stats) {
  struct Pass {
    const char *name;
    RewriteRule rule;
    std::function<bool(const Graph &, const Node &)> matches;
  };
  const Pass passes[] = {
      {"constant-fold", constantFoldRule, constantFoldMatches},
      {"simplify",
       [&](Graph &ng, const Node &n, const std::vector<NodeId> &ops) {
         return algebraicSimplifyRule(ng, n, ops, opts);
       },
       [&](const Graph &og, const Node &n) { return algebraicSimplifyMatches(og, n, opts); }},
      {"cse", commonSubexprRule, commonSubexprMatches},
  };
  // Whether a pass would rewrite any node the roots reach (a read-only scan).
  auto wouldChange = [](const Pass &p, const Graph &graph, const std::vector<NodeId> &rs) {
    std::vector<bool> live(graph.size(), false);
    for (NodeId r : rs)
      if (r != kNoNode)
        live[static_cast<size_t>(r)] = true;
    for (size_t i = graph.size(); i-- > 0;) {
      if (!live[i])
        continue;
      const Node &n = graph.node(static_cast<NodeId>(i));
      if (p.matches(graph, n))
        return true;
      for (NodeId o : n.operands)
        live[static_cast<size_t>(o)] = true;
    }
    return false;
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
      if (!wouldChange(p, *in, *inRoots)) {
        if (stats)
          stats->push_back({p.name, size, size});
        continue;
      }
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
  if (!cur.graph && shared && size == g.size())
    return {*shared, roots};
  // Nothing changed, or the last pass left nodes its rules replaced: a copy drops what the
  // roots do not need (and numbers the rest densely, as --dump=opt shows them).
  if (!cur.graph)
    return rewriteGraph(g, roots);
  if (size < cur.graph->size())
    return rewriteGraph(*cur.graph, cur.roots);
  return cur;
}

} // namespace

RewriteResult optimizeGraph(const Graph &g, const std::vector<NodeId> &roots,
                            const OptOptions &opts, std::vector<PassStat> *stats) {
  return optimize(g, nullptr, roots, opts, stats);
}

RewriteResult optimizeGraph(const std::shared_ptr<Graph> &g, const std::vector<NodeId> &roots,
                            const OptOptions &opts, std::vector<PassStat> *stats) {
  return optimize(*g, &g, roots, opts, stats);
}

} // namespace gradc
