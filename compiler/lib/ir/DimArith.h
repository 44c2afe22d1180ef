// DimArith.h: arithmetic on sizes. A size that is not `dim + literal` (`K*D`, `D*(D+1)/2`,
// `M-D`, `N/B`) is a derived dim: an entry of the DimTable computed from the dims it is made
// of. Each is kept once, under a canonical polynomial, so that one size written two ways
// (`D*K` and `K*D`) is one Dim and shapes compare equal. Derived dims are never arguments:
// wherever dim values are known (bound at compile time, passed to a function, inferred from
// inputs) the derived ones are computed from them, with their exact division checked.
#pragma once

#include "ir/Type.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gradc {

/// Dim::sym of an integer expression that is not a size (`-n`, a non-integer quotient of
/// literals, a polynomial too large to keep), and of one whose value is beyond 2^56.
constexpr int32_t kNotASize = -2;
constexpr int32_t kDimTooLarge = -3;

/// a op b for op in + - * /. The result is a size (sym >= -1), or sym kNotASize or
/// kDimTooLarge. Division by a literal that does not divide exactly is not a size when both
/// sides are literals (`1/3` is a number) and a derived dim otherwise (`D*(D+1)/2`, checked
/// when D is known); so is a division by zero.
Dim foldDims(const DimTable &dims, char op, const Dim &a, const Dim &b);
/// -a.
Dim negateDim(const DimTable &dims, const Dim &a);
/// The number of elements of `shape` as a size (`K*D` for [K, D]), or sym < -1.
Dim elementCountDim(const DimTable &dims, const Shape &shape);

/// The size a declared derived dim stands for, and the name it gets: `dim M = D*(D+1)/2`
/// names the derived dim M (so shapes print `[K, M]`), `dim m = n+1` is `n+1`.
/// `firstNew`: the table's size before `value` was evaluated (only a dim derived since then
/// is this declaration's own).
void declareDerivedDim(const DimTable &dims, int32_t declared, const Dim &value, size_t firstNew);
/// The size `sym` stands for: Dim{sym, 0}, or the size an Alias names.
Dim resolveDim(const DimTable &dims, int32_t sym);

/// The derived dims among `syms` and every derived dim they are made of, ascending (each
/// after the ones it is made of).
std::vector<int32_t> derivedClosure(const DimTable &dims, const std::vector<int32_t> &syms);
/// The declared dims `sym` is computed from (itself when it is declared).
void givenDimsOf(const DimTable &dims, int32_t sym, std::vector<int32_t> &out);

/// Every derived dim's value from the given ones in `values` (indexed by sym; entries of
/// derived dims are overwritten). Returns "" or, for the first derived dim of `needed` whose
/// value is not a whole number or beyond 2^56, why: "D*(D+1)/2 ... for D = 3". `known`
/// (optional) says which given dims have values: a derived dim of an unknown one is left.
std::string completeDimValues(const DimTable &dims, std::vector<int64_t> &values,
                              const std::vector<int32_t> &needed, std::vector<bool> *known = nullptr);
/// completeDimValues for the dims bound at compile time: adds every derived dim whose given
/// dims are all bound.
std::string completeBoundDims(const DimTable &dims, std::map<int32_t, int64_t> &bound,
                              const std::vector<int32_t> &needed);

/// The definition of a derived dim as text, for messages: "D*(D+1)/2".
std::string derivedDimText(const DimTable &dims, int32_t sym);
/// Why a derived dim cannot be given a value: "dim 'M' is (D*D+D)/2, computed from the dims
/// it is made of; give those", or "dim 'M' is declared as 5".
std::string derivedDimNotGiven(const DimTable &dims, int32_t sym);

} // namespace gradc
