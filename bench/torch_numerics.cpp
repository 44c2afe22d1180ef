// torch_numerics.cpp: PyTorch itself (libtorch, eager autograd, f64) on the numerical edge
// cases of tests/numerics/cases.h: its value and gradients must be the ones the table says
// (and gradc's NumericsTest checks gradc against the same table). Exits 1 on a difference.
#include "../tests/numerics/cases.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <string>

using T = torch::Tensor;

int main() {
  // Each gradc expression as PyTorch computes it.
  const std::map<std::string, std::function<T(T, T)>> torchForm = {
      {"x / y", [](T x, T y) { return x / y; }},
      {"log(x)", [](T x, T) { return torch::log(x); }},
      {"sqrt(x)", [](T x, T) { return torch::sqrt(x); }},
      {"sqrt(x * x)", [](T x, T) { return torch::sqrt(x * x); }},
      {"exp(x)", [](T x, T) { return torch::exp(x); }},
      {"x * y", [](T x, T y) { return x * y; }},
      {"x * 2", [](T x, T) { return x * 2; }},
      {"relu(x)", [](T x, T) { return torch::relu(x); }},
      {"abs(x)", [](T x, T) { return torch::abs(x); }},
      {"max(x, y)", [](T x, T y) { return torch::maximum(x, y); }},
      {"min(x, y)", [](T x, T y) { return torch::minimum(x, y); }},
      {"pow(x, 0.5)", [](T x, T) { return torch::pow(x, 0.5); }},
      {"pow(x, y)", [](T x, T y) { return torch::pow(x, y); }},
      {"sigmoid(x)", [](T x, T) { return torch::sigmoid(x); }},
      {"tanh(x)", [](T x, T) { return torch::tanh(x); }},
      {"x - x", [](T x, T) { return x - x; }},
      {"x * 0", [](T x, T) { return x * 0; }},
      {"sin(x)", [](T x, T) { return torch::sin(x); }},
      {"max(reshape(x, [1]))", [](T x, T) { return torch::amax(x.reshape({1})); }},
      {"min(reshape(x, [1]))", [](T x, T) { return torch::amin(x.reshape({1})); }},
      {"log(exp(x))", [](T x, T) { return torch::log(torch::exp(x)); }},
      {"log1p(x)", [](T x, T) { return torch::log1p(x); }},
      {"expm1(x)", [](T x, T) { return torch::expm1(x); }},
      {"erf(x)", [](T x, T) { return torch::erf(x); }},
      {"erfc(x)", [](T x, T) { return torch::erfc(x); }},
      {"lgamma(x)", [](T x, T) { return torch::lgamma(x); }},
      {"digamma(x)", [](T x, T) { return torch::digamma(x); }},
      {"asin(x)", [](T x, T) { return torch::asin(x); }},
      {"acos(x)", [](T x, T) { return torch::acos(x); }},
      {"sinh(x)", [](T x, T) { return torch::sinh(x); }},
      {"cosh(x)", [](T x, T) { return torch::cosh(x); }},
      {"log2(x)", [](T x, T) { return torch::log2(x); }},
      {"exp2(x)", [](T x, T) { return torch::exp2(x); }},
      {"atan2(x, y)", [](T x, T y) { return torch::atan2(x, y); }},
      {"hypot(x, y)", [](T x, T y) { return torch::hypot(x, y); }},
      {"softplus(x)", [](T x, T) { return torch::softplus(x, 1, 20); }},
      {"round(x)", [](T x, T) { return torch::round(x); }},
      {"floor(x)", [](T x, T) { return torch::floor(x); }},
      {"sign(x)", [](T x, T) { return torch::sign(x); }},
      {"clamp(x, 0, 1)", [](T x, T) { return torch::clamp(x, 0, 1); }},
      {"clamp(x, y, 1)", [](T x, T y) { return torch::clamp(x, y, torch::ones_like(y)); }},
  };
  auto same = [](double a, double b) {
    return std::isnan(b) ? std::isnan(a) : std::isinf(b) ? a == b : std::fabs(a - b) <= 1e-15 * std::max(1.0, std::fabs(b));
  };
  int differences = 0;
  std::printf("%-14s %-7s %-9s | %-9s %-9s %-9s | table\n", "f(x, y)", "x", "y", "torch f", "df/dx", "df/dy");
  for (const gradc::numerics::EdgeCase &c : gradc::numerics::kEdgeCases) {
    auto form = torchForm.find(c.expr);
    if (form == torchForm.end()) {
      std::printf("%s: no PyTorch form in torch_numerics.cpp\n", c.expr);
      return 1;
    }
    T x = torch::tensor(c.x, torch::dtype(torch::kFloat64).requires_grad(true));
    T y = torch::tensor(c.y, torch::dtype(torch::kFloat64).requires_grad(true));
    T r = form->second(x, y);
    r.backward();
    double f = r.item<double>();
    double dx = x.grad().defined() ? x.grad().item<double>() : 0.0;
    double dy = y.grad().defined() ? y.grad().item<double>() : 0.0;
    bool agree = same(f, c.f) && same(dx, c.dx) && same(dy, c.dy);
    if (agree == c.divergesFromTorch)
      ++differences; // a difference not documented, or a documented one that went away
    std::printf("%-14s %-7g %-9g | %-9g %-9g %-9g | %s\n", c.expr, c.x, c.y, f, dx, dy,
                agree ? "same" : c.divergesFromTorch ? "differs, as documented" : "DIFFERS");
  }
  std::printf("%d undocumented differences from PyTorch %s\n", differences, TORCH_VERSION);
  return differences ? 1 : 0;
}
