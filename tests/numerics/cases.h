/* cases.h: the numerical edge cases of docs/NUMERICS.md, each as gradc source text and as
   a PyTorch expression, at one point (x, y). Shared by tests/unit/NumericsTest.cpp (gradc,
   against the expected values) and bench/torch_numerics.cpp (PyTorch itself). */
#pragma once

#include <limits>

namespace gradc::numerics {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct EdgeCase {
  const char *expr; // gradc's f(x, y)
  double x, y;
  double f, dx, dy; // what PyTorch 1.13 returns (bench/torch_numerics checks it)
  bool divergesFromTorch = false; // documented: gradc's rewrite is stable, PyTorch's is not
};

inline const EdgeCase kEdgeCases[] = {
    {"x / y", 1, 0, kInf, kInf, -kInf},
    {"x / y", 0, 0, kNaN, kInf, kNaN},
    {"x / y", kInf, kInf, kNaN, 0, kNaN},
    {"log(x)", 0, 0, -kInf, kInf, 0},
    {"log(x)", -1, 0, kNaN, -1, 0},
    {"log(x)", kInf, 0, kInf, 0, 0},
    {"sqrt(x)", 0, 0, 0, kInf, 0},
    {"sqrt(x)", -1, 0, kNaN, kNaN, 0},
    {"sqrt(x * x)", 0, 0, 0, kNaN, 0},
    {"exp(x)", 1000, 0, kInf, kInf, 0},
    {"exp(x)", -1000, 0, 0, 0, 0},
    {"x * y", 0, kInf, kNaN, kInf, 0},
    {"x * 2", kNaN, 0, kNaN, 2, 0},
    {"relu(x)", kNaN, 0, kNaN, 1, 0},
    {"relu(x)", 0, 0, 0, 0, 0},
    {"abs(x)", 0, 0, 0, 0, 0},
    {"max(x, y)", 1, 1, 1, 0.5, 0.5},
    {"min(x, y)", 1, 1, 1, 0.5, 0.5},
    {"max(x, y)", kNaN, 1, kNaN, 1, 1},
    {"min(x, y)", kNaN, 1, kNaN, 1, 1},
    {"pow(x, 0.5)", 0, 0, 0, kInf, 0},
    {"pow(x, y)", 0, 0, 1, 0, 0},
    {"pow(x, y)", 0, 2, 0, 0, 0},
    {"pow(x, y)", 0, -1, kInf, -kInf, -kInf},
    {"pow(x, y)", -8, 1.0 / 3, kNaN, kNaN, kNaN},
    {"sigmoid(x)", -1000, 0, 0, 0, 0},
    {"sigmoid(x)", 1000, 0, 1, 0, 0},
    {"tanh(x)", 1000, 0, 1, 0, 0},
    {"x - x", kInf, 0, kNaN, 0, 0},
    {"x * 0", kInf, 0, kNaN, 0, 0},
    {"sin(x)", kInf, 0, kNaN, kNaN, 0},
    // A max/min reduction whose result is NaN: no element equals it, every gradient is NaN
    // (PyTorch's amax); a zero gradient would hide the NaN.
    {"max(reshape(x, [1]))", kNaN, 0, kNaN, kNaN, 0},
    {"min(reshape(x, [1]))", kNaN, 0, kNaN, kNaN, 0},
    // PyTorch: log(inf) = inf, gradient NaN. gradc rewrites log(exp(y)) to y (LANGUAGE.md).
    {"log(exp(x))", 1000, 0, 1000, 1, 0, true},
    // The math library at its poles, domain edges and overflows.
    {"log1p(x)", -1, 0, -kInf, kInf, 0},
    {"log1p(x)", -2, 0, kNaN, -1, 0},
    {"expm1(x)", 1000, 0, kInf, kInf, 0},
    {"expm1(x)", -1000, 0, -1, 0, 0},
    {"erf(x)", kInf, 0, 1, 0, 0},
    {"erfc(x)", -kInf, 0, 2, 0, 0},
    {"lgamma(x)", 0, 0, kInf, -kInf, 0},
    {"lgamma(x)", -1, 0, kInf, kNaN, 0},
    {"digamma(x)", 0, 0, -kInf, kInf, 0},
    // PyTorch: trigamma at a pole is pi^2 / sin(pi x)^2 with sin(pi x) not quite 0 (1.6e32);
    // gradc returns the pole's inf.
    {"digamma(x)", -2, 0, kNaN, kInf, 0, true},
    {"asin(x)", 1, 0, 1.5707963267948966, kInf, 0},
    {"asin(x)", 2, 0, kNaN, kNaN, 0},
    {"acos(x)", 1, 0, 0, -kInf, 0},
    {"sinh(x)", 1000, 0, kInf, kInf, 0},
    {"cosh(x)", -1000, 0, kInf, -kInf, 0},
    {"log2(x)", 0, 0, -kInf, kInf, 0},
    {"exp2(x)", 1024, 0, kInf, kInf, 0},
    {"atan2(x, y)", 0, 0, 0, kNaN, kNaN},
    {"hypot(x, y)", 0, 0, 0, kNaN, kNaN},
    {"softplus(x)", 1000, 0, 1000, 1, 0},
    {"softplus(x)", -1000, 0, 0, 0, 0},
    {"round(x)", 2.5, 0, 2, 0, 0},
    {"round(x)", -0.5, 0, -0.0, 0, 0},
    {"floor(x)", -0.5, 0, -1, 0, 0},
    // PyTorch 1.13: sign(NaN) = 0, which hides the NaN; gradc keeps it.
    {"sign(x)", kNaN, 0, kNaN, 0, 0, true},
    {"clamp(x, 0, 1)", kNaN, 0, kNaN, 0, 0},
    {"clamp(x, y, 1)", 0.5, 2, 1, 0, 0},
};

} // namespace gradc::numerics
