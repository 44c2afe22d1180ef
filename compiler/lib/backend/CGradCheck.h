// CGradCheck.h: `gradc emit --check` for emitted C: f_gradcheck compares f_grad with
// central differences of f at the caller's inputs and returns the worst error.
#pragma once

#include "backend/Abi.h"

#include <map>
#include <string>

namespace gradc {

/// The C definitions of abi.gradcheck and its workspace-size function, calling the
/// functions of `abi` (printed by printCFunctions or compiled into the same object).
std::string printCGradCheck(const Function &fn, const AbiSet &abi, const std::map<int32_t, int64_t> &boundDims);

} // namespace gradc
