// LoopText.h: loop IR as the printer writes it, and counts in it, for the loop IR's tests.
#pragma once

#include "loops/LoopIR.h"
#include "loops/Printer.h"

#include <sstream>
#include <string>

namespace gradc::test {

inline std::string loopText(const loops::Func &f) {
  std::ostringstream os;
  loops::print(os, f);
  return os.str();
}

/// How many times `what` stands in `s` (overlapping ones too).
inline size_t occurrences(const std::string &s, const std::string &what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1))
    ++n;
  return n;
}

} // namespace gradc::test
