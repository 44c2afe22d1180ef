// MathFunctions.cpp: the one list of math functions compiled code applies (MathFn), read by
// the loop IR's verifier and printer, both code generators and the JIT's symbol table.
#include "ir/MathFunctions.h"

#include <cmath>
#include <cstddef>
#include <limits>


namespace gradc {

const MathFnInfo &mathFnInfo(MathFn fn) {
  static const MathFnInfo table[] = {
      {"exp", 1, true},    {"log", 1, true},     {"sqrt", 1, true},   {"sin", 1, true},
      {"cos", 1, true},    {"tanh", 1, true},    {"fabs", 1, true},   {"pow", 2, true},
      {"maximum", 2, false}, {"minimum", 2, false},
      {"log1p", 1, true},  {"expm1", 1, true},   {"erf", 1, true},    {"erfc", 1, true},
      {"lgamma", 1, true}, {"tan", 1, true},     {"asin", 1, true},   {"acos", 1, true},
      {"atan", 1, true},   {"atan2", 2, true},   {"sinh", 1, true},   {"cosh", 1, true},
      {"log2", 1, true},   {"log10", 1, true},   {"exp2", 1, true},   {"hypot", 2, true},
      {"floor", 1, true},  {"ceil", 1, true},    {"trunc", 1, true},  {"nearbyint", 1, true},
  };
  static_assert(sizeof(table) / sizeof(table[0]) == static_cast<size_t>(MathFn::Count));
  return table[static_cast<size_t>(fn)];
}

double evalMathFn(MathFn fn, double a, double b) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  switch (fn) {
  case MathFn::Exp: return std::exp(a);
  case MathFn::Log: return std::log(a);
  case MathFn::Sqrt: return std::sqrt(a);
  case MathFn::Sin: return std::sin(a);
  case MathFn::Cos: return std::cos(a);
  case MathFn::Tanh: return std::tanh(a);
  case MathFn::Fabs: return std::fabs(a);
  case MathFn::Pow: return std::pow(a, b);
  // NaN-propagating; +0 above -0 (as LLVM's maximum and minimum)
  case MathFn::Maximum: return a != a || b != b ? nan : a == b ? (std::signbit(a) ? b : a) : a > b ? a : b;
  case MathFn::Minimum: return a != a || b != b ? nan : a == b ? (std::signbit(a) ? a : b) : a < b ? a : b;
  case MathFn::Log1p: return std::log1p(a);
  case MathFn::Expm1: return std::expm1(a);
  case MathFn::Erf: return std::erf(a);
  case MathFn::Erfc: return std::erfc(a);
  case MathFn::Lgamma: return std::lgamma(a);
  case MathFn::Tan: return std::tan(a);
  case MathFn::Asin: return std::asin(a);
  case MathFn::Acos: return std::acos(a);
  case MathFn::Atan: return std::atan(a);
  case MathFn::Atan2: return std::atan2(a, b);
  case MathFn::Sinh: return std::sinh(a);
  case MathFn::Cosh: return std::cosh(a);
  case MathFn::Log2: return std::log2(a);
  case MathFn::Log10: return std::log10(a);
  case MathFn::Exp2: return std::exp2(a);
  case MathFn::Hypot: return std::hypot(a, b);
  case MathFn::Floor: return std::floor(a);
  case MathFn::Ceil: return std::ceil(a);
  case MathFn::Trunc: return std::trunc(a);
  case MathFn::Nearbyint: return std::nearbyint(a);
  case MathFn::Count: break;
  }
  return nan;
}

} // namespace gradc
