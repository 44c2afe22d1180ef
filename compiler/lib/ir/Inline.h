// Inline.h: a function's calls of user functions replaced by the callees' bodies.
#pragma once

#include "ir/Function.h"

namespace gradc {

/// Program::bodies[index] with every Op::Call replaced by its callee's body on the call's
/// arguments, in a new graph: nodes keep their source locations, and a callee called again
/// on the same arguments is inlined once (hash-consing makes them equal). The walk is
/// iterative and visits each (callee, arguments) pair once, so its cost is the size of the
/// result, whatever the depth of the call chain.
Function inlineCalls(const Program &program, size_t index);

/// Whether `fn`'s graph has calls left (then it must go through inlineCalls first).
bool hasCalls(const Function &fn);

} // namespace gradc
