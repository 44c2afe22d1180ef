// DType.h: the element types of the language, shared by the syntax tree and the IR.
#pragma once

#include <cstdint>

namespace gradc {

enum class DType : uint8_t { F64, F32, I32, I64, Bool };
const char *dtypeName(DType t);

/// The step of a central difference, relative to max(1, |x|), for a function evaluated in
/// `t`: about cbrt(epsilon), which balances truncation against rounding error.
constexpr double centralDifferenceStep(DType t) { return t == DType::F32 ? 5e-3 : 6e-6; }

} // namespace gradc
