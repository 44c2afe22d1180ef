// CPrinter.h: loop IR -> C99. A printer, as LlvmPrinter.h is: every decision about the code
// was made when the loop IR was built; this says how each node is spelled in C. The one
// liberty it takes is spelling: a reordered accumulation (a reduction) is printed as 32
// partial results, the form C compilers vectorize without reassociating anything themselves.
#pragma once

#include "codegen/c/CHelpers.h"
#include "loops/LoopIR.h"

#include <string>

namespace gradc::cgen {

/// The C name of a function symbol: itself when it is a C identifier; otherwise (an internal
/// function, "f_grad.chunk3") made one with the prefix gradc_, which no user symbol has.
std::string cSymbol(const std::string &symbol);

/// The functions and string tables of one C file, in the order added.
class CModulePrinter {
public:
  void add(const loops::Func &f);
  void add(const loops::StringTable &t);
  /// The helpers used, declarations of the internal functions, then every definition.
  std::string text() const;

private:
  CHelpers helpers_;
  std::string declarations_, definitions_;
};

} // namespace gradc::cgen
