// bench_mlp2.cpp: issue 4's model benchmark, as ratios in one run: the two-layer net of
// examples/mlp2.expr (N=256 examples, D=3072 features, H=100 hidden units, C=10 classes),
// value and gradient, in f64 and f32, by gradc's JIT (dims bound at compile time), by
// PyTorch's C++ library (eager autograd), and by hand-written C calling OpenBLAS for the
// matrix products. Threads: GRADC_BENCH_THREADS (default 1) for PyTorch and OpenBLAS, which
// gradc's JIT also calls for large products when built with GRADC_USE_CBLAS. GRADC_BENCH_N
// scales N and D down for the smoke test.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <gradc/gradc.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

namespace {

struct Sizes {
  int64_t n = 256, d = 3072, h = 100, c = 10;
};

Sizes sizes() {
  Sizes s;
  if (const char *small = std::getenv("GRADC_BENCH_N")) { // the smoke test
    (void)small;
    s.n = 16;
    s.d = 64;
  }
  return s;
}

int threads() {
  const char *t = std::getenv("GRADC_BENCH_THREADS");
  return t ? std::max(1, std::atoi(t)) : 1;
}

template <typename T> struct Data {
  Sizes z = sizes();
  std::vector<T> X, W1, b1, W2, b2, dW1, db1, dW2, db2;
  std::vector<int32_t> y;
  T reg = static_cast<T>(1e-3);
  Data() {
    std::mt19937_64 rng(1);
    std::normal_distribution<double> g(0, 1);
    auto fill = [&](std::vector<T> &v, size_t n, double scale) {
      v.resize(n);
      for (T &x : v)
        x = static_cast<T>(scale * g(rng));
    };
    fill(X, static_cast<size_t>(z.n * z.d), 1.0);
    fill(W1, static_cast<size_t>(z.d * z.h), 0.01);
    fill(b1, static_cast<size_t>(z.h), 0.01);
    fill(W2, static_cast<size_t>(z.h * z.c), 0.1);
    fill(b2, static_cast<size_t>(z.c), 0.01);
    dW1 = W1, db1 = b1, dW2 = W2, db2 = b2;
    y.resize(static_cast<size_t>(z.n));
    for (size_t i = 0; i < y.size(); ++i)
      y[i] = static_cast<int32_t>(i % static_cast<size_t>(z.c));
  }
};

// --- gradc ---

std::string mlp2Source(bool f32) {
  std::ifstream in(GRADC_EXAMPLES_DIR "/mlp2.expr");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (f32) // every floating parameter as f32 (labels stay i32)
    for (const char *from : {"const [", ": [", "reg: const"}) {
      std::string to = std::string(from) == "reg: const" ? "reg: const f32" : std::string(from).replace(std::string(from).size() - 1, 1, "f32[");
      for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, std::string(from).size(), to);
    }
  return s;
}

// blas = false: every product in gradc's generated code, as emitted objects run it.
template <typename T, bool blas = true> void BM_mlp2_gradc(benchmark::State &state) {
  Data<T> d;
  gradc::CompileOptions opts;
  opts.blas = blas;
  opts.dims = {{"N", d.z.n}, {"D", d.z.d}, {"H", d.z.h}, {"C", d.z.c}};
  opts.function = "mlp2";
  gradc::Module m = gradc::Compiler().compileSource(mlp2Source(sizeof(T) == 4), opts, "mlp2.expr");
  if (!m.ok()) {
    state.SkipWithError(m.errors().c_str());
    return;
  }
  auto f = m.function<T(const T *, const int32_t *, const T *, const T *, const T *, const T *, T, T *, T *, T *, T *,
                        void *)>("mlp2_grad");
  std::vector<unsigned char> ws(m.function<size_t()>("mlp2_workspace_size")() + 64);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(d.X.data(), d.y.data(), d.W1.data(), d.b1.data(), d.W2.data(), d.b2.data(), d.reg,
                               d.dW1.data(), d.db1.data(), d.dW2.data(), d.db2.data(), ws.data()));
    benchmark::ClobberMemory();
  }
}

// --- PyTorch, eager autograd ---

template <typename T> void BM_mlp2_torch(benchmark::State &state) {
  Data<T> d;
  auto dt = sizeof(T) == 4 ? torch::kFloat32 : torch::kFloat64;
  auto from = [&](std::vector<T> &v, std::vector<int64_t> shape, bool grad) {
    return torch::from_blob(v.data(), shape, torch::dtype(dt)).clone().requires_grad_(grad);
  };
  torch::Tensor X = from(d.X, {d.z.n, d.z.d}, false), W1 = from(d.W1, {d.z.d, d.z.h}, true),
                b1 = from(d.b1, {d.z.h}, true), W2 = from(d.W2, {d.z.h, d.z.c}, true), b2 = from(d.b2, {d.z.c}, true);
  std::vector<int64_t> labels(d.y.begin(), d.y.end());
  torch::Tensor y = torch::tensor(labels, torch::kInt64).unsqueeze(1);
  for (auto _ : state) {
    for (torch::Tensor *p : {&W1, &b1, &W2, &b2})
      p->mutable_grad() = torch::Tensor();
    torch::Tensor h = torch::relu(X.mm(W1) + b1);
    torch::Tensor s = h.mm(W2) + b2;
    torch::Tensor loss = (torch::logsumexp(s, 1) - s.gather(1, y).squeeze(1)).mean() +
                         0.5 * d.reg * (W1.pow(2).sum() + W2.pow(2).sum());
    loss.backward();
    benchmark::DoNotOptimize(loss.template item<T>());
  }
}

