// bench_matmul.cpp: gradc's own matrix kernel (what emitted code and the JIT below
// kHostGemmMinWork run) against OpenBLAS's cblas_dgemm/sgemm on one thread, as ratios in one
// run: C = A @ B and the gradients' C = X^T @ G and C = G @ W^T, for the two-layer net's shape
// and squares.
// GRADC_BENCH_N shrinks every size for the smoke test.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <gradc/gradc.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

bool smoke() { return std::getenv("GRADC_BENCH_N") != nullptr; }

// Which operand is stored transposed: the left one is X^T for X [k, m] (A.T @ B), the right
// one W^T for W [n, k] (A @ B.T), as in gradients.
enum class Form { Plain, LeftT, RightT };

// m x k times k x n.
template <typename T> struct Product {
  int64_t m, k, n;
  Form form;
  std::vector<T> a, b, c;
  Product(int64_t m_, int64_t k_, int64_t n_, Form f) : m(m_), k(k_), n(n_), form(f) {
    if (smoke())
      m = std::min<int64_t>(m, 20), k = std::min<int64_t>(k, 30), n = std::min<int64_t>(n, 17);
    a.resize(static_cast<size_t>(m * k));
    b.resize(static_cast<size_t>(k * n));
    c.resize(static_cast<size_t>(m * n));
    for (size_t i = 0; i < a.size(); ++i)
      a[i] = static_cast<T>(std::sin(0.37 * static_cast<double>(i)));
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<T>(std::cos(0.11 * static_cast<double>(i)));
  }
};

template <typename T> void gradcProduct(benchmark::State &state, int64_t m, int64_t k, int64_t n, Form form) {
  Product<T> p(m, k, n, form);
  std::string ty = sizeof(T) == 4 ? "f32" : "f64";
  std::string src = "dim M, K, N\ndef mm(A: const " + ty + (form == Form::LeftT ? "[K, M]" : "[M, K]") + ", B: const " +
                    ty + (form == Form::RightT ? "[N, K]" : "[K, N]") + ") = " +
                    (form == Form::LeftT ? "A.T @ B" : form == Form::RightT ? "A @ B.T" : "A @ B") + "\n";
  gradc::CompileOptions opts;
  opts.blas = false;
  opts.dims = {{"M", p.m}, {"K", p.k}, {"N", p.n}};
  gradc::Module mod = gradc::Compiler().compileSource(src, opts, "mm.expr");
  if (!mod.ok()) {
    state.SkipWithError(mod.errors().c_str());
    return;
  }
  auto f = mod.function<void(const T *, const T *, T *, void *)>("mm");
  std::vector<unsigned char> ws(mod.function<size_t()>("mm_workspace_size")() + 64);
  for (auto _ : state) {
    f(p.a.data(), p.b.data(), p.c.data(), ws.data());
    benchmark::ClobberMemory();
  }
}

template <typename T> void blasProduct(benchmark::State &state, int64_t m, int64_t k, int64_t n, Form form) {
  Product<T> p(m, k, n, form);
  int M = static_cast<int>(p.m), K = static_cast<int>(p.k), N = static_cast<int>(p.n);
  CBLAS_TRANSPOSE ta = form == Form::LeftT ? CblasTrans : CblasNoTrans, tb = form == Form::RightT ? CblasTrans : CblasNoTrans;
  int lda = form == Form::LeftT ? M : K, ldb = form == Form::RightT ? K : N;
  for (auto _ : state) {
    if constexpr (sizeof(T) == 8)
      cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, 1.0, p.a.data(), lda, p.b.data(), ldb, 0.0, p.c.data(), N);
    else
      cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, p.a.data(), lda, p.b.data(), ldb, 0.0f, p.c.data(), N);
    benchmark::ClobberMemory();
  }
}

struct Shape {
  const char *name;
  int64_t m, k, n;
  Form form;
};
const Shape kShapes[] = {
    {"mlp2_XW1", 256, 3072, 100, Form::Plain},   // X @ W1
    {"mlp2_XtdH", 3072, 256, 100, Form::LeftT},  // X^T @ dH
    {"mlp2_dHW1t", 256, 100, 3072, Form::RightT}, // dH @ W1^T (dX, were X not const)
    {"square512", 512, 512, 512, Form::Plain},
    {"square1024", 1024, 1024, 1024, Form::Plain},
    {"square1024_ABt", 1024, 1024, 1024, Form::RightT},
};

} // namespace

int main(int argc, char **argv) {
  openblas_set_num_threads(1);
  for (const Shape &s : kShapes) {
    for (bool f32 : {false, true}) {
      std::string suffix = std::string(s.name) + (f32 ? "_f32" : "_f64");
      auto reg = [&](const std::string &who, auto fn) {
        benchmark::RegisterBenchmark(("BM_matmul_" + suffix + "_" + who).c_str(),
                                     [=](benchmark::State &st) { fn(st, s.m, s.k, s.n, s.form); })
            ->Unit(benchmark::kMicrosecond);
      };
      if (f32) {
        reg("gradc", gradcProduct<float>);
        reg("openblas", blasProduct<float>);
      } else {
        reg("gradc", gradcProduct<double>);
        reg("openblas", blasProduct<double>);
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
