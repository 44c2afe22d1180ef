// Output.h: printing numbers and tensors, as text and as JSON.
#pragma once

#include "ir/OpTable.h"

#include <string>

namespace gradc::cli {

/// The shortest text that reads back as the same double; "nan", "inf", "-inf".
std::string formatNumber(double v);
/// A scalar, or nested arrays in row-major order: [[1, 2], [3, 4]].
std::string formatTensor(const Tensor &t, bool json);
/// A JSON string literal.
std::string jsonString(const std::string &s);

} // namespace gradc::cli
