// MathFunctions.h: the math functions compiled code applies to an element, listed once.
#pragma once

#include <cstdint>

namespace gradc {

/// The math functions an element may apply: the C library's (called by name, or expanded
/// inline by a code generator) and IEEE maximum/minimum. One list, in MathFunctions.cpp.
enum class MathFn : uint8_t {
  Exp, Log, Sqrt, Sin, Cos, Tanh, Fabs, Pow, Maximum, Minimum,
  Log1p, Expm1, Erf, Erfc, Lgamma, Tan, Asin, Acos, Atan, Atan2, Sinh, Cosh,
  Log2, Log10, Exp2, Hypot, Floor, Ceil, Trunc, Nearbyint,
  Count
};

/// A math function's facts: its C name (the f64 function; the f32 one adds `f`), its
/// operand count, and whether the C library has it (maximum and minimum are not C's).
struct MathFnInfo {
  const char *name;
  int arity;
  bool inLibm;
};
const MathFnInfo &mathFnInfo(MathFn fn);
/// The function applied to doubles, as compiled code computes it (`b` only for two operands).
double evalMathFn(MathFn fn, double a, double b = 0);

} // namespace gradc
