// Output.cpp: round-trip number formatting and nested-array printing.
#include "Output.h"

#include "support/Numbers.h"

#include <charconv>
#include <cmath>

namespace gradc::cli {

std::string formatNumber(double v) { return shortestText(v); }

static std::string number(double v, bool json) {
  std::string s = formatNumber(v);
  return json && !std::isfinite(v) ? "\"" + s + "\"" : s;
}

std::string formatTensor(const Tensor &t, bool json) {
  if (t.shape.empty() && t.data.empty())
    return "null";
  return nestedText(t, json ? +[](double v) { return number(v, true); } : +[](double v) { return number(v, false); });
}

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

} // namespace gradc::cli
