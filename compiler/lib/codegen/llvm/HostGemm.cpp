// HostGemm.cpp: the JIT's large matrix products through CBLAS. A layout CBLAS cannot express
// (an operand with no unit stride, a dim beyond int) runs plain loops.
//
// OpenBLAS is opened when a compiled product first needs it, not linked: loading it starts its
// thread pool, whose threads spin for a while (on 2 cores, a compile of 10,000 scalar nodes
// ran 4% slower beside them). A process that never compiles a large product never loads it.
#include "codegen/llvm/HostGemm.h"

#include "loops/LoweringInput.h"

#include <algorithm>
#include <climits>

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
    if (!c.dgemm || !c.sgemm || !c.threads)
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

template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, const T *a, int64_t rsa, int64_t csa, const T *b,
          int64_t rsb, int64_t csb, T *c) {
  if (m <= 0 || n <= 0)
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

const HostGemmSymbol kSymbols[] = {
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

std::span<const HostGemmSymbol> hostGemmSymbols() { return kSymbols; }

int64_t hostGemmMinWork() {
#ifdef GRADC_HAVE_CBLAS
  if (cblas().threads && cblas().threads() > 1)
    return kHostGemmMinWorkThreaded;
#endif
  return kHostGemmMinWork;
}

} // namespace gradc
