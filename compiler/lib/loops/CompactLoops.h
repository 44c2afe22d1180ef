// CompactLoops.h: the loops of a function of many loops are compiled compactly. LLVM's time
// grows with the loops it vectorizes one by one: each becomes a vector body unrolled four
// times, a scalar remainder and its checks, and the SLP vectorizer then searches the whole
// function. ODE's gradient (90 loops) took 233 ms from loop IR to machine code that way and
// 127 ms compactly, with no measured change in run time (BENCHMARKS.md).
#pragma once

#include "loops/LoopIR.h"

#include <cstddef>

namespace gradc::loops {

/// A function of at least this many loops (all depths) is compiled compactly. GMM's and
/// ODE's gradients have 83 and 90; BA's (49) and mlp2's (40), whose run times are measured
/// against hand-written C, keep the full treatment.
constexpr size_t kCompactLoops = 64;

/// Marks every loop of f kCompact when f has at least kCompactLoops loops, except the loops
/// LLVM already treats alike or does not vectorize (kShort, kWithinIteration). True when it
/// marked any.
bool compactLoops(Func &f);

} // namespace gradc::loops
