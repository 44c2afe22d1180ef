// bench_backend.cpp: the LLVM backend's speed targets (issue 3), as ratios in one run:
// gradc's JIT against hand-written C (gcc -O3 -march=native) and ADOL-C, on the lecture's
// neuron and on Rosenbrock; and the cost of calling a JIT-compiled function.
// bench/ratios.py turns the output into the table in BENCHMARKS.md.
#include "adolc_baselines.h"
#include "hand/hand.h"

#include <benchmark/benchmark.h>
#include <gradc/gradc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

const char *kSource = R"(
def neuron(w: [3], x: [2]) {
  s = w[0]*x[0] + w[1]*x[1] + w[2]
  return 1 / (1 + exp(-s))
}
def identity(x) = x
dim n
def rosenbrock(x: [n]) = sum(100*(x[1:n]-x[0:n-1]^2)^2 + (1-x[0:n-1])^2)
def l2wx(W: [n, n], x: [n]) = sum((W @ x)^2)
)";

const gradc::Module &module() {
  static gradc::Module m = [] {
    gradc::Compiler c;
    gradc::Module mod = c.compileSource(kSource, {}, "bench.expr");
    if (!mod.ok()) {
      std::fprintf(stderr, "%s", mod.errors().c_str());
      std::exit(1);
    }
    return mod;
  }();
  return m;
}

int64_t rosenbrockSize(const benchmark::State &state) { return state.range(0); }

std::vector<double> rosenbrockPoint(int64_t n) {
  std::vector<double> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    x[static_cast<size_t>(i)] = 0.5 + 0.3 * std::sin(0.1 * static_cast<double>(i));
  return x;
}

// --- neuron, value and gradient ---

const double kW[3] = {2, -3, -3}, kX[2] = {-1, -2};

void BM_neuron_grad_gradc(benchmark::State &state) {
  auto f = module().function<double(const double *, const double *, double *, double *, void *)>(
      "neuron_grad");
  std::vector<unsigned char> ws(module().function<size_t()>("neuron_workspace_size")() + 1);
  double dw[3], dx[2];
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(kW, kX, dw, dx, ws.data()));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_neuron_grad_gradc);

void BM_neuron_grad_hand(benchmark::State &state) {
  double dw[3], dx[2];
  for (auto _ : state) {
    benchmark::DoNotOptimize(hand_neuron_grad(kW, kX, dw, dx));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_neuron_grad_hand);

void BM_neuron_grad_adolc(benchmark::State &state) {
  double wx[5] = {2, -3, -3, -1, -2}, g[5];
  adolcTapeNeuron(1, wx);
  for (auto _ : state) {
    adolcGradient(1, 5, wx, g);
    benchmark::DoNotOptimize(g[0]);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_neuron_grad_adolc);

// --- the cost of a call: a JIT-compiled identity against a direct call to C ---

void BM_call_gradc(benchmark::State &state) {
  auto f = module().function<double(double, void *)>("identity");
  double x = 1.5;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    benchmark::DoNotOptimize(f(x, nullptr));
  }
}
BENCHMARK(BM_call_gradc);

void BM_call_direct(benchmark::State &state) {
  double x = 1.5;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    benchmark::DoNotOptimize(hand_identity(x));
  }
}
BENCHMARK(BM_call_direct);

// --- rosenbrock: forward, value and gradient ---

void BM_rosenbrock_value_gradc(benchmark::State &state) {
  int64_t n = rosenbrockSize(state);
  auto f = module().function<double(int64_t, const double *, void *)>("rosenbrock");
  std::vector<unsigned char> ws(module().function<size_t(int64_t)>("rosenbrock_workspace_size")(n) + 64);
  std::vector<double> x = rosenbrockPoint(n);
  for (auto _ : state)
    benchmark::DoNotOptimize(f(n, x.data(), ws.data()));
}

void BM_rosenbrock_grad_gradc(benchmark::State &state) {
  int64_t n = rosenbrockSize(state);
  auto f = module().function<double(int64_t, const double *, double *, void *)>("rosenbrock_grad");
  std::vector<unsigned char> ws(module().function<size_t(int64_t)>("rosenbrock_workspace_size")(n) + 64);
  std::vector<double> x = rosenbrockPoint(n), dx(static_cast<size_t>(n));
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(n, x.data(), dx.data(), ws.data()));
    benchmark::ClobberMemory();
  }
}

