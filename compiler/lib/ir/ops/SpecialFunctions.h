// SpecialFunctions.h: digamma and trigamma, which the C library lacks, written once over an
// arithmetic `A` that is either ScalarArith (doubles: evaluation, constant folding) or an
// ElementBuilder (compiled code), so both compute them by the same steps.
//
// Both shift x up by the recurrences psi(x) = psi(x + 1) - 1/x and psi1(x) = psi1(x + 1) +
// 1/x^2 until x >= 10 (ten steps, unrolled as selects: an element has no loops), then sum
// the asymptotic series in 1/x^2 (Bernoulli numbers) to about 1e-15 relative. Below 0
// (digamma) or 0.5 (trigamma) they reflect: psi(x) = psi(1 - x) - pi / tan(pi x) and
// psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x). At the poles: digamma(+-0) = -+inf, NaN at
// negative integers and -inf (PyTorch's values); trigamma = inf at every integer <= 0.
#pragma once

#include "ir/ElementBuilder.h"

#include <limits>
#include <numbers>

namespace gradc {

/// ElementBuilder's operations on doubles.
struct ScalarArith {
  using V = double;
  double konst(double v) { return v; }
  double add(double a, double b) { return a + b; }
  double sub(double a, double b) { return a - b; }
  double mul(double a, double b) { return a * b; }
  double div(double a, double b) { return a / b; }
  bool lt(double a, double b) { return a < b; }
  bool eq(double a, double b) { return a == b; }
  double select(bool c, double a, double b) { return c ? a : b; }
  double math(MathFn fn, double a) { return evalMathFn(fn, a); }
};

namespace special {

constexpr int kShiftSteps = 10; // x is shifted up to at least this many
constexpr double kPi = std::numbers::pi;

// x shifted to >= kShiftSteps; `step` adds each skipped term into `sum`.
template <class A, class V, class Step> V shiftUp(A &b, V x, V &sum, Step step) {
  for (int i = 0; i < kShiftSteps; ++i) {
    auto small = b.lt(x, b.konst(kShiftSteps));
    sum = b.add(sum, b.select(small, step(x), b.konst(0.0)));
    x = b.select(small, b.add(x, b.konst(1.0)), x);
  }
  return x;
}

// c[0] - z (c[1] - z (c[2] - ...)), the alternating series both functions end with.
template <class A, class V, size_t N> V alternating(A &b, V z, const double (&c)[N]) {
  V acc = b.konst(c[N - 1]);
  for (size_t i = N - 1; i-- > 0;)
    acc = b.sub(b.konst(c[i]), b.mul(z, acc));
  return acc;
}

} // namespace special

template <class A, class V> V digammaOf(A &b, V x) {
  using namespace special;
  auto negative = b.lt(x, b.konst(0.0));
  V frac = b.sub(x, b.math(MathFn::Trunc, x));
  V cot = b.div(b.konst(-kPi), b.math(MathFn::Tan, b.mul(b.konst(kPi), frac)));
  V pole = b.konst(std::numeric_limits<double>::quiet_NaN());
  V reflected = b.select(negative, b.select(b.eq(frac, b.konst(0.0)), pole, cot), b.konst(0.0));
  V sum = b.konst(0.0);
  V y = shiftUp(b, b.select(negative, b.sub(b.konst(1.0), x), x), sum,
                [&](V v) { return b.sub(b.konst(0.0), b.div(b.konst(1.0), v)); });
  V z = b.div(b.konst(1.0), b.mul(y, y));
  static const double c[] = {1.0 / 12, 1.0 / 120, 1.0 / 252, 1.0 / 240, 1.0 / 132, 691.0 / 32760, 1.0 / 12};
  V series = b.mul(z, alternating(b, z, c));
  V tail = b.sub(b.sub(b.math(MathFn::Log, y), b.div(b.konst(0.5), y)), series);
  return b.add(b.add(sum, tail), reflected);
}

template <class A, class V> V trigammaOf(A &b, V x) {
  using namespace special;
  auto low = b.lt(x, b.konst(0.5));
  // sin^2(pi x) has period 1: of the fractional part, so a large |x| loses nothing to pi x.
  V s = b.math(MathFn::Sin, b.mul(b.konst(kPi), b.sub(x, b.math(MathFn::Trunc, x))));
  V sum = b.konst(0.0);
  V y = shiftUp(b, b.select(low, b.sub(b.konst(1.0), x), x), sum,
                [&](V v) { return b.div(b.konst(1.0), b.mul(v, v)); });
  V z = b.div(b.konst(1.0), b.mul(y, y));
  static const double c[] = {1.0 / 6, 1.0 / 30, 1.0 / 42, 1.0 / 30, 5.0 / 66, 691.0 / 2730, 7.0 / 6};
  V series = b.div(b.add(b.add(b.konst(1.0), b.div(b.konst(0.5), y)), b.mul(z, alternating(b, z, c))), y);
  V direct = b.add(sum, series);
  V reflected = b.sub(b.div(b.konst(kPi * kPi), b.mul(s, s)), direct);
  // At a pole (an integer <= 0) sin(pi x) is not quite 0: the pole is exact instead.
  V pole = b.konst(std::numeric_limits<double>::infinity());
  return b.select(low, b.select(b.eq(x, b.math(MathFn::Trunc, x)), pole, reflected), direct);
}

} // namespace gradc
