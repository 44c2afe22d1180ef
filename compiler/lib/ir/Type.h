// Type.h: dtypes and shapes of IR values; sizes are literals or affine in one named dim.
#pragma once

#include "frontend/Ast.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc {

/// One axis size: `off` when sym < 0, else dims[sym] + off (so `n`, `n-1`, `4`).
struct Dim {
  int32_t sym = -1;
  int64_t off = 0;
  static Dim lit(int64_t n) { return {-1, n}; }
  bool isLiteral() const { return sym < 0; }
  bool operator==(const Dim &) const = default;
};

using Shape = std::vector<Dim>;

/// The names of a program's dims, indexed by Dim::sym.
struct DimTable {
  std::vector<std::string> names;
  std::string str(const Dim &d) const;
  std::string str(const Shape &s) const; // "[n, 3]"; "scalar" for []
};

struct Type {
  DType dtype = DType::F64;
  Shape shape;
  bool isScalar() const { return shape.empty(); }
  bool operator==(const Type &) const = default;
};

inline bool isFloat(DType t) { return t == DType::F64 || t == DType::F32; }
inline bool isInteger(DType t) { return t == DType::I32 || t == DType::I64; }

/// a - b when it is known at compile time (both literal, or the same dim).
bool dimDifference(const Dim &a, const Dim &b, int64_t &diff);

} // namespace gradc
