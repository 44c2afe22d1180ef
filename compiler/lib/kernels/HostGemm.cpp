// HostGemm.cpp: the JIT's large matrix products through CBLAS, or through gradc's own kernel
// where CBLAS was measured slower (BlasChoice). A layout neither can express (an operand with
// no unit stride, a dim beyond int) runs plain loops.
//
// OpenBLAS is opened when a compiled product first needs it, not linked: loading it starts its
// thread pool, whose threads spin for a while (on 2 cores, a compile of 10,000 scalar nodes
// ran 4% slower beside them). A process that never compiles a large product never loads it.
#include "kernels/HostGemm.h"

#include "kernels/AheadOfTime.h"
#include "loops/LoweringInput.h"
#include "loops/TiledKernel.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

#ifdef GRADC_HAVE_CBLAS
#include <cblas.h>
#include <dlfcn.h>
#endif

namespace gradc {

namespace {

#ifdef GRADC_HAVE_CBLAS
struct Cblas {
  decltype(&cblas_dgemm) dgemm = nullptr;
  decltype(&cblas_sgemm) sgemm = nullptr;
  decltype(&openblas_get_num_threads) threads = nullptr;
  decltype(&openblas_get_corename) corename = nullptr;
};

// The library by its soname (the one a program linking OpenBLAS itself has loaded, so both
// share one thread pool and its settings), else by the path found at configure time.
const Cblas &cblas() {
  static const Cblas lib = [] {
    Cblas c;
    void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h)
      h = dlopen(GRADC_OPENBLAS_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!h)
      return c;
    c.dgemm = reinterpret_cast<decltype(c.dgemm)>(dlsym(h, "cblas_dgemm"));
    c.sgemm = reinterpret_cast<decltype(c.sgemm)>(dlsym(h, "cblas_sgemm"));
    c.threads = reinterpret_cast<decltype(c.threads)>(dlsym(h, "openblas_get_num_threads"));
    c.corename = reinterpret_cast<decltype(c.corename)>(dlsym(h, "openblas_get_corename"));
    if (!c.dgemm || !c.sgemm || !c.threads || !c.corename)
      c = Cblas{};
    return c;
  }();
  return lib;
}
#endif

template <typename T>
void loops(int64_t m, int64_t n, int64_t k, const T *a, int64_t rsa, int64_t csa, const T *b,
           int64_t rsb, int64_t csb, T *c) {
  for (int64_t i = 0; i < m; ++i) {
    T *row = c + i * n;
    std::fill(row, row + n, T(0));
    for (int64_t p = 0; p < k; ++p) {
      T av = a[i * rsa + p * csa];
      const T *brow = b + p * rsb;
      for (int64_t j = 0; j < n; ++j)
        row[j] += av * brow[j * csb];
    }
  }
}

#ifdef GRADC_HAVE_CBLAS
// How CBLAS reads a rows x cols matrix with strides (rs, cs), when it can.
struct BlasOperand {
  bool ok = false;
  CBLAS_TRANSPOSE trans = CblasNoTrans;
  int ld = 0;
};

BlasOperand blasOperand(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  BlasOperand op;
  if ((cs == 1 || cols == 1) && rs >= std::max<int64_t>(1, cols) && rs <= INT_MAX) {
    op = {true, CblasNoTrans, static_cast<int>(rs)};
  } else if ((rs == 1 || rows == 1) && cs >= std::max<int64_t>(1, rows) && cs <= INT_MAX) {
    op = {true, CblasTrans, static_cast<int>(cs)};
  }
  return op;
}

void blas(int m, int n, int k, const BlasOperand &a, const double *ap, const BlasOperand &b,
          const double *bp, double *c) {
  cblas().dgemm(CblasRowMajor, a.trans, b.trans, m, n, k, 1.0, ap, a.ld, bp, b.ld, 0.0, c, std::max(1, n));
}
void blas(int m, int n, int k, const BlasOperand &a, const float *ap, const BlasOperand &b,
          const float *bp, float *c) {
  cblas().sgemm(CblasRowMajor, a.trans, b.trans, m, n, k, 1.0f, ap, a.ld, bp, b.ld, 0.0f, c, std::max(1, n));
}
#endif

using Kernel = void (*)(int64_t, int64_t, int64_t, const void *, int64_t, int64_t, const void *, int64_t,
                       int64_t, void *);

// gradc's kernel compiled ahead of time for `dt`, A by rows or transposed; null without them.
Kernel ownKernel(DType dt, bool aTransposed) {
  std::string symbol = loops::tiledKernelCallee(dt, loops::Form{aTransposed}).symbol;
  for (const HostSymbol &k : aheadOfTimeKernels())
    if (symbol == k.name)
      return reinterpret_cast<Kernel>(k.address);
  return nullptr;
}

// Runs the product in gradc's kernel when its layout fits one (B by rows; A by rows or
// transposed), else returns false.
template <typename T>
bool own(int64_t m, int64_t n, int64_t k, const T *a, int64_t rsa, int64_t csa, const T *b, int64_t rsb,
         int64_t csb, T *c) {
  if (csb != 1 && n != 1)
    return false;
  DType dt = sizeof(T) == 8 ? DType::F64 : DType::F32;
  Kernel kernel = csa == 1 ? ownKernel(dt, false) : rsa == 1 ? ownKernel(dt, true) : nullptr;
  if (!kernel)
    return false;
  kernel(m, n, k, a, rsa, csa, b, rsb, csb, c);
  return true;
}

template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, const T *a, int64_t rsa, int64_t csa, const T *b,
          int64_t rsb, int64_t csb, T *c) {
  if (m <= 0 || n <= 0)
    return;
  if (!blasChoice().useBlas && own(m, n, k, a, rsa, csa, b, rsb, csb, c))
    return;
#ifdef GRADC_HAVE_CBLAS
  bool fits = m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && cblas().dgemm;
  if (fits && k > 0) {
    BlasOperand ao = blasOperand(m, k, rsa, csa), bo = blasOperand(k, n, rsb, csb);
    if (ao.ok && bo.ok) {
      blas(static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), ao, a, bo, b, c);
      return;
    }
  }
