// ObjectEmitter.h: an LLVM module -> a relocatable object file for the host or a triple.
#pragma once

#include "codegen/llvm/Jit.h"

#include <string>

namespace llvm {
class Module;
}

namespace gradc {

/// Optimizes `m` for the target (host CPU unless opts.targetCpu / opts.triple say
/// otherwise) and writes a position-independent object file to `path`. On failure returns
/// false with the reason in `error`.
bool emitObjectFile(llvm::Module &m, const CodegenOptions &opts, const std::string &path,
                    std::string &error);

} // namespace gradc
