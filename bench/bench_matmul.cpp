// bench_matmul.cpp: gradc's own matrix kernel (what emitted code and the JIT below
// kHostGemmMinWork run) against OpenBLAS's cblas_dgemm/sgemm on one thread, as ratios in one
// run: C = A @ B and the gradients' C = X^T @ G and C = G @ W^T, for the two-layer net's shape
// and squares in every operand form, and a batch of products.
// The square plain products also run as the JIT runs them by default (`gradc_blas`): handed to
// OpenBLAS unless it measured slower than gradc's kernel at the first product (set
// OPENBLAS_CORETYPE=Prescott to see OpenBLAS's generic kernel lose them).
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
enum class Form { Plain, LeftT, RightT, BothT };

// `batch` products of m x k times k x n.
template <typename T> struct Product {
  int64_t batch, m, k, n;
  Form form;
  std::vector<T> a, b, c;
  Product(int64_t batch_, int64_t m_, int64_t k_, int64_t n_, Form f) : batch(batch_), m(m_), k(k_), n(n_), form(f) {
    if (smoke())
      m = std::min<int64_t>(m, 20), k = std::min<int64_t>(k, 30), n = std::min<int64_t>(n, 17);
    a.resize(static_cast<size_t>(batch * m * k));
    b.resize(static_cast<size_t>(batch * k * n));
    c.resize(static_cast<size_t>(batch * m * n));
    for (size_t i = 0; i < a.size(); ++i)
      a[i] = static_cast<T>(std::sin(0.37 * static_cast<double>(i)));
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<T>(std::cos(0.11 * static_cast<double>(i)));
  }
};

struct Shape {
  const char *name;
  int64_t batch, m, k, n;
  Form form;
};

bool leftT(Form f) { return f == Form::LeftT || f == Form::BothT; }
bool rightT(Form f) { return f == Form::RightT || f == Form::BothT; }

template <typename T, bool blas = false> void gradcProduct(benchmark::State &state, const Shape &s) {
  Product<T> p(s.batch, s.m, s.k, s.n, s.form);
  std::string ty = sizeof(T) == 4 ? "f32" : "f64", lead = s.batch > 1 ? "BT, " : "";
  std::string src = "dim BT, M, K, N\ndef mm(A: const " + ty + "[" + lead + (leftT(s.form) ? "K, M]" : "M, K]") +
                    ", B: const " + ty + "[" + lead + (rightT(s.form) ? "N, K]" : "K, N]") + ") = " +
                    (leftT(s.form) ? "A.T" : "A") + " @ " + (rightT(s.form) ? "B.T" : "B") + "\n";
  gradc::CompileOptions opts;
  opts.blas = blas;
  opts.dims = {{"BT", p.batch}, {"M", p.m}, {"K", p.k}, {"N", p.n}};
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

// One gemm call per matrix of the batch.
template <typename T> void blasProduct(benchmark::State &state, const Shape &s) {
  Product<T> p(s.batch, s.m, s.k, s.n, s.form);
  int M = static_cast<int>(p.m), K = static_cast<int>(p.k), N = static_cast<int>(p.n);
  CBLAS_TRANSPOSE ta = leftT(s.form) ? CblasTrans : CblasNoTrans, tb = rightT(s.form) ? CblasTrans : CblasNoTrans;
  int lda = leftT(s.form) ? M : K, ldb = rightT(s.form) ? K : N;
  for (auto _ : state) {
    for (int64_t t = 0; t < p.batch; ++t) {
      const T *a = p.a.data() + t * M * K, *b = p.b.data() + t * K * N;
      T *c = p.c.data() + t * M * N;
      if constexpr (sizeof(T) == 8)
        cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, 1.0, a, lda, b, ldb, 0.0, c, N);
      else
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, a, lda, b, ldb, 0.0f, c, N);
    }
    benchmark::ClobberMemory();
  }
}

// Every form of the square 1024 product, and a batch of eight 512 products (the same work).
const Shape kShapes[] = {
    {"mlp2_XW1", 1, 256, 3072, 100, Form::Plain},   // X @ W1
    {"mlp2_XtdH", 1, 3072, 256, 100, Form::LeftT},  // X^T @ dH
    {"mlp2_dHW1t", 1, 256, 100, 3072, Form::RightT}, // dH @ W1^T (dX, were X not const)
    {"square512", 1, 512, 512, 512, Form::Plain},
    {"square1024", 1, 1024, 1024, 1024, Form::Plain},
    {"square1024_AtB", 1, 1024, 1024, 1024, Form::LeftT},
    {"square1024_ABt", 1, 1024, 1024, 1024, Form::RightT},
    {"square1024_AtBt", 1, 1024, 1024, 1024, Form::BothT},
    {"batch8x512", 8, 512, 512, 512, Form::Plain},
};

} // namespace

int main(int argc, char **argv) {
  openblas_set_num_threads(1);
  for (const Shape &s : kShapes) {
    for (bool f32 : {false, true}) {
      std::string suffix = std::string(s.name) + (f32 ? "_f32" : "_f64");
      auto reg = [&](const std::string &who, auto fn) {
        benchmark::RegisterBenchmark(("BM_matmul_" + suffix + "_" + who).c_str(),
                                     [=](benchmark::State &st) { fn(st, s); })
            ->Unit(benchmark::kMicrosecond);
      };
      bool squarePlain = s.form == Form::Plain && s.batch == 1 && s.m == s.k && s.k == s.n;
      if (f32) {
        reg("gradc", gradcProduct<float>);
        reg("openblas", blasProduct<float>);
        if (squarePlain)
          reg("gradc_blas", gradcProduct<float, true>);
      } else {
        reg("gradc", gradcProduct<double>);
        reg("openblas", blasProduct<double>);
        if (squarePlain)
          reg("gradc_blas", gradcProduct<double, true>);
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
