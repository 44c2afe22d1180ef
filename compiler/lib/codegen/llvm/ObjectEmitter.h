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
/// false with the reason in `error`. With `optimizedIr`, the optimized IR is put there
/// instead and nothing is written (`gradc emit --dump=llvm`).
bool emitObjectFile(llvm::Module &m, const CodegenOptions &opts, const std::string &path,
                    std::string &error, std::string *optimizedIr = nullptr);

} // namespace gradc
