// ReverseMode.cpp: backpropagation over the IR graph, one local VJP rule per op.
#include "autodiff/ReverseMode.h"

#include "ir/OpTable.h"

namespace gradc {

GradientGraph differentiate(Function &fn) {
  Graph &g = *fn.graph;
  GradientGraph out;
  out.value = fn.result;
  out.forwardNodes = reachableCount(g, {fn.result});
  const size_t n = static_cast<size_t>(fn.result) + 1;

  // Activity: a node needs a gradient when it depends on a differentiable parameter.
  std::vector<bool> active(n, false);
  for (const ParamInfo &p : fn.params)
    if (!p.isConst && p.node != kNoNode && static_cast<size_t>(p.node) < n)
      active[static_cast<size_t>(p.node)] = true;
  for (size_t i = 0; i < n; ++i) {
    const Node &node = g.node(static_cast<NodeId>(i));
    if (opInfo(node.op).noGradient)
      continue;
    for (NodeId o : node.operands)
      if (active[static_cast<size_t>(o)])
        active[i] = true;
  }

  // The seed: d(value)/d(value) = 1 for a scalar, the caller's d_out otherwise.
  std::vector<NodeId> adjoint(n, kNoNode);
  const Type resultType = g.type(fn.result);
  if (resultType.isScalar()) {
    adjoint[n - 1] = constantLike(g, 1.0, fn.result);
  } else {
    out.dOut = g.param(static_cast<int64_t>(fn.params.size()), resultType);
    adjoint[n - 1] = out.dOut;
  }

  // The backward sweep. A node's adjoint is complete when the sweep reaches it,
  // because every user of a node has a larger id.
  std::vector<NodeId> contrib;
  for (size_t i = n; i-- > 0;) {
    NodeId grad = adjoint[i];
    if (grad == kNoNode || !active[i])
      continue;
    const OpInfo &info = opInfo(g.node(static_cast<NodeId>(i)).op);
    if (!info.vjp)
      continue; // a parameter: its adjoint is final
    size_t arity = g.node(static_cast<NodeId>(i)).operands.size();
    contrib.assign(arity, kNoNode);
    VjpContext ctx(g, static_cast<NodeId>(i), grad, active, contrib);
    size_t made = g.size();
    info.vjp(ctx);
    for (size_t k = 0; k < arity; ++k) {
      NodeId operand = g.node(static_cast<NodeId>(i)).operands[k];
      size_t o = static_cast<size_t>(operand);
      if (contrib[k] == kNoNode || !active[o])
        continue;
      GRADC_ASSERT(g.type(contrib[k]).shape == g.type(operand).shape,
                   std::string("VJP of '") + info.name + "' gave a gradient of the wrong shape");
      // Gradients add where a value fans out.
      adjoint[o] = adjoint[o] == kNoNode ? contrib[k] : g.make(Op::Add, {adjoint[o], contrib[k]});
    }
    // The backward nodes of a gate come from its place in the source (errors, pictures).
    for (size_t m = made; m < g.size(); ++m)
      if (!g.loc(static_cast<NodeId>(m)).valid())
        g.setLoc(static_cast<NodeId>(m), g.loc(static_cast<NodeId>(i)));
  }

  for (const ParamInfo &p : fn.params) {
    if (p.isConst) {
      out.grads.push_back(kNoNode);
      continue;
    }
    bool reached = p.node != kNoNode && static_cast<size_t>(p.node) < n;
    NodeId grad = reached ? adjoint[static_cast<size_t>(p.node)] : kNoNode;
    // A parameter the value does not depend on has a zero gradient of its shape.
    out.grads.push_back(grad != kNoNode ? grad : g.constant(0.0, p.type.shape, p.type.dtype));
  }
  std::vector<NodeId> roots = out.grads;
  roots.push_back(out.value);
  out.totalNodes = reachableCount(g, roots);
  out.adjoints = std::move(adjoint);
  return out;
}

} // namespace gradc
