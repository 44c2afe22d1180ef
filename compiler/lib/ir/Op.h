// Op.h: the enumeration of IR ops, generated from Ops.def.
#pragma once

#include <cstdint>

namespace gradc {

enum class Op : uint8_t {
#define OP(name, spelling) name,
#include "ir/Ops.def"
  NumOps
};

constexpr int kNumOps = static_cast<int>(Op::NumOps);

} // namespace gradc
