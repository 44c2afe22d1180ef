// ReverseMode.h: reverse-mode differentiation as a graph-to-graph pass.
#pragma once

#include "ir/Function.h"

#include <vector>

namespace gradc {

/// The value and gradient outputs of a function, all nodes of its graph.
struct GradientGraph {
  NodeId value = kNoNode;
  /// d(value)/d(param i) for each parameter (kNoNode for const parameters);
  /// for a non-scalar result, the vector-Jacobian product with `dOut`.
  std::vector<NodeId> grads;
  /// The upstream gradient input (a Param node numbered after the parameters), or
  /// kNoNode when the result is a scalar.
  NodeId dOut = kNoNode;
  size_t forwardNodes = 0; // nodes reachable from the value before differentiation
  size_t totalNodes = 0;   // nodes reachable from value and gradients after
  /// d(value)/d(node) for every node up to the value, by id (kNoNode where the value does
  /// not depend on it through a differentiable path): what `gradc graph` writes on each edge.
  std::vector<NodeId> adjoints;
};

/// Differentiates `fn` in place: its graph gains the adjoint nodes. The backward sweep
/// walks node ids downwards (a reverse topological order), gives each node's upstream
/// gradient to its op's VJP rule, and adds the contributions where a value fans out.
GradientGraph differentiate(Function &fn);

} // namespace gradc
