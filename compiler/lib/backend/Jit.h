// Jit.h: LLVM's optimization pipeline and the ORC LLJIT, behind two small functions.
#pragma once

#include <memory>
#include <string>

#include "backend/Optimize.h"

namespace llvm {
class LLVMContext;
class Module;
namespace orc {
class LLJIT;
}
} // namespace llvm

namespace gradc {

struct CodegenOptions {
  std::string targetCpu; // empty: the host CPU (and its features); "generic": baseline
  std::string triple;    // emitted objects only: empty for the host
  /// 3: the full O3 pipeline with loop and SLP vectorization. 0: no IR optimization and
  /// fast instruction selection, for giant straight-line code. -1: chosen by module size.
  int optLevel = -1;
};

/// Native code for one module, in process. Freed (code and all) when destroyed.
class JitModule {
public:
  /// Optimizes `m` for the target and compiles it. On failure returns nullptr and
  /// says why in `error` (an LLVM error turned into text, never an abort).
  static std::unique_ptr<JitModule> create(std::unique_ptr<llvm::Module> m,
                                           std::unique_ptr<llvm::LLVMContext> ctx,
                                           const CodegenOptions &opts, std::string &error,
                                           std::string *optimizedIr = nullptr);
  ~JitModule();
  JitModule(const JitModule &) = delete;
  JitModule &operator=(const JitModule &) = delete;

  /// The address of an exported symbol, or nullptr (with `error`) when absent. The
  /// first lookup generates the machine code of the whole module.
  void *lookup(const std::string &symbol, std::string &error) const;

  /// Milliseconds spent in LLVM's IR optimizer.
  double optimizeMs = 0;

private:
  JitModule() = default;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
};

/// Initializes LLVM's native target once per process (thread-safe).
void initializeNativeTarget();

} // namespace gradc
