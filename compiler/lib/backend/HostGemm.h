// HostGemm.h: matrix products the JIT hands to a library (OpenBLAS's CBLAS when gradc is
// built with GRADC_USE_CBLAS). Emitted code never calls these (DESIGN.md).
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

/// The functions generated code calls, by symbol, for the JIT to bind. Each computes
/// C = A @ B for A [m, k] and B [k, n] read through strides (element (i, p) of A at
/// A[i*rsa + p*csa]) into row-major C [m, n]:
///   void gemm(int64_t m, int64_t n, int64_t k, const T *A, int64_t rsa, int64_t csa,
///             const T *B, int64_t rsb, int64_t csb, T *C)
struct HostGemmSymbol {
  const char *name;
  void *address;
};
std::span<const HostGemmSymbol> hostGemmSymbols();
constexpr const char *kHostGemmF64 = "gradc.host.gemm.f64";
constexpr const char *kHostGemmF32 = "gradc.host.gemm.f32";

} // namespace gradc
