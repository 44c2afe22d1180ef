// Numbers.h: the one rule for reading a real number, whatever the input path (a source
// literal, `--at`, `--d-out`, a JSON file), so that what one path accepts no other refuses.
#pragma once

#include <string>
#include <string_view>

namespace gradc {

enum class NumberStatus {
  Ok,
  Malformed,  // not a decimal number
  OutOfRange, // beyond the range of double (1e400), or a non-zero value that rounds to 0 (1e-400)
};

/// Reads a decimal number: an optional sign, digits with an optional fraction (`1`, `1.5`,
/// `.5`, `5.`), an optional exponent (`e-3`). With `words`, also `nan`, `inf` and `-inf`.
/// Subnormal values (1e-320) are accepted: they are what gradc itself prints. No hex, no
/// leading or trailing text.
NumberStatus parseReal(std::string_view text, double &out, bool words = false);

/// The reason for a status other than Ok, to follow a quoted number: "is not a number", "is out
/// of range for f64 (...)".
std::string numberProblem(NumberStatus status);

/// An integral value (a label, an index) as decimal text, without converting a value
/// beyond int64's range to int64 (undefined behaviour): 2^63 prints as 9223372036854775808.
std::string integerText(double v);

/// The shortest text that reads back as the same double (what gradc prints everywhere);
/// "nan", "inf", "-inf".
std::string shortestText(double v);

} // namespace gradc
