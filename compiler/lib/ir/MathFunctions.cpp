// MathFunctions.cpp: the one list of math functions compiled code applies (MathFn), read by
// the loop IR's verifier and printer, both code generators and the JIT's symbol table.
#include "ir/MathFunctions.h"

#include <cstddef>


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

} // namespace gradc
