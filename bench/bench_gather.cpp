// bench_gather.cpp: rows selected by index arrays, the access pattern of bundle adjustment
// (each observation reads its camera's and its point's row), value and gradient, as ratios in
// one run: gradc's gather (x[idx], gradient by scatter_add) against the one-hot product a user
// had to write before it (onehot(idx) @ x, O(P * C) instead of O(P)) and against PyTorch's
// index_select with eager autograd (f64, one thread).
//   f = sum((sum(cams[ci][:, 0:3] * pts[pi], axis=1) - cams[ci][:, 3])^2)
// GRADC_BENCH_N shrinks every size for the smoke test.
#include <benchmark/benchmark.h>
#include <gradc/gradc.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Problem {
  int64_t cams = 200, pts = 20000, obs = 100000;
  std::vector<double> c, p, dc, dp;
  std::vector<int32_t> ci, pi;
  Problem() {
    if (std::getenv("GRADC_BENCH_N"))
      cams = 4, pts = 10, obs = 32;
    c.resize(static_cast<size_t>(cams * 4));
    p.resize(static_cast<size_t>(pts * 3));
    dc.resize(c.size());
    dp.resize(p.size());
    for (size_t i = 0; i < c.size(); ++i)
      c[i] = std::sin(0.3 * static_cast<double>(i));
    for (size_t i = 0; i < p.size(); ++i)
      p[i] = std::cos(0.7 * static_cast<double>(i));
    for (int64_t k = 0; k < obs; ++k) { // each point seen by a few cameras, scattered
      ci.push_back(static_cast<int32_t>((k * 7919) % cams));
      pi.push_back(static_cast<int32_t>((k * 104729 + k / 5) % pts));
    }
  }
};

const char *kGather = "dim P, C, N\n"
                      "def f(cams: [C, 4], pts: [N, 3], ci: const i32[P], pi: const i32[P]) {\n"
                      "  cam = cams[ci]\n"
                      "  return sum((sum(cam[:, 0:3] * pts[pi], axis=1) - cam[:, 3])^2)\n"
                      "}\n";

// The workaround before index arrays: one-hot selection matrices, passed in.
const char *kOneHot = "dim P, C, N\n"
                      "def f(cams: [C, 4], pts: [N, 3], Sc: const [P, C], Sp: const [P, N]) {\n"
                      "  cam = Sc @ cams\n"
                      "  return sum((sum(cam[:, 0:3] * (Sp @ pts), axis=1) - cam[:, 3])^2)\n"
                      "}\n";

gradc::Module compile(const char *src, const Problem &pr) {
  gradc::CompileOptions opts;
  opts.blas = false;
  opts.dims = {{"P", pr.obs}, {"C", pr.cams}, {"N", pr.pts}};
  return gradc::Compiler().compileSource(src, opts, "gather.expr");
}

void BM_gather_gradc(benchmark::State &state) {
  Problem pr;
  gradc::Module mod = compile(kGather, pr);
  if (!mod.ok()) {
    state.SkipWithError(mod.errors().c_str());
    return;
  }
  auto f = mod.function<double(const double *, const double *, const int32_t *, const int32_t *, double *, double *,
                               void *)>("f_grad");
  std::vector<unsigned char> ws(mod.function<size_t()>("f_workspace_size")() + 64);
  for (auto _ : state)
    benchmark::DoNotOptimize(f(pr.c.data(), pr.p.data(), pr.ci.data(), pr.pi.data(), pr.dc.data(), pr.dp.data(), ws.data()));
}