// --- hand-written C with OpenBLAS for the matrix products ---

void gemm(bool ta, bool tb, int m, int n, int k, const double *a, int lda, const double *b, int ldb, double *c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0, a, lda,
              b, ldb, 0.0, c, ldc);
}
void gemm(bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda,
              b, ldb, 0.0f, c, ldc);
}

template <typename T> T handMlp2(Data<T> &d, std::vector<T> &Hs, std::vector<T> &S, std::vector<T> &dH) {
  const int N = static_cast<int>(d.z.n), D = static_cast<int>(d.z.d), H = static_cast<int>(d.z.h),
            C = static_cast<int>(d.z.c);
  gemm(false, false, N, H, D, d.X.data(), D, d.W1.data(), H, Hs.data(), H); // X W1
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < H; ++j) {
      T &v = Hs[static_cast<size_t>(i * H + j)];
      v = std::max(v + d.b1[static_cast<size_t>(j)], T(0));
    }
  gemm(false, false, N, C, H, Hs.data(), H, d.W2.data(), C, S.data(), C); // h W2
  T loss = 0;
  for (int i = 0; i < N; ++i) { // softmax cross-entropy; S becomes dL/ds
    T *s = &S[static_cast<size_t>(i * C)];
    T mx = -INFINITY;
    for (int j = 0; j < C; ++j)
      mx = std::max(mx, s[j] += d.b2[static_cast<size_t>(j)]);
    T sum = 0;
    for (int j = 0; j < C; ++j)
      sum += std::exp(s[j] - mx);
    int yi = d.y[static_cast<size_t>(i)];
    loss += mx + std::log(sum) - s[yi];
    for (int j = 0; j < C; ++j)
      s[j] = (std::exp(s[j] - mx) / sum - (j == yi ? T(1) : T(0))) / static_cast<T>(N);
  }
  T r1 = 0, r2 = 0;
  for (T w : d.W1)
    r1 += w * w;
  for (T w : d.W2)
    r2 += w * w;
  gemm(true, false, H, C, N, Hs.data(), H, S.data(), C, d.dW2.data(), C); // h^T dS
  std::fill(d.db2.begin(), d.db2.end(), T(0));
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < C; ++j)
      d.db2[static_cast<size_t>(j)] += S[static_cast<size_t>(i * C + j)];
  gemm(false, true, N, H, C, S.data(), C, d.W2.data(), C, dH.data(), H); // dS W2^T
  std::fill(d.db1.begin(), d.db1.end(), T(0));
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < H; ++j) {
      T &g = dH[static_cast<size_t>(i * H + j)];
      if (Hs[static_cast<size_t>(i * H + j)] <= 0)
        g = 0;
      d.db1[static_cast<size_t>(j)] += g;
    }
  gemm(true, false, D, H, N, d.X.data(), D, dH.data(), H, d.dW1.data(), H); // X^T dH
  for (size_t i = 0; i < d.W1.size(); ++i)
    d.dW1[i] += d.reg * d.W1[i];
  for (size_t i = 0; i < d.W2.size(); ++i)
    d.dW2[i] += d.reg * d.W2[i];
  return loss / static_cast<T>(N) + T(0.5) * d.reg * (r1 + r2);
}

template <typename T> void BM_mlp2_openblas(benchmark::State &state) {
  Data<T> d;
  std::vector<T> Hs(static_cast<size_t>(d.z.n * d.z.h)), S(static_cast<size_t>(d.z.n * d.z.c)), dH = Hs;
  for (auto _ : state) {
    benchmark::DoNotOptimize(handMlp2(d, Hs, S, dH));
    benchmark::ClobberMemory();
  }
}

BENCHMARK(BM_mlp2_gradc<double>)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp2_gradc<double, false>)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp2_torch<double>)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp2_openblas<double>)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp2_gradc<float>)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp2_gradc<float, false>)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp2_torch<float>)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp2_openblas<float>)->Unit(benchmark::kMicrosecond);

} // namespace

// One thread count for every contestant, set before any runs: gradc's JIT calls the same
// OpenBLAS for its large products (GRADC_USE_CBLAS), and OpenBLAS starts with all cores.
int main(int argc, char **argv) {
  openblas_set_num_threads(threads());
  torch::set_num_threads(threads());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