#endif
  loops(m, n, k, a, rsa, csa, b, rsb, csb, c);
}

extern "C" void hostGemmF64(int64_t m, int64_t n, int64_t k, const double *a, int64_t rsa, int64_t csa,
                            const double *b, int64_t rsb, int64_t csb, double *c) {
  gemm(m, n, k, a, rsa, csa, b, rsb, csb, c);
}
extern "C" void hostGemmF32(int64_t m, int64_t n, int64_t k, const float *a, int64_t rsa, int64_t csa,
                            const float *b, int64_t rsb, int64_t csb, float *c) {
  gemm(m, n, k, a, rsa, csa, b, rsb, csb, c);
}

#ifdef GRADC_HAVE_CBLAS
// The faster of kBlasTrialRuns timed runs of `product`, after one that warms caches and
// OpenBLAS's threads, in milliseconds.
constexpr int kBlasTrialRuns = 2;
template <typename F>
double fastestMs(F product) {
  product();
  double best = 1e300;
  for (int run = 0; run < kBlasTrialRuns; ++run) {
    auto t = std::chrono::steady_clock::now();
    product();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
  }
  return best;
}

BlasChoice measureBlasChoice() {
  BlasChoice choice;
  choice.useBlas = cblas().dgemm != nullptr;
  Kernel kernel = ownKernel(DType::F64, false);
  if (!choice.useBlas || !kernel)
    return choice;
  choice.core = cblas().corename();
  // GRADC_BLAS=on or off decides without timing (a run that must take the same path each time).
  std::string forced = std::getenv("GRADC_BLAS") ? std::getenv("GRADC_BLAS") : "";
  if (forced == "on" || forced == "off") {
    choice.useBlas = forced == "on";
    return choice;
  }
  const int64_t n = kBlasTrialSize;
  std::vector<double> a(n * n), b(n * n), c(n * n);
  for (int64_t i = 0; i < n * n; ++i) {
    a[i] = static_cast<double>(i % 7) - 3.0;
    b[i] = static_cast<double>(i % 5) * 0.5;
  }
  BlasOperand rows{true, CblasNoTrans, static_cast<int>(n)};
  int ni = static_cast<int>(n);
  choice.blasMs = fastestMs([&] { blas(ni, ni, ni, rows, a.data(), rows, b.data(), c.data()); });
  choice.ownMs = fastestMs([&] { kernel(n, n, n, a.data(), n, 1, b.data(), n, 1, c.data()); });
  choice.useBlas = choice.blasMs <= kBlasSlowerLimit * choice.ownMs;
  return choice;
}
#endif

const HostSymbol kHostGemm[] = {
    {kHostGemmF64, reinterpret_cast<void *>(&hostGemmF64)},
    {kHostGemmF32, reinterpret_cast<void *>(&hostGemmF32)},
};

} // namespace

bool hostGemmAvailable() {
#ifdef GRADC_HAVE_CBLAS
  return cblas().dgemm != nullptr;
#else
  return false;
#endif
}

const BlasChoice &blasChoice() {
#ifdef GRADC_HAVE_CBLAS
  static const BlasChoice choice = measureBlasChoice();
#else
  static const BlasChoice choice;
#endif
  return choice;
}

std::span<const HostSymbol> jitHostSymbols() {
  static const std::vector<HostSymbol> symbols = [] {
    std::vector<HostSymbol> all(std::begin(kHostGemm), std::end(kHostGemm));
    std::span<const HostSymbol> kernels = aheadOfTimeKernels();
    all.insert(all.end(), kernels.begin(), kernels.end());
    return all;
  }();
  return symbols;
}

int64_t hostGemmMinWork() {
#ifdef GRADC_HAVE_CBLAS
  if (cblas().threads && cblas().threads() > 1)
    return kHostGemmMinWorkThreaded;
#endif
  return kHostGemmMinWork;
}

} // namespace gradc
