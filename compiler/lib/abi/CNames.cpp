// CNames.cpp: the reserved-name table is data (ReservedCNames.inc, generated from the C
// library and headers); the patterns below are the ones the C and C++ standards and POSIX
// reserve, which no table can list.
#include "abi/CNames.h"

#include <algorithm>
#include <cstring>

namespace gradc {

namespace {

const char *const kReserved[] = {
#include "abi/ReservedCNames.inc"
};

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

} // namespace

std::span<const char *const> reservedCNameTable() { return kReserved; }

std::string unrenamableReason(std::string_view name) {
  if (startsWith(name, "_"))
    return "names beginning with '_' are reserved in C";
  if (name.find("__") != std::string_view::npos)
    return "names containing '__' are reserved in C++";
  if (startsWith(name, "gradc_") || startsWith(name, "GRADC_"))
    return "names beginning with 'gradc_' or 'GRADC_' are reserved for gradc's own";
  return "";
}

bool isReservedCName(std::string_view name) {
  if (name.empty() || !unrenamableReason(name).empty())
    return true;
  if (name.size() >= 2 && name.substr(name.size() - 2) == "_t")
    return true;
  // errno.h's E2BIG, EAGAIN, ...: 'E', then digits and capitals only (so that a trailing '_'
  // leaves the pattern).
  auto upperOrDigit = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); };
  if (name.size() >= 2 && name[0] == 'E' && std::all_of(name.begin() + 1, name.end(), upperOrDigit))
    return true;
  return std::binary_search(std::begin(kReserved), std::end(kReserved), name,
                            [](auto a, auto b) { return std::string_view(a) < std::string_view(b); });
}

std::string cIdentifier(const std::string &name) {
  if (!unrenamableReason(name).empty())
    return name;
  std::string out = name;
  while (isReservedCName(out))
    out += "_";
  return out;
}

} // namespace gradc
