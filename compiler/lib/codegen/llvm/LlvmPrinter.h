// LlvmPrinter.h: loop IR -> LLVM IR. A printer: every decision about the code was made when
// the loop IR was built; this file says how each node is spelled in LLVM.
#pragma once

#include "loops/LoopIR.h"

namespace llvm {
class Module;
}

namespace gradc {

/// Defines the functions and string tables of `m` in `out` (and declares what they call).
/// The module is not verified here: the caller verifies the whole module once.
void printLlvm(const loops::Module &m, llvm::Module &out);

} // namespace gradc
