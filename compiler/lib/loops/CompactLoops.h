// CompactLoops.h: the loops of a function of many loops are compiled compactly. LLVM's time
// grows with the loops it vectorizes one by one: each becomes a vector body unrolled four
// times, a scalar remainder and its checks, and the SLP vectorizer then searches the whole
// function. ODE's `gradc check` (a gradient of 90 loops) took 206 ms that way and 128 ms
// compactly, with no measured change in run time (BENCHMARKS.md, "Compact loops").
#pragma once

#include "loops/LoopIR.h"

#include <cstddef>

namespace gradc::loops {

/// A function of at least this many loops (all depths) is compiled compactly. GMM's and
/// ODE's gradients have 83 and 90; BA's (49) and mlp2's (40), whose run times are measured
/// against hand-written C, keep the full treatment.
constexpr size_t kCompactLoops = 64;

/// Marks every loop of f kCompact when f has at least kCompactLoops loops, except kShort ones
/// (already one vector at a time, and their trip counts known) and kWithinIteration ones (not
/// vectorized across iterations). SLP is off for the whole module all the same, these loops'
/// rows too: GMM's objective and gradient measured the same. True when it marked any.
bool compactLoops(Func &f);

} // namespace gradc::loops
