// cpp_host: trains the two-layer net of mlp2.expr with SGD on the same spiral as
// examples/c_host, but compiles the model at run time with gradc's JIT API. Same data, same
// steps: the two programs print the same losses and accuracy.
#include <gradc/gradc.h>

#include <cmath>
#include <cstdio>
#include <vector>

namespace {

constexpr int N = 300, D = 2, H = 100, C = 3;

unsigned long long rngState = 42;
double uniform() { // in (0, 1), the generator of c_host
  rngState = rngState * 6364136223846793005ULL + 1442695040888963407ULL;
  return (static_cast<double>(rngState >> 11) + 0.5) / 9007199254740992.0;
}
double gaussian() { return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }

} // namespace

int main() {
  gradc::Compiler compiler;
  gradc::CompileOptions options;
  options.dims = {{"N", N}, {"D", D}, {"H", H}, {"C", C}};
  gradc::Module m = compiler.compileFile(MODEL_FILE, options);
  if (!m.ok()) {
    std::fprintf(stderr, "%s", m.errors().c_str());
    return 1;
  }
  using Grad = double(const double *, const int32_t *, const double *, const double *,
                      const double *, const double *, double, double *, double *, double *,
                      double *, void *);
  auto mlp2Grad = m.function<Grad>("mlp2_grad");
  auto scores = m.function<void(const double *, const double *, const double *, const double *,
                                const double *, double *, void *)>("scores");
  size_t wsBytes = std::max(m.function<size_t()>("mlp2_workspace_size")(),
                            m.function<size_t()>("scores_workspace_size")());
  std::vector<unsigned char> ws(wsBytes + 1);

  std::vector<double> X(N * D), W1(D * H), b1(H), W2(H * C), b2(C);
  std::vector<double> dW1(D * H), db1(H), dW2(H * C), db2(C), s(N * C);
  std::vector<int32_t> y(N);
  for (int j = 0; j < C; ++j)
    for (int i = 0; i < N / C; ++i) {
      int k = j * (N / C) + i;
      double r = static_cast<double>(i) / (N / C - 1);
      double t = 4.0 * j + 4.0 * i / (N / C - 1) + 0.2 * gaussian();
      X[k * D] = r * std::sin(t);
      X[k * D + 1] = r * std::cos(t);
      y[k] = j;
    }
  for (double &w : W1)
    w = 0.01 * gaussian();
  for (double &w : W2)
    w = 0.01 * gaussian();

  auto step = [](std::vector<double> &w, const std::vector<double> &g) {
    for (size_t i = 0; i < w.size(); ++i)
      w[i] -= 1.0 * g[i];
  };
  for (int it = 0; it <= 3000; ++it) {
    double loss = mlp2Grad(X.data(), y.data(), W1.data(), b1.data(), W2.data(), b2.data(), 1e-3,
                           dW1.data(), db1.data(), dW2.data(), db2.data(), ws.data());
    if (it % 100 == 0)
      std::printf("step %4d  loss %.6f\n", it, loss);
    step(W1, dW1);
    step(b1, db1);
    step(W2, dW2);
    step(b2, db2);
  }
  scores(X.data(), W1.data(), b1.data(), W2.data(), b2.data(), s.data(), ws.data());
  int correct = 0;
  for (int i = 0; i < N; ++i) {
    int best = 0;
    for (int j = 1; j < C; ++j)
      if (s[i * C + j] > s[i * C + best])
        best = j;
    correct += best == y[i];
  }
  std::printf("training accuracy: %.1f%%\n", 100.0 * correct / N);
  return correct * 10 > N * 9 ? 0 : 1;
}
