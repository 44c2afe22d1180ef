// CPrinter.h: IR graph -> self-contained C99 (`gradc emit --c`). The same schedule and op
// table as the LLVM lowering, printed as loops over row-major buffers; the C follows the
// ABI of DESIGN.md exactly, allocates nothing and has no mutable global state.
#pragma once

#include "backend/Lowering.h"

#include <set>
#include <string>

namespace gradc {

/// Appends the C definitions of f, f_grad and f_workspace_size for `in` to `out`.
/// Returns the ABI they implement (the header's prototypes come from it). Adds to `kernels`
/// the dtypes whose matrix kernel (CMatMulKernel.h) the code calls: the caller prints them
/// first.
AbiSet printCFunctions(const LoweringInput &in, const std::string &prefix, std::string &out,
                       std::set<DType> &kernels);

} // namespace gradc
