// Numbers.cpp: decimal grammar first (strtod alone would take hex, "infinity" and leading
// blanks), then strtod for the value, then the range rule (ERANGE alone would refuse subnormals).
#include "support/Numbers.h"

#include <charconv>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace gradc {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Whether `t` is [+-] (d+ [. d*] | . d+) ([eE] [+-] d+)?; `nonzero` says whether a
// digit of the mantissa is not 0.
bool decimalGrammar(std::string_view t, bool &nonzero) {
  size_t i = 0, n = t.size();
  nonzero = false;
  if (i < n && (t[i] == '+' || t[i] == '-'))
    ++i;
  size_t digits = 0;
  for (; i < n && isDigit(t[i]); ++i, ++digits)
    nonzero = nonzero || t[i] != '0';
  if (i < n && t[i] == '.') {
    ++i;
    for (; i < n && isDigit(t[i]); ++i, ++digits)
      nonzero = nonzero || t[i] != '0';
  }
  if (digits == 0)
    return false;
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-'))
      ++i;
    size_t exp = 0;
    for (; i < n && isDigit(t[i]); ++i)
      ++exp;
    if (exp == 0)
      return false;
  }
  return i == n;
}

} // namespace

NumberStatus parseReal(std::string_view text, double &out, bool words) {
  if (words) {
    if (text == "nan") {
      out = std::numeric_limits<double>::quiet_NaN();
      return NumberStatus::Ok;
    }
    if (text == "inf" || text == "-inf") {
      out = text == "inf" ? INFINITY : -INFINITY;
      return NumberStatus::Ok;
    }
  }
  bool nonzero = false;
  if (!decimalGrammar(text, nonzero))
    return NumberStatus::Malformed;
  std::string copy(text); // strtod needs a terminated string
  double v = std::strtod(copy.c_str(), nullptr);
  if (std::isinf(v) || (v == 0.0 && nonzero))
    return NumberStatus::OutOfRange;
  out = v;
  return NumberStatus::Ok;
}

std::string integerText(double v) {
  if (v >= -0x1p63 && v < 0x1p63)
    return std::to_string(static_cast<int64_t>(v));
  char text[400];
  std::snprintf(text, sizeof text, "%.0f", v);
  return text;
}

std::string numberProblem(NumberStatus status) {
  return status == NumberStatus::OutOfRange
             ? "is out of range for f64 (magnitudes from about 4.9e-324 to 1.8e308)"
             : "is not a number";
}

std::string shortestText(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

} // namespace gradc
