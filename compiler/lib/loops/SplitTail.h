// SplitTail.h: a function of many loops cut in two, so that two threads compile the halves at
// the same time. LLVM's time grows with the loops it vectorizes one by one (ODE's gradient:
// 89 loops, 0.4 s from loop IR to machine code); on two cores, a cut near the middle nearly
// halves the wait. The cut is between two top-level statements: the first part ends by
// calling the second and returning what it returns.
#pragma once

#include "loops/LoopIR.h"

#include <memory>
#include <string>

namespace gradc::loops {

/// A function of fewer loops is not cut: a second module's fixed costs (pass setup, an
/// object to link) would eat the gain.
constexpr size_t kSplitLoops = 24;

/// Cuts f's top-level statements where about half of its loops are on each side. f keeps the
/// first part and then returns `symbol`'s result; the returned function runs the rest. It
/// takes f's parameters, then the value of each local of f's top level that the rest reads
/// (a workspace slot's address, a scalar of the forward pass), in the order of their ids.
/// Null, and f unchanged, when f has fewer than `minLoops` loops or a stack buffer.
std::unique_ptr<Func> splitTail(Func &f, const std::string &symbol, size_t minLoops = kSplitLoops);

} // namespace gradc::loops
