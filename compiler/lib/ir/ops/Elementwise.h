// Elementwise.h: what every file of elementwise ops shares (ElementwiseOps.cpp,
// MathLibraryOps.cpp): the shape rule of arithmetic and the entry builder.
#pragma once

#include "ir/OpTable.h"

namespace gradc {

/// Operands of one shape; the result takes the widest dtype, and arithmetic on integers or
/// masks gives f64.
bool arithmeticShape(const ShapeQuery &q, Type &out, std::string &error);

/// An elementwise op's entry: `i` holds the op's own rules; this fills in what follows from
/// being elementwise (evaluation by its scalar kernel, the VJP and JVP of a one-operand op
/// from its local derivative, no gradient without a VJP).
OpInfo elementwise(OpInfo i);

} // namespace gradc
