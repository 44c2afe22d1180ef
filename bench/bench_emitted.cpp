// bench_emitted.cpp: the emitted-code targets (issue 5), as ratios in one run: the same
// models (bench/models.expr) JIT-compiled in this process, emitted as an object file
// (gradc emit --object), and emitted as C compiled with gcc -O3 -march=native
// (gradc emit --c). Both emitted files are built by gradc_add_library.
#include "bench_obj_gradc/models.h"
#include "bench_c_gradc/models.h"

#include <benchmark/benchmark.h>
#include <gradc/gradc.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

const gradc::Module &jit() {
  static gradc::Module m = [] {
    gradc::Compiler c;
    gradc::Module mod = c.compileFile(GRADC_BENCH_MODELS);
    if (!mod.ok()) {
      std::fprintf(stderr, "%s", mod.errors().c_str());
      std::exit(1);
    }
    return mod;
  }();
  return m;
}

std::vector<double> point(int64_t n) {
  std::vector<double> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    x[static_cast<size_t>(i)] = 0.5 + 0.3 * std::sin(0.1 * static_cast<double>(i));
  return x;
}

int64_t envSize(int64_t full, int64_t divisor) {
  const char *s = std::getenv("GRADC_BENCH_N");
  return s ? std::max<int64_t>(8, std::atoll(s) / divisor) : full;
}

// --- neuron ---
using NeuronGrad = double (*)(const double *, const double *, double *, double *, void *);
void neuron(benchmark::State &state, NeuronGrad f) {
  const double w[3] = {2, -3, -3}, x[2] = {-1, -2};
  double dw[3], dx[2];
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(w, x, dw, dx, nullptr));
    benchmark::ClobberMemory();
  }
}
void BM_emit_neuron_jit(benchmark::State &s) {
  neuron(s, jit().function<double(const double *, const double *, double *, double *, void *)>("neuron_grad"));
}
void BM_emit_neuron_object(benchmark::State &s) { neuron(s, obj_neuron_grad); }
void BM_emit_neuron_c(benchmark::State &s) { neuron(s, c_neuron_grad); }
BENCHMARK(BM_emit_neuron_jit);
BENCHMARK(BM_emit_neuron_object);
BENCHMARK(BM_emit_neuron_c);

// --- rosenbrock n = 10,000 ---
using RosenGrad = double (*)(int64_t, const double *, double *, void *);
void rosenbrock(benchmark::State &state, RosenGrad f, size_t ws) {
  int64_t n = envSize(10000, 1);
  std::vector<double> x = point(n), dx(static_cast<size_t>(n));
  std::vector<unsigned char> w(ws + 64);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(n, x.data(), dx.data(), w.data()));
    benchmark::ClobberMemory();
  }
}
void BM_emit_rosenbrock_jit(benchmark::State &s) {
  int64_t n = envSize(10000, 1);
  rosenbrock(s, jit().function<double(int64_t, const double *, double *, void *)>("rosenbrock_grad"),
             jit().function<size_t(int64_t)>("rosenbrock_workspace_size")(n));
}
void BM_emit_rosenbrock_object(benchmark::State &s) {
  rosenbrock(s, obj_rosenbrock_grad, obj_rosenbrock_workspace_size(envSize(10000, 1)));
}
void BM_emit_rosenbrock_c(benchmark::State &s) {
  rosenbrock(s, c_rosenbrock_grad, c_rosenbrock_workspace_size(envSize(10000, 1)));
}
BENCHMARK(BM_emit_rosenbrock_jit);
BENCHMARK(BM_emit_rosenbrock_object);
BENCHMARK(BM_emit_rosenbrock_c);

// --- l2wx n = 1024 (value and gradient of ||W x||^2) ---
using L2Grad = double (*)(int64_t, const double *, const double *, double *, double *, void *);
void l2wx(benchmark::State &state, L2Grad f, size_t ws) {
  int64_t n = envSize(1024, 16);
  std::vector<double> W = point(n * n), x = point(n), dW = W, dx = x;
  std::vector<unsigned char> w(ws + 64);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(n, W.data(), x.data(), dW.data(), dx.data(), w.data()));
    benchmark::ClobberMemory();
  }
}
void BM_emit_l2wx_jit(benchmark::State &s) {
  int64_t n = envSize(1024, 16);
  l2wx(s, jit().function<double(int64_t, const double *, const double *, double *, double *, void *)>("l2wx_grad"),
       jit().function<size_t(int64_t)>("l2wx_workspace_size")(n));
}
void BM_emit_l2wx_object(benchmark::State &s) { l2wx(s, obj_l2wx_grad, obj_l2wx_workspace_size(envSize(1024, 16))); }
void BM_emit_l2wx_c(benchmark::State &s) { l2wx(s, c_l2wx_grad, c_l2wx_workspace_size(envSize(1024, 16))); }
BENCHMARK(BM_emit_l2wx_jit)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_emit_l2wx_object)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_emit_l2wx_c)->Unit(benchmark::kMicrosecond);

// --- mlp2, N=256, D=3072, H=100, C=10 (value and gradient of the two-layer net) ---
using Mlp2Grad = double (*)(int64_t, int64_t, int64_t, int64_t, const double *, const int32_t *, const double *,
                            const double *, const double *, const double *, double, double *, double *, double *,
                            double *, void *);
using Mlp2Ws = size_t (*)(int64_t, int64_t, int64_t, int64_t);
void mlp2(benchmark::State &state, Mlp2Grad f, Mlp2Ws wsSize) {
  const int64_t n = envSize(256, 16), d = envSize(3072, 48), h = 100, c = 10;
  std::vector<double> X = point(n * d), W1 = point(d * h), b1 = point(h), W2 = point(h * c), b2 = point(c);
  for (double &w : W1)
    w *= 0.01;
  std::vector<double> dW1 = W1, db1 = b1, dW2 = W2, db2 = b2;
  std::vector<int32_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    y[static_cast<size_t>(i)] = static_cast<int32_t>(i % c);
  std::vector<unsigned char> w(wsSize(n, d, h, c) + 64);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(n, d, h, c, X.data(), y.data(), W1.data(), b1.data(), W2.data(), b2.data(), 1e-3,
                               dW1.data(), db1.data(), dW2.data(), db2.data(), w.data()));
    benchmark::ClobberMemory();
  }
}
void BM_emit_mlp2_jit(benchmark::State &s) {
  mlp2(s, jit().function<double(int64_t, int64_t, int64_t, int64_t, const double *, const int32_t *, const double *,
                                const double *, const double *, const double *, double, double *, double *, double *,
                                double *, void *)>("mlp2_grad"),
       jit().function<size_t(int64_t, int64_t, int64_t, int64_t)>("mlp2_workspace_size"));
}
void BM_emit_mlp2_object(benchmark::State &s) { mlp2(s, obj_mlp2_grad, obj_mlp2_workspace_size); }
void BM_emit_mlp2_c(benchmark::State &s) { mlp2(s, c_mlp2_grad, c_mlp2_workspace_size); }
BENCHMARK(BM_emit_mlp2_jit)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_emit_mlp2_object)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_emit_mlp2_c)->Unit(benchmark::kMicrosecond);

} // namespace
