// Interpreter.h: the reference evaluator of IR graphs, in double precision. It is the
// oracle every compiled backend is tested against, and `gradc run --engine=interp`.
#pragma once

#include "ir/Graph.h"
#include "ir/OpTable.h"

#include <string>
#include <vector>

namespace gradc {

struct EvalResult {
  std::vector<Tensor> outputs; // one per requested root (empty tensors for kNoNode)
  std::string error;           // a run-time error, such as an index out of range
  SourceLoc errorLoc;
  bool ok() const { return error.empty(); }
};

/// Evaluates `roots` of `g`. `params[i]` binds the Param node numbered i; `dimValues`
/// binds each dim (indexed like the graph's DimTable). Only nodes the roots need are
/// computed, each once, in id order.
EvalResult evaluate(const Graph &g, const std::vector<NodeId> &roots,
                    const std::vector<Tensor> &params, const std::vector<int64_t> &dimValues);

} // namespace gradc
