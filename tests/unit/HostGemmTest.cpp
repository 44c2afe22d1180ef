// HostGemmTest.cpp: the JIT's host gemm, which runs a large product in OpenBLAS or in gradc's
// own kernel, whichever it measured faster on this machine (kernels/HostGemm.h).
#include "kernels/AheadOfTime.h"
#include "kernels/HostGemm.h"
#include "loops/LoweringInput.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <vector>

using namespace gradc;

namespace {

using Gemm = void (*)(int64_t, int64_t, int64_t, const double *, int64_t, int64_t, const double *, int64_t,
                      int64_t, double *);

Gemm hostGemmF64() {
  for (const HostSymbol &f : jitHostSymbols())
    if (std::strcmp(f.name, kHostGemmF64) == 0)
      return reinterpret_cast<Gemm>(f.address);
  return nullptr;
}

// C = A @ B through the host gemm for A [m, k] and B [k, n] each stored by rows or
// transposed, against a plain triple loop.
void expectProductsRight(int64_t m, int64_t n, int64_t k) {
  std::vector<double> a(m * k), b(k * n), at(k * m), bt(n * k), want(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p)
      at[p * m + i] = a[i * k + p] = std::sin(0.3 * static_cast<double>(i * k + p));
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j)
      bt[j * k + p] = b[p * n + j] = std::cos(0.7 * static_cast<double>(p * n + j));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p)
        want[i * n + j] += a[i * k + p] * b[p * n + j];
  Gemm gemm = hostGemmF64();
  ASSERT_NE(gemm, nullptr);
  for (bool aT : {false, true})
    for (bool bT : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "A transposed " << aT << ", B transposed " << bT);
      std::vector<double> c(m * n, -1.0);
      gemm(m, n, k, aT ? at.data() : a.data(), aT ? 1 : k, aT ? m : 1, bT ? bt.data() : b.data(), bT ? 1 : n,
           bT ? k : 1, c.data());
      for (size_t i = 0; i < c.size(); ++i)
        ASSERT_NEAR(c[i], want[i], 1e-11) << i;
    }
}

TEST(HostGemm, ASlowBlasLosesItsProductsToGradcsKernel) {
  // OpenBLAS 0.3.21 runs its generic SSE3 kernel ("Prescott") on a CPU it does not know; it is
  // several times slower than gradc's kernel for an AVX2 machine. OPENBLAS_CORETYPE forces it,
  // read when the library is loaded, which is at the first measurement.
  if (dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD))
    GTEST_SKIP() << "OpenBLAS is already loaded in this process (run this test on its own)";
  __builtin_cpu_init();
  if (aheadOfTimeKernels().empty() || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "no AVX2 kernel compiled ahead of time to compare with";
  ASSERT_EQ(setenv("OPENBLAS_CORETYPE", "Prescott", 1), 0);
  if (!hostGemmAvailable())
    GTEST_SKIP() << "gradc is built without CBLAS";
  const BlasChoice &choice = blasChoice();
  std::printf("OpenBLAS core %s: %.3f ms, gradc %.3f ms\n", choice.core.c_str(), choice.blasMs, choice.ownMs);
  EXPECT_EQ(choice.core, "Prescott");
  EXPECT_GT(choice.blasMs, kBlasSlowerLimit * choice.ownMs) << choice.blasMs << " vs " << choice.ownMs;
  EXPECT_FALSE(choice.useBlas);
  // Every layout is still right: gradc's kernel where B is by rows, OpenBLAS where not.
  expectProductsRight(37, 29, 41);
}

// GRADC_BLAS decides without timing (read at the first product, which each test's process
// has not made yet); every layout is right on either path.
void expectForced(const char *value, bool useBlas) {
  if (dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD))
    GTEST_SKIP() << "OpenBLAS is already loaded in this process (run this test on its own)";
  ASSERT_EQ(setenv("GRADC_BLAS", value, 1), 0);
  if (!hostGemmAvailable() || aheadOfTimeKernels().empty())
    GTEST_SKIP() << "gradc is built without CBLAS or without its kernels compiled ahead of time";
  EXPECT_EQ(blasChoice().useBlas, useBlas);
  EXPECT_EQ(blasChoice().blasMs, 0.0); // not timed
  expectProductsRight(37, 29, 41);
  expectProductsRight(1, 64, 3);
  expectProductsRight(20, 1, 7);
}

TEST(HostGemm, GradcBlasOffRunsEveryProductInGradcsKernel) { expectForced("off", false); }
TEST(HostGemm, GradcBlasOnRunsEveryProductInOpenBlas) { expectForced("on", true); }

TEST(HostGemm, TheChoiceIsMeasuredAndEveryLayoutIsRight) {
  if (!hostGemmAvailable())
    GTEST_SKIP() << "gradc is built without CBLAS";
  const BlasChoice &choice = blasChoice();
  if (!aheadOfTimeKernels().empty()) {
    EXPECT_FALSE(choice.core.empty());
    EXPECT_GT(choice.blasMs, 0.0);
    EXPECT_GT(choice.ownMs, 0.0);
    EXPECT_EQ(choice.useBlas, choice.blasMs <= kBlasSlowerLimit * choice.ownMs);
  }
  std::printf("OpenBLAS core %s: %.3f ms, gradc %.3f ms at %lld^3: %s\n", choice.core.c_str(), choice.blasMs,
              choice.ownMs, static_cast<long long>(kBlasTrialSize), choice.useBlas ? "OpenBLAS" : "gradc");
  expectProductsRight(37, 29, 41);
  expectProductsRight(1, 64, 3);
}

} // namespace
