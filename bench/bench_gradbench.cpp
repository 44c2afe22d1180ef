// bench_gradbench.cpp: issue 16's performance targets on the GradBench/ADBench programs of
// examples/gradbench/, as ratios measured in one run (every baseline in this process):
//   ba   bundle adjustment gradient (`ba_grad`) at ADBench ba1's size (49 cameras, 7,776
//        points, 31,843 observations): gradc (JIT, dims bound) against hand-written C
//        (bench/hand/ba.c, gcc -O3 -march=native; target gradc <= 1.3x) and PyTorch
//        (index_select, eager autograd, f64, one thread; target >= 10x slower than gradc);
//   gmm  d=10 K=5 N=1000 and d=64 K=100 N=1000 (GradBench's sizes): gradc's gradient / its
//        objective (target <= 3) and PyTorch's gradient (the faster of two forms) / gradc's
//        (target >= 5);
//   ode  n=64: gradc's JIT gradient against gradc's own emitted C (`gradc emit --c`, built by
//        gradc_add_library, gcc -O3 -march=native; target: the JIT not slower).
// Before anything is timed, every pair agrees on the value and every gradient to 1e-9
// relative, or that group's benchmarks stop with SkipWithError (and the process exits 1).
// After the runs it prints the ratios of the medians (or of the single runs) with the targets.
// GRADC_BENCH_N shrinks BA and GMM for the smoke test (ODE stays n=64, the size its emitted C
// is built for).
#include "bench_ode_c_gradc/ode.h"
#include "gradbench_data.h"
#include "hand/hand.h"

#include <benchmark/benchmark.h>
#include <gradc/gradc.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using gradbench::BA;
using gradbench::GMM;
using gradbench::Rng;
using gradbench::smoke;

