// ProgramGenerator.h: random scalar programs for property tests (every scalar op,
// fan-out, deep chains), with values kept moderate so finite differences are accurate.
#pragma once

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace gradc::test {

// Builds programs whose values stay moderate, so that finite differences are accurate:
// every statement is squashed by a bounded function now and then, and domains are kept
// (log and sqrt of positive values, division by a value away from zero).
class ProgramGenerator {
public:
  explicit ProgramGenerator(uint64_t seed) : rng_(seed) {}

  std::string generate(int params, int statements) {
    std::string src = "def f(";
    for (int p = 0; p < params; ++p)
      src += (p ? ", x" : "x") + std::to_string(p);
    src += ") {\n";
    names_.clear();
    for (int p = 0; p < params; ++p)
      names_.push_back("x" + std::to_string(p));
    for (int s = 0; s < statements; ++s) {
      std::string e = expr();
      std::string name = "t" + std::to_string(s);
      src += "  " + name + " = " + e + "\n";
      names_.push_back(name);
    }
    // Use several values at the end, so fan-out reaches the result through many paths.
    src += "  return " + names_.back() + " + 0.5 * " + any() + " * " + any() + "\n}\n";
    return src;
  }

private:
  std::string any() { return names_[rng_() % names_.size()]; }
  // Prefers recent values: deep chains, with fan-out from older ones.
  std::string recent() {
    size_t n = names_.size();
    size_t back = rng_() % std::min<size_t>(n, 5);
    return rng_() % 4 == 0 ? any() : names_[n - 1 - back];
  }
  std::string expr() {
    std::string a = recent(), b = recent();
    std::string c = std::to_string(static_cast<int>(rng_() % 5) + 1) + ".5";
    std::string e;
    switch (rng_() % 39) {
    case 0: e = a + " + " + b; break;
    case 1: e = a + " - " + b; break;
    case 2: e = a + " * " + b; break;
    case 3: e = a + " / (" + b + "*" + b + " + 1)"; break;
    case 4: e = "-" + a; break;
    case 5: e = "exp(tanh(" + a + "))"; break;
    case 6: e = "log(" + a + "*" + a + " + 0.5)"; break;
    case 7: e = "sqrt(" + a + "*" + a + " + 0.25)"; break;
    case 8: e = "sin(" + a + ")"; break;
    case 9: e = "cos(" + a + " * " + b + ")"; break;
    case 10: e = "tanh(" + a + ")"; break;
    case 11: e = "sigmoid(" + a + " - " + b + ")"; break;
    case 12: e = "relu(" + a + ")"; break;
    case 13: e = "abs(" + a + ")"; break;
    case 14: e = "max(" + a + ", " + b + ")"; break;
    case 15: e = "min(" + a + ", " + b + ")"; break;
    case 16: e = "(" + a + "*" + a + " + 0.5)^tanh(" + b + ")"; break;
    case 17: e = "pow(" + a + ", 2) / " + c; break;
    case 18: e = a + "^3 / " + c; break;
    case 19: e = "where(" + a + " > " + b + ", " + a + " * " + c + ", " + b + ")"; break;
    case 20: e = "-" + a + "^2 + " + b; break;
    // The math library, on arguments inside each function's domain and bounded (so that no
    // value grows large enough for cos(a * b) to amplify a rounding difference past 1e-12).
    case 21: e = "log1p(" + a + "*" + a + ")"; break;
    case 22: e = "expm1(tanh(" + a + "))"; break;
    case 23: e = "erf(" + a + ") - erfc(" + b + ")"; break;
    case 24: e = "lgamma(tanh(" + a + ")^2 * 3 + 0.25)"; break;
    case 25: e = "digamma(tanh(" + a + ")^2 * 3 + 0.25)"; break;
    case 26: e = "tan(tanh(" + a + "))"; break;
    case 27: e = "asin(0.9 * tanh(" + a + ")) + acos(0.9 * tanh(" + b + "))"; break;
    case 28: e = "atan(" + a + ")"; break;
    case 29: e = "sinh(tanh(" + a + ")) * cosh(tanh(" + b + "))"; break;
    case 30: e = "log2(" + a + "*" + a + " + 0.5) - log10(" + b + "*" + b + " + 0.5)"; break;
    case 31: e = "exp2(tanh(" + a + "))"; break;
    case 32: e = "softplus(tanh(" + a + ") * " + c + ")"; break;
    case 33: e = "atan2(" + a + ", " + b + "*" + b + " + 0.5)"; break;
    case 34: e = "hypot(tanh(" + a + "), tanh(" + b + ") + 1.5)"; break;
    case 35: e = "clamp(" + a + ", -0.5, " + b + "*" + b + " + 0.5)"; break;
    case 36: e = "square(" + a + ") / " + c; break;
    // Piecewise constant: no gradient, and a jump that a value lands on only by chance.
    case 37: e = "floor(" + a + " * 3) * 0.25 + ceil(" + b + ") * 0.5 - round(" + a + " + " + b + ") * 0.125 + " + a; break;
    default: e = c + " * " + a + " - " + b + " / " + c; break;
    }
    return rng_() % 3 == 0 ? "tanh(" + e + ")" : e;
  }

  std::mt19937_64 rng_;
  std::vector<std::string> names_;
};

} // namespace gradc::test
