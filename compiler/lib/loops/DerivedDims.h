// DerivedDims.h: the values of derived dims (`K*D`, `D*(D+1)/2`, ir/DimArith.h) in generated
// code, computed from the dims a function is given, and the entry check that they are whole
// numbers in range. Every function that reads dims (entries, workspace sizes, gradient
// checks) fills its dim values here, so the rule is written once.
#pragma once

#include "ir/Type.h"
#include "loops/LoopIR.h"

#include <vector>

namespace gradc::loops {

/// Sets dims[s] for the derived dims among `needed` and those they are made of, when their
/// dims have values: pure expressions of them (no statements), so it may run before the
/// entry checks. Their arithmetic wraps instead of overflowing; derivedDimsOk says when the
/// result means something.
void deriveDims(Func &f, const DimTable &table, std::vector<ExprId> &dims, const std::vector<int32_t> &needed);

/// True (at run time) when each derived dim among `syms`, and each it is made of, is a whole
/// number within 2^56 in magnitude (a quotient's divisor positive). Dims that are not
/// derived, or have no value here, are skipped.
ExprId derivedDimsOk(Func &f, const DimTable &table, const std::vector<ExprId> &dims,
                     const std::vector<int32_t> &syms);

} // namespace gradc::loops