std::string readExample(const char *name) {
  std::ifstream in(std::string(GRADC_EXAMPLES_DIR) + "/gradbench/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

gradc::Module compileExample(const char *name, std::map<std::string, int64_t> dims) {
  gradc::CompileOptions opts;
  opts.blas = false;
  opts.dims = std::move(dims);
  gradc::Module mod = gradc::Compiler().compileSource(readExample(name), opts, name);
  if (!mod.ok()) {
    std::fprintf(stderr, "%s", mod.errors().c_str());
    std::exit(1);
  }
  return mod;
}

// |a - b| <= 1e-9 max(1, |b|) for every element; prints the first difference.
bool agree(const char *what, const double *got, const double *want, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (!(std::fabs(got[i] - want[i]) <= 1e-9 * std::max(1.0, std::fabs(want[i])))) {
      std::printf("  %s[%zu]: %.17g against %.17g\n", what, i, got[i], want[i]);
      return false;
    }
  return true;
}

torch::Tensor tensorOf(const std::vector<double> &v, std::vector<int64_t> shape, bool grad) {
  torch::Tensor t = torch::from_blob(const_cast<double *>(v.data()), shape, torch::kFloat64).clone();
  return grad ? t.requires_grad_(true) : t;
}

torch::Tensor indexTensor(const std::vector<int32_t> &v) {
  return torch::tensor(std::vector<int64_t>(v.begin(), v.end()), torch::kInt64);
}

// Set by the checks in main: a group whose implementations disagree is not timed.
bool baAgrees = false, gmmAgrees = false, odeAgrees = false;

// ------------------------------------------------------------------ bundle adjustment

using BaGrad = double(const double *, const double *, const double *, const int32_t *, const int32_t *,
                      const double *, double *, double *, double *, void *);

struct BaGradc {
  gradc::Module mod;
  BaGrad *grad;
  std::vector<unsigned char> ws;
  explicit BaGradc(const BA &b)
      : mod(compileExample("ba.expr", {{"n", b.n}, {"m", b.m}, {"p", b.p}})),
        grad(mod.function<BaGrad>("ba_grad")), ws(mod.function<size_t()>("ba_workspace_size")() + 64) {}
  double operator()(BA &b) {
    return grad(b.cams.data(), b.X.data(), b.w.data(), b.obsCam.data(), b.obsPt.data(), b.feats.data(),
                b.dcams.data(), b.dX.data(), b.dw.data(), ws.data());
  }
};

double baHand(BA &b) {
  return hand_ba_grad(b.n, b.m, b.p, b.cams.data(), b.X.data(), b.w.data(), b.obsCam.data(), b.obsPt.data(),
                      b.feats.data(), b.dcams.data(), b.dX.data(), b.dw.data());
}

// examples/gradbench/ba.expr's `ba` in PyTorch: the same operations on [p, .] tensors.
struct BaTorch {
  torch::Tensor cams, X, w, feats, obsCam, obsPt;
  int64_t p;
  explicit BaTorch(const BA &b)
      : cams(tensorOf(b.cams, {b.n, 11}, true)), X(tensorOf(b.X, {b.m, 3}, true)), w(tensorOf(b.w, {b.p}, true)),
        feats(tensorOf(b.feats, {b.p, 2}, false)), obsCam(indexTensor(b.obsCam)), obsPt(indexTensor(b.obsPt)),
        p(b.p) {}
  double valueAndGrad() {
    cams.mutable_grad() = torch::Tensor();
    X.mutable_grad() = torch::Tensor();
    w.mutable_grad() = torch::Tensor();
    torch::Tensor cam = cams.index_select(0, obsCam);
    torch::Tensor rot = cam.slice(1, 0, 3);
    torch::Tensor Xo = X.index_select(0, obsPt) - cam.slice(1, 3, 6);
    torch::Tensor theta = rot.pow(2).sum(1, true).sqrt();
    torch::Tensor costheta = theta.cos(), sintheta = theta.sin();
    torch::Tensor u = rot * (1 / theta);
    torch::Tensor tmp = (u * Xo).sum(1, true) * (1 - costheta);
    torch::Tensor Xcam = Xo * costheta + torch::linalg_cross(u, Xo, 1) * sintheta + u * tmp;
    torch::Tensor proj = Xcam.slice(1, 0, 2) / Xcam.slice(1, 2, 3);
    torch::Tensor rsq = proj.pow(2).sum(1, true);
    torch::Tensor L = 1 + cam.slice(1, 9, 10) * rsq + cam.slice(1, 10, 11) * rsq * rsq;
    torch::Tensor projected = proj * L * cam.slice(1, 6, 7) + cam.slice(1, 7, 9);
    torch::Tensor reproj = w.view({p, 1}) * (projected - feats);
    torch::Tensor werr = 1 - w * w;
    torch::Tensor loss = reproj.pow(2).sum() + werr.pow(2).sum();
    loss.backward();
    return loss.item<double>();
  }
};

bool checkBa() {
  BA b;
  BaGradc gradc(b);
  double v = gradc(b);
  std::vector<double> gc = b.dcams, gX = b.dX, gw = b.dw;
  double h = baHand(b);
  BaTorch t(b);
  double tv = t.valueAndGrad();
  torch::Tensor tc = t.cams.grad().contiguous(), tX = t.X.grad().contiguous(), tw = t.w.grad().contiguous();
  bool ok = agree("ba value: gradc/hand", &v, &h, 1) && agree("ba value: gradc/torch", &v, &tv, 1) &&
            agree("d_cams: gradc/hand", gc.data(), b.dcams.data(), gc.size()) &&
            agree("d_X: gradc/hand", gX.data(), b.dX.data(), gX.size()) &&
            agree("d_w: gradc/hand", gw.data(), b.dw.data(), gw.size()) &&
            agree("d_cams: gradc/torch", gc.data(), tc.data_ptr<double>(), gc.size()) &&
            agree("d_X: gradc/torch", gX.data(), tX.data_ptr<double>(), gX.size()) &&
            agree("d_w: gradc/torch", gw.data(), tw.data_ptr<double>(), gw.size());
  std::printf("ba (%lld cameras, %lld points, %lld observations): gradc, hand-written C and PyTorch agree on "
              "the value (%.17g) and every gradient: %s\n",
              static_cast<long long>(b.n), static_cast<long long>(b.m), static_cast<long long>(b.p), v,
              ok ? "yes" : "NO");
  return ok;
}

void BM_ba_grad_gradc(benchmark::State &state) {
  if (!baAgrees)
    return state.SkipWithError("gradc, hand C and PyTorch disagree on ba");
  BA b;
  BaGradc g(b);
  for (auto _ : state) {
    benchmark::DoNotOptimize(g(b));
    benchmark::ClobberMemory();
  }
}

void BM_ba_grad_hand(benchmark::State &state) {
  if (!baAgrees)
    return state.SkipWithError("gradc, hand C and PyTorch disagree on ba");
  BA b;
  for (auto _ : state) {
    benchmark::DoNotOptimize(baHand(b));
    benchmark::ClobberMemory();
  }
}

void BM_ba_grad_torch(benchmark::State &state) {
  if (!baAgrees)
    return state.SkipWithError("gradc, hand C and PyTorch disagree on ba");
  BA b;
  BaTorch t(b);
  for (auto _ : state)
    benchmark::DoNotOptimize(t.valueAndGrad());
}

BENCHMARK(BM_ba_grad_gradc)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ba_grad_hand)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ba_grad_torch)->Unit(benchmark::kMicrosecond);