void BM_gather_onehot(benchmark::State &state) {
  Problem pr;
  if (pr.obs * (pr.cams + pr.pts) > int64_t{1} << 28) { // the selection matrices alone: 2 GiB
    pr.obs /= 50;
    pr.ci.resize(static_cast<size_t>(pr.obs));
    pr.pi.resize(static_cast<size_t>(pr.obs));
    state.SetLabel("1/50 of the observations (the one-hot matrices would not fit); compare per observation");
  }
  gradc::Module mod = compile(kOneHot, pr);
  if (!mod.ok()) {
    state.SkipWithError(mod.errors().c_str());
    return;
  }
  std::vector<double> sc(static_cast<size_t>(pr.obs * pr.cams)), sp(static_cast<size_t>(pr.obs * pr.pts));
  for (int64_t k = 0; k < pr.obs; ++k) {
    sc[static_cast<size_t>(k * pr.cams + pr.ci[static_cast<size_t>(k)])] = 1;
    sp[static_cast<size_t>(k * pr.pts + pr.pi[static_cast<size_t>(k)])] = 1;
  }
  auto f = mod.function<double(const double *, const double *, const double *, const double *, double *, double *,
                               void *)>("f_grad");
  std::vector<unsigned char> ws(mod.function<size_t()>("f_workspace_size")() + 64);
  for (auto _ : state)
    benchmark::DoNotOptimize(f(pr.c.data(), pr.p.data(), sc.data(), sp.data(), pr.dc.data(), pr.dp.data(), ws.data()));
}

// PyTorch's value and gradients of the same function.
struct TorchProblem {
  torch::Tensor cams, pts, cit, pit;
  explicit TorchProblem(Problem &pr) {
    auto f64 = torch::dtype(torch::kFloat64);
    cams = torch::from_blob(pr.c.data(), {pr.cams, 4}, f64).clone().requires_grad_(true);
    pts = torch::from_blob(pr.p.data(), {pr.pts, 3}, f64).clone().requires_grad_(true);
    std::vector<int64_t> ci(pr.ci.begin(), pr.ci.end()), pi(pr.pi.begin(), pr.pi.end());
    cit = torch::tensor(ci, torch::kInt64);
    pit = torch::tensor(pi, torch::kInt64);
  }
  double valueAndGrad() {
    cams.mutable_grad() = torch::Tensor();
    pts.mutable_grad() = torch::Tensor();
    torch::Tensor cam = cams.index_select(0, cit);
    torch::Tensor r = (cam.slice(1, 0, 3) * pts.index_select(0, pit)).sum(1) - cam.select(1, 3);
    torch::Tensor loss = r.pow(2).sum();
    loss.backward();
    return loss.item<double>();
  }
};

void BM_gather_torch(benchmark::State &state) {
  Problem pr;
  torch::set_num_threads(1);
  TorchProblem t(pr);
  for (auto _ : state)
    benchmark::DoNotOptimize(t.valueAndGrad());
}

// gradc against PyTorch on the benchmark's problem before timing anything: the same value
// and gradients, or no figures at all.
bool sameAsTorch() {
  Problem pr;
  gradc::Module mod = compile(kGather, pr);
  if (!mod.ok())
    return false;
  auto f = mod.function<double(const double *, const double *, const int32_t *, const int32_t *, double *, double *,
                               void *)>("f_grad");
  std::vector<unsigned char> ws(mod.function<size_t()>("f_workspace_size")() + 64);
  double v = f(pr.c.data(), pr.p.data(), pr.ci.data(), pr.pi.data(), pr.dc.data(), pr.dp.data(), ws.data());
  TorchProblem t(pr);
  double want = t.valueAndGrad();
  auto close = [](double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); };
  bool ok = close(v, want);
  auto dc = t.cams.grad().contiguous(), dp = t.pts.grad().contiguous();
  for (size_t i = 0; ok && i < pr.dc.size(); ++i)
    ok = close(pr.dc[i], dc.data_ptr<double>()[i]);
  for (size_t i = 0; ok && i < pr.dp.size(); ++i)
    ok = close(pr.dp[i], dp.data_ptr<double>()[i]);
  std::printf("gradc and PyTorch agree on the value (%.17g) and every gradient: %s\n", v, ok ? "yes" : "NO");
  return ok;
}

BENCHMARK(BM_gather_gradc)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_gather_torch)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_gather_onehot)->Unit(benchmark::kMicrosecond);

} // namespace

int main(int argc, char **argv) {
  if (!sameAsTorch())
    return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
