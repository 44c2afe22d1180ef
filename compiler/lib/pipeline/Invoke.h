// Invoke.h: calling a compiled function with interpreter tensors: the bridge that lets
// `gradc run --engine=jit` and the tests treat both engines alike.
#pragma once

#include "interp/Interpreter.h"
#include "pipeline/Compile.h"

namespace gradc {

/// Checks every index and slice the compiled roots read against `dimValues`, and every
/// label of a `pick` (from `params`; skipped when it is empty): what the compiled code
/// checks on entry, so the caller can report the failing one by its location.
bool checkIndexBounds(const Graph &g, const std::vector<NodeId> &roots,
                      const std::vector<int64_t> &dimValues, std::string &error, SourceLoc &loc,
                      const std::vector<Tensor> &params = {});

/// Calls f_grad: outputs[0] is the value, then one gradient per parameter (an empty
/// tensor for const ones). `params` binds the parameters, then d_out for a non-scalar
/// result. `valueOnly` calls f instead (outputs then hold just the value).
EvalResult invokeCompiled(const CompiledFunction &cf, const Function &fn,
                          const std::vector<Tensor> &params, const std::vector<int64_t> &dimValues,
                          bool valueOnly = false);

} // namespace gradc