// ------------------------------------------------------------------------------- GMM

using GmmValue = double(const double *, const double *, const double *, const double *, const int32_t *, double,
                        double, void *);
using GmmGrad = double(const double *, const double *, const double *, const double *, const int32_t *, double,
                       double, double *, double *, double *, void *);

struct GmmGradc {
  gradc::Module mod;
  GmmValue *value;
  GmmGrad *grad;
  std::vector<unsigned char> ws;
  explicit GmmGradc(const GMM &g)
      : mod(compileExample("gmm.expr", {{"D", g.d}, {"K", g.k}, {"N", g.n}})),
        value(mod.function<GmmValue>("gmm")), grad(mod.function<GmmGrad>("gmm_grad")),
        ws(mod.function<size_t()>("gmm_workspace_size")() + 64) {}
  double objective(GMM &g) {
    return value(g.alphas.data(), g.means.data(), g.icf.data(), g.x.data(), g.lidx.data(), g.gamma, g.wishartM,
                 ws.data());
  }
  double gradient(GMM &g) {
    return grad(g.alphas.data(), g.means.data(), g.icf.data(), g.x.data(), g.lidx.data(), g.gamma, g.wishartM,
                g.dalphas.data(), g.dmeans.data(), g.dicf.data(), ws.data());
  }
};

// examples/gradbench/gmm.expr in PyTorch: the same formula, with Q_k (x_i - mu_k) as a batched
// product of L_k plus the diagonal's product apart, or (qMatrix) of Q_k as one matrix as in
// gmm.expr; the ratio takes the faster.
struct GmmTorch {
  torch::Tensor alphas, means, icf, x, lidx;
  int64_t d, k, n, icfCols;
  double constant, wishartC, gamma, wishartM;
  bool qMatrix = false;
  explicit GmmTorch(const GMM &g)
      : alphas(tensorOf(g.alphas, {g.k}, true)), means(tensorOf(g.means, {g.k, g.d}, true)),
        icf(tensorOf(g.icf, {g.k, g.icfCols}, true)), x(tensorOf(g.x, {g.n, g.d}, false)),
        lidx(indexTensor(g.lidx)), d(g.d), k(g.k), n(g.n), icfCols(g.icfCols), gamma(g.gamma),
        wishartM(g.wishartM) {
    const double pi = 3.141592653589793;
    double dd = static_cast<double>(d), nn = dd + wishartM + 1;
    constant = -static_cast<double>(n) * dd * 0.5 * std::log(2 * pi);
    double lgd = 0.25 * dd * (dd - 1) * std::log(pi);
    for (int64_t j = 1; j <= d; ++j)
      lgd += std::lgamma(0.5 * nn + 0.5 * (1 - static_cast<double>(j)));
    wishartC = nn * dd * (std::log(gamma) - 0.5 * std::log(2.0)) - lgd;
  }
  torch::Tensor objective() {
    torch::Tensor q = icf.slice(1, 0, d);
    torch::Tensor sumQs = q.sum(1);
    torch::Tensor Qdiags = q.exp();
    torch::Tensor L = icf.index_select(1, lidx).view({k, d, d}).tril(-1);
    torch::Tensor xc = x.view({n, 1, d}) - means; // [N, K, D]
    torch::Tensor Qxc;
    if (qMatrix) { // Q_k = diag(exp(q_k)) + L_k as one matrix, as gmm.expr
      torch::Tensor Q = torch::diag_embed(Qdiags) + L;
      Qxc = torch::matmul(Q, xc.permute({1, 2, 0})).permute({2, 0, 1});
    } else {
      Qxc = Qdiags * xc + torch::matmul(L, xc.permute({1, 2, 0})).permute({2, 0, 1});
    }
    torch::Tensor mainTerm = alphas + sumQs - 0.5 * Qxc.pow(2).sum(2);
    torch::Tensor slse = torch::logsumexp(mainTerm, 1).sum();
    torch::Tensor frobenius = Qdiags.pow(2).sum(1) + icf.slice(1, d, icfCols).pow(2).sum(1);
    torch::Tensor prior = (0.5 * gamma * gamma * frobenius - wishartM * sumQs).sum() - static_cast<double>(k) * wishartC;
    return constant + slse - static_cast<double>(n) * torch::logsumexp(alphas, 0) + prior;
  }
  double valueAndGrad() {
    alphas.mutable_grad() = torch::Tensor();
    means.mutable_grad() = torch::Tensor();
    icf.mutable_grad() = torch::Tensor();
    torch::Tensor f = objective();
    f.backward();
    return f.item<double>();
  }
};

