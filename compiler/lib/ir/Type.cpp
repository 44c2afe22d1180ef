// Type.cpp: printing and comparing shapes.
#include "ir/Type.h"

namespace gradc {

std::string DimTable::str(const Dim &d) const {
  if (d.isLiteral())
    return std::to_string(d.off);
  std::string s = static_cast<size_t>(d.sym) < names.size() ? names[d.sym] : "?";
  if (d.off > 0)
    s += "+" + std::to_string(d.off);
  else if (d.off < 0)
    s += std::to_string(d.off);
  return s;
}

std::string DimTable::str(const Shape &s) const {
  if (s.empty())
    return "scalar";
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i)
      out += ", ";
    out += str(s[i]);
  }
  return out + "]";
}

bool dimDifference(const Dim &a, const Dim &b, int64_t &diff) {
  if (a.sym != b.sym)
    return false;
  diff = a.off - b.off;
  return true;
}

} // namespace gradc
