// LlvmGradCheck.h: `gradc emit --check` for object files: f_gradcheck in LLVM IR, the same
// computation CGradCheck.cpp prints as C.
#pragma once

#include "backend/Abi.h"

#include <map>

namespace llvm {
class Module;
}

namespace gradc {

/// Adds abi.gradcheck and its workspace-size function to `m`, which already holds the
/// functions of `abi`.
void emitGradCheck(llvm::Module &m, const Function &fn, const AbiSet &abi,
                   const std::map<int32_t, int64_t> &boundDims);

} // namespace gradc