struct GmmSize {
  const char *name;
  int64_t d, k, n;
};
const GmmSize kGmmSizes[] = {{"d10_K5_N1000", 10, 5, 1000}, {"d64_K100_N1000", 64, 100, 1000}};

bool checkGmm() {
  bool all = true;
  for (const GmmSize &s : kGmmSizes) {
    GMM g(s.d, s.k, s.n);
    GmmGradc gc(g);
    double v = gc.objective(g), vg = gc.gradient(g);
    bool ok = agree("gmm value: gmm/gmm_grad", &v, &vg, 1);
    for (bool qMatrix : {false, true}) {
      GmmTorch t(g);
      t.qMatrix = qMatrix;
      double tv = t.valueAndGrad();
      torch::Tensor ta = t.alphas.grad().contiguous(), tm = t.means.grad().contiguous(),
                    ti = t.icf.grad().contiguous();
      ok = ok && agree("gmm value: gradc/torch", &v, &tv, 1) &&
           agree("d_alphas", g.dalphas.data(), ta.data_ptr<double>(), g.dalphas.size()) &&
           agree("d_means", g.dmeans.data(), tm.data_ptr<double>(), g.dmeans.size()) &&
           agree("d_icf", g.dicf.data(), ti.data_ptr<double>(), g.dicf.size());
    }
    std::printf("gmm (d=%lld K=%lld N=%lld): gradc and PyTorch agree on the value (%.17g) and every gradient: %s\n",
                static_cast<long long>(g.d), static_cast<long long>(g.k), static_cast<long long>(g.n), v,
                ok ? "yes" : "NO");
    all = all && ok;
  }
  return all;
}

void BM_gmm_objective_gradc(benchmark::State &state, GmmSize s) {
  if (!gmmAgrees)
    return state.SkipWithError("gradc and PyTorch disagree on gmm");
  GMM g(s.d, s.k, s.n);
  GmmGradc gc(g);
  for (auto _ : state)
    benchmark::DoNotOptimize(gc.objective(g));
}

void BM_gmm_grad_gradc(benchmark::State &state, GmmSize s) {
  if (!gmmAgrees)
    return state.SkipWithError("gradc and PyTorch disagree on gmm");
  GMM g(s.d, s.k, s.n);
  GmmGradc gc(g);
  for (auto _ : state) {
    benchmark::DoNotOptimize(gc.gradient(g));
    benchmark::ClobberMemory();
  }
}

void BM_gmm_grad_torch(benchmark::State &state, GmmSize s, bool qMatrix) {
  if (!gmmAgrees)
    return state.SkipWithError("gradc and PyTorch disagree on gmm");
  GMM g(s.d, s.k, s.n);
  GmmTorch t(g);
  t.qMatrix = qMatrix;
  for (auto _ : state)
    benchmark::DoNotOptimize(t.valueAndGrad());
}

