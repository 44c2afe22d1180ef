// Type.h: dtypes and shapes of IR values; a size is a literal or a dim plus a literal, where
// the dim is declared (`dim n`) or derived from others (`D*(D+1)/2`, ir/DimArith.h).
#pragma once

#include "gradc/Diagnostics.h"
#include "ir/DType.h"

#include <cstdint>
#include <string>
#include <unordered_map>
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

/// How a dim's value is found: given (a declared dim, bound by `--dim` or an argument), or
/// computed from dims before it (ir/DimArith.h).
struct DimPoly {
  /// coef * the product of `atoms` (sorted, repeated for powers; none for the constant).
  struct Term {
    std::vector<int32_t> atoms;
    int64_t coef = 0;
    bool operator==(const Term &) const = default;
  };
  std::vector<Term> terms; // sorted by atoms, no zero coefficient
  int64_t den = 1;         // > 0; the value is sum(terms) / den, which must divide exactly
  bool operator==(const DimPoly &) const = default;
};
struct DimDef {
  enum Kind : uint8_t {
    Given,    // a declared dim: `dim n`
    Poly,     // a polynomial in earlier dims: `K*D`, `D*(D+1)/2`
    Quotient, // num / divisor, two sizes that are not constant multiples: `N/B`
    Alias,    // a declared name for another size: `dim M = D*(D+1)/2`, `dim m = n+1`
  } kind = Given;
  DimPoly poly;
  Dim num, divisor; // Quotient
  Dim alias;        // Alias
};

/// The dims of a program, indexed by Dim::sym: the declared ones first, in source order, then
/// the derived ones as the program first uses them. Deriving a dim happens in shape rules,
/// which see the table as const: it adds an entry and never changes one, so the table is
/// logically unchanged (`mutable`). Compilation of one program is single-threaded up to
/// lowering, which derives nothing new.
struct DimTable {
  mutable std::vector<std::string> names;
  mutable std::vector<DimDef> defs; // parallel to names; missing entries are Given
  /// The derived dims by their definition's canonical text (ir/DimArith.cpp): finding one is
  /// a lookup, not a scan, however many a program derives.
  mutable std::unordered_map<std::string, int32_t> derivedIndex;

  const DimDef &def(int32_t sym) const;
  bool isDerived(int32_t sym) const { return def(sym).kind != DimDef::Given; }
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

/// The largest size of one axis: a shape literal, `--dim`, CompileOptions::dims.
constexpr int64_t kMaxDimSize = int64_t(1) << 40;
/// The most elements one tensor may have. Its bytes (8 per element at most, so up to 2^59)
/// and every index into it fit in 64-bit arithmetic, in the compiler and in generated code;
/// sums of such sizes (a workspace) are computed with overflow checks.
constexpr int64_t kMaxElements = int64_t(1) << 56;

/// The value of `d` for `dimValues` (indexed by Dim::sym).
inline int64_t dimValue(const Dim &d, const std::vector<int64_t> &dimValues) {
  return (d.isLiteral() ? 0 : dimValues[static_cast<size_t>(d.sym)]) + d.off;
}
/// The concrete sizes of `shape` for `dimValues`.
std::vector<int64_t> concreteShape(const Shape &shape, const std::vector<int64_t> &dimValues);
/// The number of elements of a tensor of concrete `sizes`, or -1 when a size is negative
/// or the count exceeds kMaxElements. Every element count in gradc is computed here (the
/// generated code's entry checks apply the same rule), so no product of sizes wraps.
int64_t checkedElementCount(const std::vector<int64_t> &sizes);
/// The product of the literal sizes of `shape`, or -1 beyond kMaxElements: a shape whose
/// literal part alone is too large is an error at compile time.
int64_t literalElementCount(const Shape &shape);
/// "2^56": how the element limit reads in messages.
std::string maxElementsText();

} // namespace gradc
