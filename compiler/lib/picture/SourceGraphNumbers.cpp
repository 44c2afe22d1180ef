// SourceGraphNumbers.cpp: the numbers on a source picture's edges. Each edge's expression
// has a node in the inlined graph (Function::exprValues through the inliner's map); that graph
// is differentiated, and one interpreter run evaluates the values and adjoints drawn only.
#include "picture/SourceGraphBuilder.h"

#include "picture/SourceText.h"

#include "autodiff/ReverseMode.h"
#include "ir/Inline.h"

#include <algorithm>

namespace gradc::source_graph {

// The picture's function inlined and differentiated, and the values of the nodes it draws.
struct Numbers {
  std::vector<NodeId> map; // body node -> inlined node
  Function inlined;
  GradientGraph gg;
  // A value that depends on no differentiable parameter (a constant) has no gradient drawn;
  // one that does but does not reach the result has gradient 0.
  std::vector<bool> active;
  std::vector<NodeId> roots;
  std::unordered_map<NodeId, size_t> slot;
  EvalResult r;
  double gradientScale = 1;

  Numbers(const Program &program, size_t index, double scale)
      : inlined(inlineCalls(program, index, &map)), gg(differentiate(inlined)), gradientScale(scale) {
    const Graph &g = *inlined.graph;
    active.assign(g.size(), false);
    for (const ParamInfo &p : inlined.params)
      if (!p.isConst && p.node != kNoNode)
        active[static_cast<size_t>(p.node)] = true;
    for (size_t i = 0; i < g.size(); ++i)
      if (!opInfo(g.node(static_cast<NodeId>(i)).op).noGradient)
        for (NodeId o : g.node(static_cast<NodeId>(i)).operands)
          if (active[static_cast<size_t>(o)])
            active[i] = true;
  }
  NodeId adjointOf(NodeId v) const {
    return v != kNoNode && static_cast<size_t>(v) < gg.adjoints.size() ? gg.adjoints[static_cast<size_t>(v)] : kNoNode;
  }
  bool differentiable(NodeId v) const {
    return isFloat(inlined.graph->type(v).dtype) && active[static_cast<size_t>(v)];
  }
  void root(NodeId v) {
    if (v != kNoNode && slot.emplace(v, roots.size()).second)
      roots.push_back(v);
  }
  const Tensor &value(NodeId v) const { return r.outputs[slot.at(v)]; }
  // v's adjoint as drawn: scaled by the caller's gradient when inside an expanded call.
  Tensor gradient(NodeId adjoint) const {
    Tensor t = value(adjoint);
    for (double &x : t.data)
      x *= gradientScale;
    return t;
  }
};

NodeId Builder::inlinedNode(const Numbers &n, ExprId e) const {
  NodeId b = bodyNode(e);
  return b != kNoNode && static_cast<size_t>(b) < n.map.size() ? n.map[static_cast<size_t>(b)] : kNoNode;
}

bool Builder::label(const PictureValues &values, EvalResult &failure, double gradientScale) {
  Numbers n(program_, index_, gradientScale);
  std::vector<NodeId> carried(out_.edges.size(), kNoNode);
  for (size_t k : edges_) {
    ExprId e = out_.edges[k].source;
    if (e < 0 || fromCaller(k))
      continue;
    NodeId v = kNoNode;
    if (NodeId b = bodyNode(e); b != kNoNode && static_cast<size_t>(b) < n.map.size())
      v = n.map[static_cast<size_t>(b)];
    else if (ast_[e].kind == ExprKind::Name && paramOf_.count(ast_[e].text))
      v = n.inlined.params[paramOf_.at(ast_[e].text)].node; // named, never read
    if (v == kNoNode)
      continue;
    carried[k] = v;
    n.root(v);
    if (n.differentiable(v))
      n.root(n.adjointOf(v));
  }
  // An expanded call's arguments and its adjoint: what its inside is evaluated with.
  for (const Child &c : children_) {
    for (ExprId a : c.args) {
      n.root(inlinedNode(n, a));
      n.root(n.adjointOf(inlinedNode(n, a)));
    }
    n.root(inlinedNode(n, c.call));
    n.root(n.adjointOf(inlinedNode(n, c.call)));
  }
  n.r = evaluate(*n.inlined.graph, n.roots, values.params, values.dimValues);
  if (!n.r.ok()) {
    failure = n.r;
    return false;
  }
  for (size_t k : edges_) {
    NodeId v = carried[k];
    if (v == kNoNode)
      continue;
    PictureEdge &edge = out_.edges[k];
    edge.value = edgeValueText(n.value(v), options_.fullValues);
    if (n.differentiable(v)) {
      NodeId a = n.adjointOf(v);
      edge.gradient = a != kNoNode ? edgeValueText(n.gradient(a), options_.fullValues) : "0";
    }
  }
  for (size_t k : edges_)
    if (fromCaller(k)) {
      const auto &[value, gradient] = argText_[paramOf_.at(ast_[out_.edges[k].source].text)];
      out_.edges[k].value = value;
      out_.edges[k].gradient = gradient;
    }
  return labelChildren(n, values, failure);
}

// Inside an expanded call: its body evaluated on the call's arguments, its gradients those
// of the caller's result (d_out, or the scale of a scalar result, is the call's adjoint).
bool Builder::labelChildren(const Numbers &n, const PictureValues &values, EvalResult &failure) {
  for (Child &c : children_) {
    PictureValues inside;
    inside.dimValues = values.dimValues;
    bool complete = true;
    for (ExprId a : c.args) {
      NodeId v = inlinedNode(n, a);
      complete = complete && v != kNoNode;
      if (v != kNoNode)
        inside.params.push_back(n.value(v));
    }
    NodeId call = inlinedNode(n, c.call), adjoint = n.adjointOf(call);
    if (!complete || call == kNoNode)
      continue; // dead code: drawn without numbers
    Tensor upstream = n.value(call);
    if (adjoint != kNoNode)
      upstream = n.gradient(adjoint);
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
      NodeId v = inlinedNode(n, a);
      NodeId adj = n.differentiable(v) ? n.adjointOf(v) : kNoNode;
      std::string grad = !n.differentiable(v) ? ""
                         : adj != kNoNode     ? edgeValueText(n.gradient(adj), options_.fullValues)
                                              : "0";
      c.child->argText_.push_back({edgeValueText(n.value(v), options_.fullValues), grad});
    }
    if (!c.child->label(inside, failure, scale))
      return false;
  }
  return true;
}

} // namespace gradc::source_graph