BENCHMARK_CAPTURE(BM_gmm_objective_gradc, d10_K5_N1000, kGmmSizes[0])->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_gmm_grad_gradc, d10_K5_N1000, kGmmSizes[0])->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_gmm_grad_torch, d10_K5_N1000, kGmmSizes[0], false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_gmm_grad_torch, d10_K5_N1000_Q, kGmmSizes[0], true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_gmm_objective_gradc, d64_K100_N1000, kGmmSizes[1])->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_gmm_grad_gradc, d64_K100_N1000, kGmmSizes[1])->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_gmm_grad_torch, d64_K100_N1000, kGmmSizes[1], false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_gmm_grad_torch, d64_K100_N1000_Q, kGmmSizes[1], true)->Unit(benchmark::kMicrosecond);

// ------------------------------------------------------------------------------- ODE

constexpr int64_t kOdeN = 64; // the DIMS of bench_ode_c in bench/CMakeLists.txt

using OdeGrad = double(const double *, double *, void *);
using OdeYGrad = void(const double *, const double *, double *, double *, void *);

const gradc::Module &odeJit() {
  static gradc::Module m = compileExample("ode.expr", {{"n", kOdeN}});
  return m;
}

std::vector<double> odeX() {
  Rng rng(64);
  std::vector<double> x;
  for (int64_t i = 0; i < kOdeN; ++i)
    x.push_back(rng.uniform(0.5, 1.5)); // as check_gradbench.py
  return x;
}

// `ode` (y[n-1] after 10 steps) and, because y[n-1] is exactly 0 for n > 40 (each step of
// RK4 reaches 4 elements further), also `ode_y`'s whole vector-Jacobian product.
bool checkOde() {
  std::vector<double> x = odeX(), dj(kOdeN), dc(kOdeN), dOut(kOdeN), yj(kOdeN), yc(kOdeN);
  std::vector<unsigned char> wsj(odeJit().function<size_t()>("ode_workspace_size")() + 64);
  std::vector<unsigned char> wsc(ode_c_ode_workspace_size() + 64);
  double vj = odeJit().function<OdeGrad>("ode_grad")(x.data(), dj.data(), wsj.data());
  double vc = ode_c_ode_grad(x.data(), dc.data(), wsc.data());
  bool ok = agree("ode value: JIT/C", &vj, &vc, 1) && agree("ode d_x: JIT/C", dj.data(), dc.data(), dj.size());
  Rng rng(65);
  for (double &v : dOut)
    v = rng.uniform(-1, 1);
  std::vector<unsigned char> wsj2(odeJit().function<size_t()>("ode_y_workspace_size")() + 64);
  std::vector<unsigned char> wsc2(ode_c_ode_y_workspace_size() + 64);
  odeJit().function<OdeYGrad>("ode_y_grad")(x.data(), dOut.data(), yj.data(), dj.data(), wsj2.data());
  ode_c_ode_y_grad(x.data(), dOut.data(), yc.data(), dc.data(), wsc2.data());
  ok = ok && agree("ode_y: JIT/C", yj.data(), yc.data(), yj.size()) &&
       agree("ode_y d_x: JIT/C", dj.data(), dc.data(), dj.size());
  std::printf("ode (n=%lld): the JIT and the emitted C agree on ode (value %.17g) and ode_y with their "
              "gradients: %s\n",
              static_cast<long long>(kOdeN), vj, ok ? "yes" : "NO");
  return ok;
}

void odeRun(benchmark::State &state, OdeGrad *f, size_t wsBytes) {
  if (!odeAgrees)
    return state.SkipWithError("the JIT and the emitted C disagree on ode");
  std::vector<double> x = odeX(), dx(kOdeN);
  std::vector<unsigned char> ws(wsBytes + 64);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(x.data(), dx.data(), ws.data()));
    benchmark::ClobberMemory();
  }
}

void BM_ode_grad_jit(benchmark::State &state) {
  odeRun(state, odeJit().function<OdeGrad>("ode_grad"), odeJit().function<size_t()>("ode_workspace_size")());
}
void BM_ode_grad_c(benchmark::State &state) { odeRun(state, ode_c_ode_grad, ode_c_ode_workspace_size()); }

BENCHMARK(BM_ode_grad_jit);
BENCHMARK(BM_ode_grad_c);

// ODE with n given at run time, as `gradc run` and an object emitted without --dim compile
// it: its loops' trip counts are unknown when compiled, so they are compiled as loops of any
// length (CompactLoops.h), at the eval's n = 64 and at a long n. At n = 64 it must agree with
// the code compiled for n = 64.
using OdeGradN = double(int64_t, const double *, double *, void *);

