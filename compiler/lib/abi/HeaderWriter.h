// HeaderWriter.h: the C header of emitted code: one prototype per exported function, with
// its source line and argument shapes in a comment, C99 and C++ alike.
#pragma once

#include "abi/Abi.h"

#include <string>
#include <vector>

namespace gradc {

struct HeaderFunction {
  const Function *fn;
  AbiSet abi;
  std::map<int32_t, int64_t> boundDims; // fixed at compile time, derived ones included
};

/// `text` made safe inside a C comment: no "*/" (which would end it), no "/*" (-Wcomment),
/// no "??" (a trigraph under -std=c99), no control characters.
std::string cCommentText(const std::string &text);

/// The header text. `guard` names the include guard, `source` the .expr file, `prefix`
/// the symbol prefix (for the ABI version function's name), `codeFile` the object or C
/// file that implements it; `gradcheck` adds the f_gradcheck prototypes (emit --check).
std::string writeHeader(const std::vector<HeaderFunction> &fns, const DimTable &dims,
                        const std::string &guard, const std::string &source,
                        const std::string &prefix, const std::string &codeFile, bool gradcheck = false);

} // namespace gradc
