// CNames.h: which names gradc may write into C (symbols, argument names in headers) and how
// a user name is made into one. One rule for the JIT's symbols, emitted objects, headers and
// C source (docs/ABI.md, "Names").
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace gradc {

/// Whether `name` is reserved in C output: a C or C++ keyword, a function or object that
/// libc or libm exports, a macro or type of the C standard headers (the table of
/// scripts/gen-reserved-names.sh), or a reserved pattern: a leading '_', '__' anywhere, a
/// '_t' suffix (POSIX types), 'E' followed by digits and capitals (errno.h), and gradc's own
/// 'gradc_' and 'GRADC_' prefixes.
bool isReservedCName(std::string_view name);

/// Why `name` cannot become a C identifier by appending '_' (it begins with '_', contains
/// "__", or begins with gradc's prefixes), or "" when it can.
std::string unrenamableReason(std::string_view name);

/// A user name as a C identifier: `name`, or `name` followed by as many '_' as make it not
/// reserved (`int` -> `int_`, `exp2` -> `exp2_`). Names with a non-empty
/// unrenamableReason() are returned unchanged (the caller refuses them).
std::string cIdentifier(const std::string &name);

/// The table of reserved names (without the patterns), sorted: for tests that use every one.
std::span<const char *const> reservedCNameTable();

} // namespace gradc
