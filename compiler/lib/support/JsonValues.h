// JsonValues.h: reading a JSON object of named numeric values (`--at-file`): each value a
// number or a rectangular nested array of numbers. Limits hold while reading (size, nesting
// depth), numbers follow support/Numbers.h, and every error has a line, a column and a reason.
#pragma once

#include "gradc/Diagnostics.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gradc {

/// One named value: its numbers in row-major order and the shape of the nesting ({} for a
/// number, {2, 3} for [[1, 2, 3], [4, 5, 6]]).
struct JsonValue {
  std::vector<double> data;
  std::vector<int64_t> shape;
  /// The first element written as an integer that a double does not hold exactly (an i64
  /// label of 9223372036854775807): its row-major position and its text. Integer parameters
  /// refuse it with this text instead of a rounded value.
  std::optional<std::pair<size_t, std::string>> inexactInteger;
};

/// Nesting deeper than this is refused while reading (a tensor's rank is far lower).
constexpr size_t kMaxJsonDepth = 32;
/// The largest JSON file read (about 15 million numbers).
constexpr size_t kMaxJsonBytes = size_t(256) << 20;

/// Parses `text` (the contents of `file`). On failure returns nullopt with the error in `diags`
/// (constructed on a SourceFile holding the text), located at the offending token.
std::optional<std::map<std::string, JsonValue>> parseJsonValues(const std::string &text, Diagnostics &diags);

} // namespace gradc
