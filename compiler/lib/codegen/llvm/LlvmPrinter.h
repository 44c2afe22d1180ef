// LlvmPrinter.h: loop IR -> LLVM IR. A printer: every decision about the code was made when
// the loop IR was built; this file says how each node is spelled in LLVM.
#pragma once

#include "loops/LoopIR.h"

namespace llvm {
class Module;
}

namespace gradc {

/// Defines a function in `out` (declaring what it calls, defined or not yet). Functions may
/// come in any order, one at a time: a long program is printed as it is lowered.
void printLlvm(const loops::Func &f, llvm::Module &out);
/// Defines the functions and string tables of `m` in `out` (and declares what they call).
/// The module is not verified here: the caller verifies the whole module once.
void printLlvm(const loops::Module &m, llvm::Module &out);

} // namespace gradc
