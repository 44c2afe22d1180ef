// DType.h: the element types of the language, shared by the syntax tree and the IR.
#pragma once

#include <cstdint>

namespace gradc {

enum class DType : uint8_t { F64, F32, I32, I64, Bool };
const char *dtypeName(DType t);

} // namespace gradc
