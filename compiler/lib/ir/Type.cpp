// Type.cpp: printing and comparing shapes.
#include "ir/Type.h"

namespace gradc {

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F64:
    return "f64";
  case DType::F32:
    return "f32";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::Bool:
    return "bool";
  }
  return "?";
}

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

std::vector<int64_t> concreteShape(const Shape &shape, const std::vector<int64_t> &dimValues) {
  std::vector<int64_t> out;
  out.reserve(shape.size());
  for (const Dim &d : shape)
    out.push_back(dimValue(d, dimValues));
  return out;
}

int64_t checkedElementCount(const std::vector<int64_t> &sizes) {
  for (int64_t s : sizes)
    if (s < 0)
      return -1;
  int64_t count = 1;
  for (int64_t s : sizes) {
    if (s == 0)
      return 0;
    if (__builtin_mul_overflow(count, s, &count) || count > kMaxElements) {
      for (int64_t t : sizes) // a zero later on still makes the tensor empty
        if (t == 0)
          return 0;
      return -1;
    }
  }
  return count;
}

int64_t literalElementCount(const Shape &shape) {
  std::vector<int64_t> sizes;
  for (const Dim &d : shape)
    if (d.isLiteral())
      sizes.push_back(d.off);
  return checkedElementCount(sizes);
}

std::string maxElementsText() { return "2^56"; }

bool dimDifference(const Dim &a, const Dim &b, int64_t &diff) {
  if (a.sym != b.sym)
    return false;
  diff = a.off - b.off;
  return true;
}

} // namespace gradc
