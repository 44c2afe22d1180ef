// Verifier.h: the rules of the loop IR that its factories cannot check one node at a time:
// scopes of loop variables and locals, holes only in accumulations, returns of the function's
// type. A violation is a bug in the lowering (an internal error).
#pragma once

#include "loops/LoopIR.h"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace gradc::loops {

/// Empty when `f` follows the rules; otherwise the first violation.
std::string verify(const Func &f);
/// Functions met one at a time (a module streamed function by function): each verified, and
/// every call of one of them must match its definition, whichever comes first.
class ModuleVerifier {
public:
  /// Empty when `f` follows the rules and agrees with the functions added before.
  std::string add(const Func &f);

private:
  struct Signature {
    Ty ret;
    std::vector<Ty> params;
    bool operator==(const Signature &) const = default;
  };
  std::string agree(const std::string &symbol, const Signature &s, bool defined, const std::string &caller,
                    bool shared = false);
  std::unordered_map<std::string, Signature> defined_, called_;
  std::unordered_map<std::string, std::string> caller_; // the first caller of each called symbol
  std::unordered_set<std::string> shared_;              // defined by a `shared` function
};

/// Every function of `m`; calls of the module's functions must match their signatures.
std::string verify(const Module &m);

} // namespace gradc::loops
