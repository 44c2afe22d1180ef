// Interpreter.cpp: evaluates the needed nodes in id order through the op table's evaluators.
#include "interp/Interpreter.h"

#include "ir/DimArith.h"
#include "ir/Function.h"

namespace gradc {

EvalResult evaluate(const Graph &g, const std::vector<NodeId> &roots,
                    const std::vector<Tensor> &params, const std::vector<int64_t> &givenDims) {
  EvalResult result;
  std::vector<int64_t> dimValues = givenDims; // with the derived dims (`K*D`) computed
  if (result.error = completeDimValues(g.dims(), dimValues, mentionedDims(g, roots)); !result.error.empty())
    return result;
  size_t n = g.size();
  std::vector<bool> needed(n, false);
  for (NodeId r : roots)
    if (r != kNoNode)
      needed[static_cast<size_t>(r)] = true;
  // Values are freed after their last use, so memory follows the live set.
  std::vector<size_t> lastUse(n, 0);
  for (size_t i = n; i-- > 0;) {
    if (!needed[i])
      continue;
    for (NodeId o : g.node(static_cast<NodeId>(i)).operands) {
      needed[static_cast<size_t>(o)] = true;
      lastUse[static_cast<size_t>(o)] = std::max(lastUse[static_cast<size_t>(o)], i);
    }
  }
  NodeId tooLarge = kNoNode;
  result.error = checkTensorSizes(g, needed, dimValues, tooLarge);
  if (!result.ok()) {
    result.errorLoc = g.loc(tooLarge);
    return result;
  }
  std::vector<bool> isRoot(n, false);
  for (NodeId r : roots)
    if (r != kNoNode)
      isRoot[static_cast<size_t>(r)] = true;

  std::vector<Tensor> values(n);
  std::vector<const Tensor *> in;
  for (size_t i = 0; i < n; ++i) {
    if (!needed[i])
      continue;
    const Node &node = g.node(static_cast<NodeId>(i));
    if (node.op == Op::Param) {
      size_t p = static_cast<size_t>(node.ints[0]);
      GRADC_ASSERT(p < params.size(), "parameter " + std::to_string(p) + " is not bound");
      values[i] = params[p];
    } else {
      in.clear();
      for (NodeId o : node.operands)
        in.push_back(&values[static_cast<size_t>(o)]);
      EvalContext ctx{node, in, dimValues, values[i], {}};
      const OpInfo &info = opInfo(node.op);
      GRADC_ASSERT(info.eval, std::string("no evaluator for '") + info.name + "'");
      info.eval(ctx);
      if (!ctx.error.empty() && result.error.empty()) {
        result.error = ctx.error;
        result.errorLoc = g.loc(static_cast<NodeId>(i));
      }
    }
    for (NodeId o : node.operands) {
      size_t k = static_cast<size_t>(o);
      if (lastUse[k] == i && !isRoot[k])
        values[k] = Tensor{};
    }
  }
  for (NodeId r : roots)
    result.outputs.push_back(r == kNoNode ? Tensor{} : values[static_cast<size_t>(r)]);
  return result;
}

} // namespace gradc
