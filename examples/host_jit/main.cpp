// host_jit: compiles linreg.expr at run time with gradc's C++ API, then fits the model
// by gradient descent, calling the JIT-compiled gradient as a plain function pointer.
#include <gradc/gradc.h>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  gradc::Compiler compiler;

  // Errors come back as data: file, line, column, message, and the rendered text.
  gradc::Module bad = compiler.compileSource("def f(x) = x +\n", {}, "bad.expr");
  if (!bad.ok())
    std::printf("a bad source is reported, not thrown:\n%s", bad.errors().c_str());

  // Dims bound at compile time are not arguments of the compiled functions.
  const int64_t m = 8, d = 3;
  gradc::CompileOptions options;
  options.dims = {{"m", m}, {"d", d}};
  gradc::Module model = compiler.compileFile(MODEL_FILE, options);
  if (!model.ok()) {
    std::fprintf(stderr, "%s", model.errors().c_str());
    return 1;
  }
  std::printf("compiled: %s\n", model.prototype("loss_grad").c_str());

  // A signature that does not match is a clear error at lookup, not a crash at the call.
  try {
    model.function<double(const double *, double *)>("loss_grad");
  } catch (const gradc::LookupError &e) {
    std::printf("wrong signature rejected: %s\n", e.what());
  }
  auto lossGrad =
      model.function<double(const double *, const double *, const double *, double *, void *)>(
          "loss_grad");
  auto workspaceSize = model.function<size_t(void)>("loss_workspace_size");
  std::vector<unsigned char> ws(workspaceSize());

  // Data from a known model: y = X w_true, X uniform in [-1, 1) from a fixed LCG.
  const double wTrue[d] = {1.5, -2.0, 0.25};
  std::vector<double> X(m * d), y(m);
  uint64_t state = 12345;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < d; ++j) {
      state = state * 6364136223846793005u + 1442695040888963407u;
      X[i * d + j] = double(state >> 11) / double(1ull << 53) * 2 - 1;
    }
    y[i] = 0;
    for (int64_t j = 0; j < d; ++j)
      y[i] += X[i * d + j] * wTrue[j];
  }

  std::vector<double> w(d, 0.0), dw(d);
  double loss = 0;
  for (int step = 0; step <= 4000; ++step) {
    loss = lossGrad(w.data(), X.data(), y.data(), dw.data(), ws.data());
    if (step % 1000 == 0)
      std::printf("step %4d  loss %.3e\n", step, loss);
    for (int64_t j = 0; j < d; ++j)
      w[j] -= 0.5 * dw[j];
  }
  double worst = 0;
  for (int64_t j = 0; j < d; ++j)
    worst = std::fmax(worst, std::fabs(w[j] - wTrue[j]));
  std::printf("w = [%.6f, %.6f, %.6f], largest error %.1e\n", w[0], w[1], w[2], worst);
  std::printf(worst < 1e-6 ? "recovered the true weights\n" : "did NOT converge\n");
  return worst < 1e-6 ? 0 : 1;
}
