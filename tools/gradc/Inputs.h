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
};

struct BoundInputs {
  std::vector<Tensor> params; // one per parameter, then d_out when the result is not scalar
  std::vector<int64_t> dimValues;
};

/// Parses `--dim N=K` entries; unknown dims and bad values are errors.
bool parseDims(const std::vector<std::string> &specs, const DimTable &dims,
               std::map<int32_t, int64_t> &out, std::string &error);

/// Binds every parameter of `fn` (and d_out, all ones by default, for a non-scalar
/// result). Unbound dims are taken from the shapes of the values given.
std::optional<BoundInputs> bindInputs(const Function &fn, const DimTable &dims,
                                      const InputSpec &spec, std::string &error);

/// The concrete shape of `shape` under `dimValues`.
std::vector<int64_t> concreteShape(const Shape &shape, const std::vector<int64_t> &dimValues);

} // namespace gradc::cli
