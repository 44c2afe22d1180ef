// ForwardMode.cpp: tangents pushed from the parameters to the result, one JVP rule per op.
#include "autodiff/ForwardMode.h"

#include "ir/OpTable.h"

namespace gradc {

TangentGraph forwardDerivative(Function &fn) {
  Graph &g = *fn.graph;
  TangentGraph out;
  out.value = fn.result;
  const size_t n = static_cast<size_t>(fn.result) + 1;
  std::vector<NodeId> tangent(n, kNoNode);
  for (size_t i = 0; i < fn.params.size(); ++i) {
    const ParamInfo &p = fn.params[i];
    if (p.isConst) {
      out.seeds.push_back(kNoNode);
      continue;
    }
    NodeId seed = g.param(tangentParamIndex(fn, i), p.type);
    out.seeds.push_back(seed);
    if (p.node != kNoNode && static_cast<size_t>(p.node) < n)
      tangent[static_cast<size_t>(p.node)] = seed;
  }
  std::vector<NodeId> in;
  for (size_t i = 0; i < n; ++i) {
    const Node &node = g.node(static_cast<NodeId>(i));
    const OpInfo &info = opInfo(node.op);
    if (!info.jvp)
      continue; // parameters (seeded above), constants, masks
    in.clear();
    bool any = false;
    for (NodeId o : node.operands) {
      in.push_back(tangent[static_cast<size_t>(o)]);
      any = any || in.back() != kNoNode;
    }
    if (!any)
      continue;
    JvpContext ctx(g, static_cast<NodeId>(i), in);
    NodeId t = info.jvp(ctx);
    GRADC_ASSERT(t == kNoNode || g.type(t).shape == g.type(static_cast<NodeId>(i)).shape,
                 std::string("JVP of '") + info.name + "' gave a tangent of the wrong shape");
    tangent[i] = t;
  }
  out.tangent = tangent[n - 1];
  if (out.tangent == kNoNode)
    out.tangent = constantLike(g, 0.0, fn.result);
  return out;
}

} // namespace gradc
