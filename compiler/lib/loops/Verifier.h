// Verifier.h: the rules of the loop IR that its factories cannot check one node at a time:
// scopes of loop variables and locals, holes only in accumulations, returns of the function's
// type. A violation is a bug in the lowering (an internal error).
#pragma once

#include "loops/LoopIR.h"

#include <string>

namespace gradc::loops {

/// Empty when `f` follows the rules; otherwise the first violation.
std::string verify(const Func &f);
/// Every function of `m`; calls of the module's functions must match their signatures.
std::string verify(const Module &m);

} // namespace gradc::loops
