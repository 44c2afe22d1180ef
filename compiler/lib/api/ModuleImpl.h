// ModuleImpl.h: what a Module holds, shared by the API's source files.
#pragma once

#include "gradc/gradc.h"

#include "pipeline/Compile.h"
#include "pipeline/Pipeline.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gradc {

struct Module::Impl {
  bool compiled = false; // a default Module holds nothing
  std::vector<SourceDiagnostic> diagnostics;
  std::string rendered;
  std::shared_ptr<CompiledSource> source; // the program the compiled functions refer to
  std::vector<std::unique_ptr<CompiledFunction>> functions;

  struct Symbol {
    void *address;
    std::vector<std::string> types;
    std::string prototype;
    // For checked calls of f and f_grad: what was compiled, and which of the two.
    const CompiledFunction *compiled = nullptr;
    const Function *function = nullptr;
    bool gradient = false;
    std::vector<Argument> arguments; // f and f_grad only
  };
  std::map<std::string, Symbol> symbols;
  std::map<int32_t, int64_t> boundDims;
  /// The symbol, or LookupError (a module that did not compile, an unknown name).
  const Symbol &named(const std::string &symbol) const;
};

} // namespace gradc
