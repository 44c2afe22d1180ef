// LowerGradCheck.h: `gradc emit --check`. f_gradcheck compares f_grad with central
// differences of f at the caller's inputs and returns the worst error; built once as loop IR,
// so that the object file and the C source print the same computation.
#pragma once

#include "abi/Abi.h"
#include "loops/LoopIR.h"

#include <map>
#include <memory>
#include <vector>

namespace gradc::loops {

/// abi.gradcheck, then its workspace-size function (abi.gradcheckWorkspaceSizeSymbol), as
/// loop IR. They call abi.value, abi.grad and abi.workspaceSizeSymbol, which the same object
/// or C file defines (loops::SourceLowering), typed as that lowering types them.
std::vector<std::unique_ptr<Func>> lowerGradCheck(const Function &fn, const AbiSet &abi,
                                                  const std::map<int32_t, int64_t> &boundDims);

} // namespace gradc::loops
