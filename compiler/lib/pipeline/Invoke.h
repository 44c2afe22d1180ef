// Invoke.h: calling a compiled function with interpreter tensors: the bridge that lets
// `gradc run --engine=jit` and the tests treat both engines alike.
#pragma once

#include "interp/Interpreter.h"
#include "pipeline/Compile.h"

namespace gradc {

/// Checks that every value the compiled roots need has a valid size for `dimValues`
/// (ir/Type.h, checkedElementCount), every index and slice they read, and every
/// label of a `pick` (from `params`; skipped when it is empty): what the compiled code
/// checks on entry, so the caller can report the failing one by its location. A label
/// parameter is named from `paramNames` ("label y[3] = 7 is out of range for 5 classes").
bool checkIndexBounds(const Graph &g, const std::vector<NodeId> &roots,
                      const std::vector<int64_t> &dimValues, std::string &error, SourceLoc &loc,
                      const std::vector<Tensor> &params = {},
                      const std::vector<std::string> &paramNames = {});

/// `count` elements of `dtype` at `data` (a caller's array) as an interpreter tensor.
Tensor tensorFromMemory(const void *data, DType dtype, std::vector<int64_t> shape);

/// Calls f_grad: outputs[0] is the value, then one gradient per parameter (an empty
/// tensor for const ones). `params` binds the parameters, then d_out for a non-scalar
/// result. `valueOnly` calls f instead (outputs then hold just the value).
EvalResult invokeCompiled(const CompiledFunction &cf, const Function &fn,
                          const std::vector<Tensor> &params, const std::vector<int64_t> &dimValues,
                          bool valueOnly = false);

} // namespace gradc
