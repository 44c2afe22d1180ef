// HostGemm.h: matrix products the JIT hands to a library (OpenBLAS's CBLAS when gradc is
// built with GRADC_USE_CBLAS), when the library is measured to be faster on this machine.
// Emitted code never calls these (docs/CLI.md, --no-blas).
#pragma once

#include "codegen/llvm/Jit.h"

#include <cstdint>
#include <span>
#include <string>

namespace gradc {

/// Whether the JIT's large matrix products call CBLAS: gradc was built with it.
bool hostGemmAvailable();

/// Products with fewer multiply-adds than this stay in gradc's own kernel, which is as fast
/// as single-threaded OpenBLAS up to about this size and faster on narrow products such as
/// the two-layer net's (BENCHMARKS.md); beyond it OpenBLAS's packing wins.
constexpr int64_t kHostGemmMinWork = int64_t{512} * 512 * 512;
/// When OpenBLAS runs on several threads, products from this size go to it: its threads
/// beat one core from here on.
constexpr int64_t kHostGemmMinWorkThreaded = int64_t{64} * 64 * 64;

/// The threshold for code compiled now: kHostGemmMinWorkThreaded when OpenBLAS is set to
/// use more than one thread (OPENBLAS_NUM_THREADS, openblas_set_num_threads), else
/// kHostGemmMinWork.
int64_t hostGemmMinWork();

/// Whether the products handed to the host run in CBLAS or in gradc's own kernel (compiled
/// ahead of time), decided once per process, at the first such product, by timing both on
/// one square product of kBlasTrialSize (OpenBLAS on a CPU it does not recognize runs a
/// generic kernel several times slower than gradc's).
struct BlasChoice {
  bool useBlas = false;
  double blasMs = 0, ownMs = 0; // the faster of the timed runs of each
  std::string core;             // OpenBLAS's kernel for this CPU (openblas_get_corename)
};
constexpr int64_t kBlasTrialSize = 256;
/// CBLAS keeps the products unless it takes more than this times gradc's kernel: near
/// equal times are noise, and OpenBLAS wins beyond the trial's size where it is close.
constexpr double kBlasSlowerLimit = 1.5;
/// The choice (measured at the first call; without CBLAS or without gradc's kernels
/// compiled ahead of time nothing is measured and useBlas says whether CBLAS is there).
/// The environment variable GRADC_BLAS=on or off makes it without timing.
const BlasChoice &blasChoice();

/// The functions the JIT binds for generated code: the host gemm (kHostGemmF64,
/// kHostGemmF32 of loops/LoweringInput.h) and the kernels compiled ahead of time.
std::span<const HostSymbol> jitHostSymbols();

} // namespace gradc
