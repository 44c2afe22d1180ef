// Jit.h: LLVM's optimization pipeline and the ORC LLJIT, behind two small functions.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "codegen/llvm/LowerToLlvm.h"
#include "codegen/llvm/Optimize.h"

#include <span>

namespace llvm {
class LLVMContext;
class MemoryBuffer;
class Module;
namespace orc {
class LLJIT;
}
} // namespace llvm

namespace gradc {

/// A function of the host process that JIT code calls by symbol.
struct HostSymbol {
  const char *name;
  void *address;
};

struct CodegenOptions {
  std::string targetCpu; // empty: the host CPU (and its features); "generic": baseline
  std::string triple;    // emitted objects only: empty for the host
  /// 3: the full O3 pipeline with loop and SLP vectorization. 0: no IR optimization and
  /// fast instruction selection, for giant straight-line code. -1: chosen by module size.
  int optLevel = -1;
  /// The JIT only: the host's functions its code calls by symbol (the host gemm and the
  /// tiled kernels compiled ahead of time, kernels/HostGemm.h).
  std::span<const HostSymbol> hostSymbols;
};

/// Native code for one module, in process. Freed (code and all) when destroyed.
class JitModule {
public:
  /// Lowers the pieces, optimizes them for the target and compiles them to machine code,
  /// on up to `threads` threads that each take the next piece until none is left, then
  /// adds the objects to a JIT. On failure returns nullptr and says why in `error` (an
  /// LLVM error turned into text, never an abort). `optimizedIr` receives each module's
  /// optimized IR, in piece order.
  /// `objects` (optional) receives a copy of each object, for the cache (ObjectCache.h).
  static std::unique_ptr<JitModule> create(const PieceLowering &lowering, const CodegenOptions &opts,
                                           size_t threads, std::string &error,
                                           std::string *optimizedIr = nullptr,
                                           std::vector<std::string> *objects = nullptr);
  /// A JIT of objects compiled before (by `create`, for these options), from the cache.
  static std::unique_ptr<JitModule> fromObjects(std::vector<std::unique_ptr<llvm::MemoryBuffer>> objects,
                                                const CodegenOptions &opts, std::string &error);
  /// What the code is generated for: the triple, CPU and features `opts` come to on this
  /// host (part of the cache key).
  static std::string targetDescription(const CodegenOptions &opts);
  ~JitModule();
  JitModule(const JitModule &) = delete;
  JitModule &operator=(const JitModule &) = delete;

  /// The address of an exported symbol, or nullptr (with `error`) when absent. The
  /// first lookup links the machine code.
  void *lookup(const std::string &symbol, std::string &error) const;

  /// What `create` did: milliseconds of each stage summed over the threads, and the
  /// wall-clock time they took together.
  struct Stats {
    double lowerMs = 0, optimizeMs = 0, codegenMs = 0, wallMs = 0;
    size_t instructions = 0, modules = 0, threads = 0;
  } stats;

private:
  JitModule() = default;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
};

/// Initializes LLVM's native target once per process (thread-safe).
void initializeNativeTarget();

} // namespace gradc
