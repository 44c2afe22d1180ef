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
  if (t.shape.empty())
    return t.data.empty() ? "null" : number(t.data[0], json);
  std::string out;
  size_t rank = t.shape.size();
  std::vector<int64_t> idx(rank, 0);
  size_t n = t.data.size();
  for (size_t lin = 0; lin < n; ++lin) {
    // Open a bracket for every axis whose index is at its start.
    size_t opening = 0;
    for (size_t k = rank; k-- > 0 && idx[k] == 0;)
      ++opening;
    if (lin > 0)
      out += ", ";
    out.append(opening, '[');
    out += number(t.data[lin], json);
    size_t closing = 0;
    for (size_t k = rank; k-- > 0;) {
      if (++idx[k] < t.shape[k])
        break;
      idx[k] = 0;
      ++closing;
    }
    out.append(closing, ']');
  }
  return out;
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
