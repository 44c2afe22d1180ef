// Emit.h: `gradc emit`: checked functions -> an object file or C source, and its C header.
#pragma once

#include "pipeline/Compile.h"

#include <ostream>
#include <string>
#include <vector>

namespace gradc {

struct EmitOptions {
  BuildOptions build;      // bound dims, graph options, target CPU/triple
  std::string prefix;      // prepended to every symbol
  std::string sourceName;  // the .expr file, for the header's comments
  bool gradcheck = false;  // also f_gradcheck (emit --check)
};

/// Compiles `fns` (their graphs gain gradient nodes) into one object file at
/// `outBase.o` and its header at `outBase.h`. Returns false with `error` on failure.
bool emitObject(const std::vector<Function *> &fns, const DimTable &dims, const EmitOptions &opts,
                const std::string &outBase, std::string &error);

/// The same functions as self-contained C99 at `outBase.c`, with the same header at
/// `outBase.h` (`gradc emit --c`).
bool emitCSource(const std::vector<Function *> &fns, const DimTable &dims, const EmitOptions &opts,
                 const std::string &outBase, std::string &error);

/// A stage of what emit makes, written to `os` (`gradc emit --dump=STAGE`): "opt" (each
/// function's optimized value-and-gradient graph), "loops" (the loop IR both of the above
/// print) or "llvm" (the optimized LLVM IR of the object file).
bool dumpEmitted(const std::vector<Function *> &fns, const DimTable &dims, const EmitOptions &opts,
                 const std::string &stage, std::ostream &os, std::string &error);
/// The loop IR that both of the above print (`gradc emit --dump=loops`), written to `os`.
bool dumpEmittedLoops(const std::vector<Function *> &fns, const DimTable &dims, const EmitOptions &opts,
                      std::ostream &os, std::string &error);

} // namespace gradc