void BM_rosenbrock_value_hand(benchmark::State &state) {
  int64_t n = rosenbrockSize(state);
  std::vector<double> x = rosenbrockPoint(n);
  for (auto _ : state)
    benchmark::DoNotOptimize(hand_rosenbrock(n, x.data()));
}

void BM_rosenbrock_grad_hand(benchmark::State &state) {
  int64_t n = rosenbrockSize(state);
  std::vector<double> x = rosenbrockPoint(n), dx(static_cast<size_t>(n));
  for (auto _ : state) {
    benchmark::DoNotOptimize(hand_rosenbrock_grad(n, x.data(), dx.data()));
    benchmark::ClobberMemory();
  }
}

void BM_rosenbrock_grad_adolc(benchmark::State &state) {
  int64_t n = rosenbrockSize(state);
  std::vector<double> x = rosenbrockPoint(n), dx(static_cast<size_t>(n));
  adolcTapeRosenbrock(2, n, x.data());
  for (auto _ : state) {
    adolcGradient(2, static_cast<int>(n), x.data(), dx.data());
    benchmark::ClobberMemory();
  }
}

// --- l2wx (the lecture's ||W x||^2), value and gradient, n x n (issue 4's target) ---

int64_t l2wxSize() {
  const char *s = std::getenv("GRADC_BENCH_N");
  return s ? std::max<int64_t>(8, std::atoll(s) / 16) : 4096;
}

struct L2wxData {
  int64_t n = l2wxSize();
  std::vector<double> W = rosenbrockPoint(n * n), x = rosenbrockPoint(n), dW = W, dx = x, q = x;
};

void BM_l2wx_grad_gradc(benchmark::State &state) {
  L2wxData d;
  auto f = module().function<double(int64_t, const double *, const double *, double *, double *, void *)>(
      "l2wx_grad");
  std::vector<unsigned char> ws(module().function<size_t(int64_t)>("l2wx_workspace_size")(d.n) + 64);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(d.n, d.W.data(), d.x.data(), d.dW.data(), d.dx.data(), ws.data()));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_l2wx_grad_gradc)->Unit(benchmark::kMicrosecond);

void BM_l2wx_grad_hand(benchmark::State &state) {
  L2wxData d;
  for (auto _ : state) {
    benchmark::DoNotOptimize(hand_l2wx_grad(d.n, d.W.data(), d.x.data(), d.dW.data(), d.dx.data(), d.q.data()));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_l2wx_grad_hand)->Unit(benchmark::kMicrosecond);

void BM_l2wx_grad_hand_fused(benchmark::State &state) {
  L2wxData d;
  for (auto _ : state) {
    benchmark::DoNotOptimize(hand_l2wx_grad_fused(d.n, d.W.data(), d.x.data(), d.dW.data(), d.dx.data()));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_l2wx_grad_hand_fused)->Unit(benchmark::kMicrosecond);

// The memory-traffic bound of the gradient: read W once, write dW once (2 n^2 doubles).
void BM_l2wx_memory_bound(benchmark::State &state) {
  L2wxData d;
  for (auto _ : state) {
    hand_stream(d.n * d.n, d.W.data(), d.dW.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 2 * d.n * d.n * 8);
}
BENCHMARK(BM_l2wx_memory_bound)->Unit(benchmark::kMicrosecond);

// The size comes from GRADC_BENCH_N (the smoke test in CI uses a small one).
int64_t benchSize() {
  const char *s = std::getenv("GRADC_BENCH_N");
  return s ? std::atoll(s) : 10000;
}
const bool registered = [] {
  int64_t n = benchSize();
  using Fn = void (*)(benchmark::State &);
  const std::pair<const char *, Fn> cases[] = {
      {"BM_rosenbrock_value_gradc", BM_rosenbrock_value_gradc},
      {"BM_rosenbrock_grad_gradc", BM_rosenbrock_grad_gradc},
      {"BM_rosenbrock_value_hand", BM_rosenbrock_value_hand},
      {"BM_rosenbrock_grad_hand", BM_rosenbrock_grad_hand},
      {"BM_rosenbrock_grad_adolc", BM_rosenbrock_grad_adolc}};
  for (auto [name, fn] : cases)
    benchmark::RegisterBenchmark(name, fn)->Arg(n);
  return true;
}();

} // namespace

BENCHMARK_MAIN();
