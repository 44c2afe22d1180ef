// AheadOfTime.h: the tiled matrix kernels compiled ahead of time (at gradc's build, one copy
// per x86-64 level: baseline, v3 with AVX2 and FMA, v4 with AVX-512), which the JIT calls
// instead of compiling them into every module: they were more than a third of a small
// program's compile time.
#pragma once

#include "codegen/llvm/Jit.h"

#include <span>

namespace gradc {

/// The kernels for this machine's level, by their usual symbols (gradc_tiled_gemm_f64_nn,
/// ...), for the JIT to bind; empty where gradc was built without them (not x86-64).
std::span<const HostSymbol> aheadOfTimeKernels();

} // namespace gradc
