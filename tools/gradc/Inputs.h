// Inputs.h: binding --at, --at-file, --dim and --d-out to parameter tensors and dim values.
#pragma once

#include "ir/Function.h"
#include "ir/OpTable.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gradc::cli {

struct InputSpec {
  std::vector<std::string> at;     // NAME=v,v,...
  std::string atFile;              // JSON object
  std::vector<std::string> dims;   // N=K
  std::string dOut;                // v,v,...
  bool ignoreUnknown = false;      // values of names the function does not take are skipped
  /// When set, a d_out not given is N(0, 1) from this seed instead of ones (gradc check).
  std::optional<uint64_t> randomDOutSeed;
};

struct BoundInputs {
  std::vector<Tensor> params; // one per parameter, then d_out when the result is not scalar
  std::vector<int64_t> dimValues;
};

/// Parses `--dim N=K` entries; unknown dims, repeated dims and sizes outside 1..2^40 are
/// errors.
bool parseDims(const std::vector<std::string> &specs, const DimTable &dims,
               std::map<int32_t, int64_t> &out, std::string &error);

/// Binds every parameter of `fn` (and d_out, all ones by default, for a non-scalar
/// result). Unbound dims are taken from the shapes of the values given. On failure returns
/// nullopt with `error` as the complete message to print: "FILE: error: ...", or a JSON
/// error located in the --at-file (`program` is the .expr file named in other errors).
std::optional<BoundInputs> bindInputs(const Function &fn, const DimTable &dims, const InputSpec &spec,
                                      const std::string &program, std::string &error);

/// Empty when the values of `fn` for `dimValues` (its parameters, their gradients, d_out and
/// the result) have valid sizes and fit in the memory available; otherwise why not, with the
/// memory they would need. Checked before any value is made.
std::string checkValueMemory(const Function &fn, const DimTable &dims, const std::vector<int64_t> &dimValues);

/// Whether the integral `v` fits in `dtype` (i32, i64); `why` says otherwise.
bool integerInRange(double v, DType dtype, std::string &why);

} // namespace gradc::cli