const gradc::Module &odeJitAnyN() {
  static gradc::Module m = compileExample("ode.expr", {});
  return m;
}

void BM_ode_grad_jit_any_n(benchmark::State &state) {
  int64_t n = state.range(0);
  auto *f = odeJitAnyN().function<OdeGradN>("ode_grad");
  std::vector<unsigned char> ws(odeJitAnyN().function<size_t(int64_t)>("ode_workspace_size")(n) + 64);
  Rng rng(64);
  std::vector<double> x, dx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    x.push_back(rng.uniform(0.5, 1.5));
  if (n == kOdeN) {
    std::vector<double> want(static_cast<size_t>(n));
    std::vector<unsigned char> wsBound(odeJit().function<size_t()>("ode_workspace_size")() + 64);
    double v = odeJit().function<OdeGrad>("ode_grad")(x.data(), want.data(), wsBound.data());
    double got = f(n, x.data(), dx.data(), ws.data());
    if (!agree("ode value: n at run time / n = 64", &got, &v, 1) ||
        !agree("ode d_x: n at run time / n = 64", dx.data(), want.data(), dx.size()))
      return state.SkipWithError("ode with n at run time disagrees with ode compiled for n = 64");
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(n, x.data(), dx.data(), ws.data()));
    benchmark::ClobberMemory();
  }
}

BENCHMARK(BM_ode_grad_jit_any_n)->Arg(kOdeN)->Arg(4096);

// ------------------------------------------------------------------------ the ratios

// The console output, and each benchmark's median (or single) real time kept for the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
public:
  std::map<std::string, double> seconds;
  void ReportRuns(const std::vector<Run> &runs) override {
    for (const Run &r : runs)
      if (!r.error_occurred && (r.run_type == Run::RT_Iteration || r.aggregate_name == "median"))
        seconds[r.run_name.function_name] = r.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(r.time_unit);
    ConsoleReporter::ReportRuns(runs);
  }
};

void printRatios(std::map<std::string, double> t) {
  for (const GmmSize &s : kGmmSizes) { // PyTorch's faster form: L_k and the diagonal apart, or Q_k
    std::string a = std::string("BM_gmm_grad_torch/") + s.name, b = a + "_Q";
    if (t.count(a) && t.count(b))
      t[std::string("BM_gmm_grad_torch_best/") + s.name] = std::min(t[a], t[b]);
  }
  struct Row {
    std::string what, num, den, target;
  };
  std::vector<Row> rows = {
      {"ba gradient: gradc / hand-written C", "BM_ba_grad_gradc", "BM_ba_grad_hand", "<= 1.3"},
      {"ba gradient: PyTorch / gradc", "BM_ba_grad_torch", "BM_ba_grad_gradc", ">= 10"},
  };
  for (const GmmSize &s : kGmmSizes) {
    std::string n = s.name;
    rows.push_back({"gmm " + n + ": gradc gradient / gradc objective", "BM_gmm_grad_gradc/" + n,
                    "BM_gmm_objective_gradc/" + n, "<= 3"});
    rows.push_back({"gmm " + n + ": PyTorch gradient (the faster form) / gradc gradient",
                    "BM_gmm_grad_torch_best/" + n, "BM_gmm_grad_gradc/" + n, ">= 5"});
  }
  rows.push_back({"ode n=64 gradient: JIT / emitted C (gcc -O3 -march=native)", "BM_ode_grad_jit", "BM_ode_grad_c",
                  "<= 1"});
  std::printf("\n| measure | ratio | target |\n|---|---:|---|\n");
  for (const Row &r : rows)
    if (t.count(r.num) && t.count(r.den))
      std::printf("| %s | %.2f | %s |\n", r.what.c_str(), t.at(r.num) / t.at(r.den), r.target.c_str());
}

} // namespace

int main(int argc, char **argv) {
  torch::set_num_threads(1);
  baAgrees = checkBa();
  gmmAgrees = checkGmm();
  odeAgrees = checkOde();
  std::fflush(stdout);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  printRatios(reporter.seconds);
  return baAgrees && gmmAgrees && odeAgrees ? 0 : 1;
}
