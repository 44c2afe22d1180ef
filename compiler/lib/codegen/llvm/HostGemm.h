// HostGemm.h: matrix products the JIT hands to a library (OpenBLAS's CBLAS when gradc is
// built with GRADC_USE_CBLAS). Emitted code never calls these (docs/CLI.md, --no-blas).
#pragma once

#include <cstdint>
#include <span>

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

/// The functions generated code calls, by symbol (kHostGemmF64, kHostGemmF32 of
/// loops/LoweringInput.h), for the JIT to bind.
struct HostGemmSymbol {
  const char *name;
  void *address;
};
std::span<const HostGemmSymbol> hostGemmSymbols();

} // namespace gradc
