// ForwardMode.h: forward-mode differentiation (Jacobian-vector products) as a graph pass.
#pragma once

#include "ir/Function.h"

#include <vector>

namespace gradc {

/// The value and its directional derivative, nodes of the function's graph.
struct TangentGraph {
  NodeId value = kNoNode;
  /// J v: the derivative of the value along the directions given by `seeds`.
  NodeId tangent = kNoNode;
  /// One direction input per parameter (kNoNode for const parameters): Param nodes
  /// numbered tangentParamIndex(fn, i), after reverse mode's d_out slot.
  std::vector<NodeId> seeds;
};

/// The Param index of parameter i's direction in the forward-mode graph.
inline int64_t tangentParamIndex(const Function &fn, size_t i) {
  return static_cast<int64_t>(fn.params.size() + 1 + i);
}

/// Differentiates `fn` in place in forward mode: its graph gains the tangent nodes.
/// The sweep walks node ids upwards and gives each op's JVP rule its operands' tangents.
TangentGraph forwardDerivative(Function &fn);

} // namespace gradc
