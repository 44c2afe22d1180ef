// SourceGraphNumbers.cpp: the numbers on a source picture's edges. Each edge's expression
// has a node in the inlined graph (Function::exprValues through the inliner's map); that graph
// is differentiated, and one interpreter run evaluates the values and adjoints drawn only.
#include "picture/SourceGraphBuilder.h"

#include "picture/SourceText.h"

#include "autodiff/ReverseMode.h"
#include "ir/Inline.h"

#include <algorithm>

namespace gradc::source_graph {

bool Builder::label(const PictureValues &values, EvalResult &failure, double gradientScale) {
  std::vector<NodeId> map;
  Function inlined = inlineCalls(program_, index_, &map);
  GradientGraph gg = differentiate(inlined);
  auto adjointOf = [&](NodeId v) {
    return static_cast<size_t>(v) < gg.adjoints.size() ? gg.adjoints[static_cast<size_t>(v)] : kNoNode;
  };
  // A value that depends on no differentiable parameter (a constant) has no gradient drawn;
  // one that does but does not reach the result has gradient 0.
  const Graph &g = *inlined.graph;
  std::vector<bool> active(g.size(), false);
  for (const ParamInfo &p : inlined.params)
    if (!p.isConst && p.node != kNoNode)
      active[static_cast<size_t>(p.node)] = true;
  for (size_t i = 0; i < g.size(); ++i)
    if (!opInfo(g.node(static_cast<NodeId>(i)).op).noGradient)
      for (NodeId o : g.node(static_cast<NodeId>(i)).operands)
        if (active[static_cast<size_t>(o)])
          active[i] = true;
  std::vector<NodeId> roots;
  std::unordered_map<NodeId, size_t> slot;
  auto root = [&](NodeId v) {
    if (v != kNoNode && slot.emplace(v, roots.size()).second)
      roots.push_back(v);
  };
  std::vector<std::pair<NodeId, bool>> carried(out_.edges.size(), {kNoNode, false}); // (node, differentiable)
  for (size_t k : edges_) {
    ExprId e = out_.edges[k].source;
    if (e < 0 || fromCaller(k))
      continue;
    NodeId v = kNoNode;
    bool differentiable = false;
    if (NodeId b = bodyNode(e); b != kNoNode && static_cast<size_t>(b) < map.size()) {
      v = map[static_cast<size_t>(b)];
    } else if (ast_[e].kind == ExprKind::Name && paramOf_.count(ast_[e].text)) {
      v = inlined.params[paramOf_.at(ast_[e].text)].node; // named, never read
    }
    if (v == kNoNode)
      continue;
    differentiable = isFloat(g.type(v).dtype) && active[static_cast<size_t>(v)];
    carried[k] = {v, differentiable};
    root(v);
    if (differentiable)
      root(adjointOf(v));
  }
  // An expanded call's arguments and its adjoint: what its inside is evaluated with.
  auto nodeOf = [&](ExprId e) {
    NodeId b = bodyNode(e);
    return b != kNoNode && static_cast<size_t>(b) < map.size() ? map[static_cast<size_t>(b)] : kNoNode;
  };
  for (const Child &c : children_) {
    for (ExprId a : c.args) {
      root(nodeOf(a));
      root(adjointOf(nodeOf(a)));
    }
    root(nodeOf(c.call));
    root(adjointOf(nodeOf(c.call)));
  }
  EvalResult r = evaluate(*inlined.graph, roots, values.params, values.dimValues);
  if (!r.ok()) {
    failure = r;
    return false;
  }
  auto scaled = [&](Tensor t) {
    for (double &x : t.data)
      x *= gradientScale;
    return t;
  };
  for (size_t k : edges_) {
    auto [v, differentiable] = carried[k];
    if (v == kNoNode)
      continue;
    PictureEdge &edge = out_.edges[k];
    edge.value = edgeValueText(r.outputs[slot.at(v)], options_.fullValues);
    if (differentiable) {
      NodeId a = adjointOf(v);
      edge.gradient = a != kNoNode ? edgeValueText(scaled(r.outputs[slot.at(a)]), options_.fullValues) : "0";
    }
  }
  for (size_t k : edges_)
    if (fromCaller(k)) {
      const auto &[value, gradient] = argText_[paramOf_.at(ast_[out_.edges[k].source].text)];
      out_.edges[k].value = value;
      out_.edges[k].gradient = gradient;
    }
  // Inside an expanded call: its body evaluated on the call's arguments, its gradients those
  // of the caller's result (d_out, or the scale of a scalar result, is the call's adjoint).
  for (Child &c : children_) {
    PictureValues inside;
    inside.dimValues = values.dimValues;
    bool complete = true;
    for (ExprId a : c.args) {
      NodeId v = nodeOf(a);
      complete = complete && v != kNoNode;
      if (v != kNoNode)
        inside.params.push_back(r.outputs[slot.at(v)]);
    }
    NodeId call = nodeOf(c.call), adjoint = adjointOf(call);
    if (!complete || call == kNoNode)
      continue; // dead code: drawn without numbers
    Tensor upstream = r.outputs[slot.at(call)];
    if (adjoint != kNoNode)
      upstream = scaled(r.outputs[slot.at(adjoint)]);
    else
      std::fill(upstream.data.begin(), upstream.data.end(), 0.0);
    double scale = 1;
    if (upstream.shape.empty())
      scale = upstream.data.empty() ? 0 : upstream.data[0];
    else
      inside.params.push_back(upstream);
    // The arguments' edges inside carry the caller's numbers: their whole gradients, with
    // what flows to the rest of the caller.
    c.child->argText_.clear();
    for (ExprId a : c.args) {
      NodeId v = nodeOf(a);
      bool d = isFloat(g.type(v).dtype) && active[static_cast<size_t>(v)];
      NodeId adj = d ? adjointOf(v) : kNoNode;
      std::string grad = !d ? "" : adj != kNoNode ? edgeValueText(scaled(r.outputs[slot.at(adj)]), options_.fullValues) : "0";
      c.child->argText_.push_back({edgeValueText(r.outputs[slot.at(v)], options_.fullValues), grad});
    }
    if (!c.child->label(inside, failure, scale))
      return false;
  }
  return true;
}

} // namespace gradc::source_graph
