// Inline.h: a function's calls of user functions replaced by the callees' bodies.
#pragma once

#include "ir/Function.h"

namespace gradc {

/// Program::bodies[index] with every Op::Call replaced by its callee's body on the call's
/// arguments, in a new graph: nodes keep their source locations, and a callee called again
/// on the same arguments is inlined once (hash-consing makes them equal). The walk is
/// iterative and visits each (callee, arguments) pair once, so its cost is the size of the
/// result, whatever the depth of the call chain.
/// With `bodyMap`, also which node of the new graph each node of the body became (kNoNode for
/// nodes the result does not need).
Function inlineCalls(const Program &program, size_t index, std::vector<NodeId> *bodyMap = nullptr);

/// Whether `fn`'s graph has calls left (then it must go through inlineCalls first).
bool hasCalls(const Function &fn);

/// Whether a call of bodies[callee] on `args` can stay one Op::Call node: its arguments
/// have the callee's parameter dtypes, so the node's type (the callee's result type) is the
/// type its body will have when inlined.
bool callKeepsItsType(const std::vector<Function> &bodies, size_t callee, const Graph &g,
                      const std::vector<NodeId> &args);

/// bodies[callee] applied to `args` (nodes of `g`), copied into `g`: its result node. A call
/// inside it stays a Call node when `keepCalls` and callKeepsItsType allow, and is inlined
/// otherwise (so, with keepCalls false, the result has no calls). Iterative, each (callee,
/// arguments) pair copied once.
NodeId inlineBody(const std::vector<Function> &bodies, size_t callee, const std::vector<NodeId> &args, Graph &g,
                  bool keepCalls, std::vector<NodeId> *calleeMap = nullptr);

} // namespace gradc
