// Compile.h: a checked function -> native code: differentiate, optimize the graph, lower
// to LLVM IR, optimize and JIT-compile. What `gradc run` and the C++ API share.
#pragma once

#include "abi/Abi.h"
#include "codegen/llvm/Jit.h"
#include "codegen/llvm/ObjectCache.h"
#include "loops/LoweringInput.h"
#include "opt/Passes.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gradc {

struct BuildOptions {
  std::map<int32_t, int64_t> boundDims; // dims fixed at compile time (not arguments)
  OptOptions opt;
  LoweringOptions lowering;
  CodegenOptions codegen;
  /// The JIT's large matrix products call CBLAS, when gradc is built with it.
  bool blas = true;
  /// Threads for lowering and code generation: 0 for one per core, at most 8.
  unsigned threads = 0;
  /// The persistent cache of compiled objects (null: none) and the source text the function
  /// was checked from: with both, the objects are looked up and stored under a key of the
  /// source, the function's name, every option above and the target (cacheKeyOf).
  const ObjectCache *cache = nullptr;
  std::string source;
};

/// The cache key of `fn` compiled with `opts` (ObjectCache.h): every option that changes
/// the code is in it, by name, so that a new option must be added here to be built.
std::string cacheKeyOf(const Function &fn, const BuildOptions &opts);

/// Milliseconds of each stage, and sizes. Lowering, LLVM's optimization and code generation
/// run on `backendThreads` threads: their times are summed over the threads, and together
/// they took `backendWallMs`.
struct CompileStats {
  double differentiateMs = 0, optimizeGraphMs = 0, lowerMs = 0, llvmOptMs = 0, codegenMs = 0;
  double scheduleMs = 0, backendWallMs = 0, linkMs = 0;
  size_t forwardNodes = 0, gradientNodes = 0, optimizedNodes = 0, llvmInstructions = 0;
  size_t llvmModules = 0, backendThreads = 0;
  /// With a cache: whether the objects came from it, and the entry's file.
  bool cacheHit = false;
  std::string cacheEntry;
  std::vector<PassStat> passes;
};

/// A function compiled in process: its ABI and entry points (value and valuePacked null
/// without LoweringOptions::valueEntry).
struct CompiledFunction {
  AbiSet abi;
  std::unique_ptr<JitModule> jit;
  void *value = nullptr, *grad = nullptr, *workspaceSize = nullptr;
  // Packed entries: void (void **argv), argv[i] -> argument i, then -> the result.
  void (*valuePacked)(void **) = nullptr;
  void (*gradPacked)(void **) = nullptr;
  void (*workspaceSizePacked)(void **) = nullptr;
  CompileStats stats;
  // The optimized graph and its roots (value, then gradients), kept for run-time checks.
  std::shared_ptr<const Graph> graph;
  std::vector<NodeId> roots;
};

/// Compiles `fn` (its graph gains the gradient nodes). On failure returns nullptr with
/// the reason in `error`. `llvmIr`, when given, receives the optimized LLVM module text.
/// `loops`, when given, receives the loop IR (`--dump=loops`) and nothing is compiled: the
/// result has no JIT and no entry points.
std::unique_ptr<CompiledFunction> compileFunction(Function &fn, const BuildOptions &opts,
                                                  std::string &error, std::string *llvmIr = nullptr,
                                                  std::string *loops = nullptr);

} // namespace gradc
