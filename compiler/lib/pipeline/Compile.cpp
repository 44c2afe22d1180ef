// Compile.cpp: the stages from a checked function to callable native code.
#include "pipeline/Compile.h"

#include "ir/DimArith.h"

#include "support/Memory.h"

#include "autodiff/ReverseMode.h"
#include "kernels/HostGemm.h"
#include "codegen/llvm/LowerToLlvm.h"
#include "loops/LowerModule.h"
#include "loops/Printer.h"
#include "kernels/AheadOfTime.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

namespace gradc {

namespace {

double msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

std::string cacheKeyOf(const Function &fn, const BuildOptions &opts) {
  ObjectCacheKey key;
  key.add("source", opts.source).add("function", fn.name);
  std::string dims;
  for (auto [sym, v] : opts.boundDims)
    dims += std::to_string(sym) + "=" + std::to_string(v) + ";";
  key.add("boundDims", dims).add("fastMath", opts.opt.fastMath ? "1" : "0");
  const LoweringOptions &l = opts.lowering;
  key.add("chunks", std::to_string(l.chunkSteps) + "/" + std::to_string(l.chunkThreshold))
      .add("packedEntries", l.packedEntries ? "1" : "0")
      .add("valueEntry", l.valueEntry ? "1" : "0")
      // The threshold from which products go to OpenBLAS, as lowering will resolve it (it
      // depends on OpenBLAS's thread count).
      .add("hostGemmMinWork", std::to_string(l.hostGemmMinWork >= 0 ? l.hostGemmMinWork : hostGemmMinWork()))
      .add("prefix", l.prefix)
      .add("blas", opts.blas && hostGemmAvailable() ? "1" : "0")
      .add("runtimeKernels", aheadOfTimeKernels().empty() ? "0" : "1")
      .add("optLevel", std::to_string(opts.codegen.optLevel))
      .add("target", JitModule::targetDescription(opts.codegen));
  // What decides, in this process, whether a product goes to OpenBLAS (kernels/HostGemm.h).
  for (const char *env : {"GRADC_BLAS", "OPENBLAS_CORETYPE"}) {
    const char *v = std::getenv(env);
    key.add(env, v ? v : "(unset)");
  }
  return key.hex();
}

namespace {

// The compiled module's entry points into out's pointers; false (and why in `error`) when one
// is missing.
bool lookUpEntries(CompiledFunction &out, bool valueEntry, std::string &error) {
  const AbiSet &abi = out.abi;
  struct Lookup {
    std::string name;
    void **slot;
  } lookups[] = {
      {abi.value.symbol, &out.value},
      {abi.grad.symbol, &out.grad},
      {abi.workspaceSizeSymbol, &out.workspaceSize},
      {abi.value.symbol + "__packed", reinterpret_cast<void **>(&out.valuePacked)},
      {abi.grad.symbol + "__packed", reinterpret_cast<void **>(&out.gradPacked)},
      {abi.workspaceSizeSymbol + "__packed", reinterpret_cast<void **>(&out.workspaceSizePacked)},
  };
  for (Lookup &l : lookups) {
    if (!valueEntry && (l.slot == &out.value || l.slot == reinterpret_cast<void **>(&out.valuePacked)))
      continue;
    *l.slot = out.jit->lookup(l.name, error);
    if (!*l.slot)
      return false;
  }
  return true;
}

void copyBackendStats(const JitModule::Stats &js, CompileStats &st) {
  st.lowerMs = js.lowerMs;
  st.llvmOptMs = js.optimizeMs;
  st.codegenMs = js.codegenMs;
  st.backendWallMs = js.wallMs;
  st.backendThreads = js.threads;
  st.llvmModules = js.modules;
  st.llvmInstructions = js.instructions;
}

} // namespace

std::unique_ptr<CompiledFunction> compileFunction(Function &fn, const BuildOptions &opts,
                                                  std::string &error, std::string *llvmIr, std::string *loops) {
  if (std::string tooBig = checkCompileMemory(fn.graph->size()); !tooBig.empty()) {
    error = tooBig;
    return nullptr;
  }
  std::map<int32_t, int64_t> bound = opts.boundDims; // and the derived dims of bound ones
  if (error = completeBoundDims(fn.graph->dims(), bound, fn.mentionedDims()); !error.empty())
    return nullptr;
  if (error = checkBoundShapes(*fn.graph, bound); !error.empty())
    return nullptr;
  auto out = std::make_unique<CompiledFunction>();
  CompileStats &st = out->stats;
  auto t = std::chrono::steady_clock::now();
  GradientGraph gg = differentiate(fn);
  st.differentiateMs = msSince(t);
  st.forwardNodes = gg.forwardNodes;
  st.gradientNodes = gg.totalNodes;

  t = std::chrono::steady_clock::now();
  std::vector<NodeId> roots{gg.value};
  roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
  RewriteResult opt = optimizeGraph(fn.graph, roots, opts.opt, &st.passes);
  st.optimizeGraphMs = msSince(t);
  st.optimizedNodes = reachableCount(*opt.graph, opt.roots);
  out->graph = std::move(opt.graph);
  out->roots = opt.roots;

  t = std::chrono::steady_clock::now();
  LoweringInput in;
  in.fn = &fn;
  in.graph = out->graph.get();
  in.value = out->roots[0];
  in.gradRoots = out->roots;
  in.boundDims = bound;
  LoweringOptions lowering = opts.lowering;
  lowering.hostGemm = opts.blas;
  lowering.hostGemmAvailable = &hostGemmAvailable;
  lowering.hostGemmDefaultMinWork = &hostGemmMinWork;
  lowering.runtimeKernels = !aheadOfTimeKernels().empty();
  CodegenOptions codegen = opts.codegen;
  codegen.hostSymbols = jitHostSymbols();
  if (loops) {
    loops::SourceLowering source(in, lowering, false);
    out->abi = source.abi();
    std::ostringstream os;
    print(os, source.lowerPiece(0));
    *loops = os.str();
    return out;
  }
  // Long code is lowered and compiled in pieces, on several threads. A dump of the IR asks
  // for one module, which reads in order.
  unsigned threads = opts.threads ? opts.threads : std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  PieceLowering pieces(in, lowering, !llvmIr, threads > 1);
  out->abi = pieces.abi();
  st.scheduleMs = msSince(t);
  bool cached = opts.cache && opts.cache->enabled() && !opts.source.empty() && !llvmIr;
  std::string key = cached ? cacheKeyOf(fn, opts) : "";
  if (cached) {
    st.cacheEntry = opts.cache->path(key);
    if (auto objects = opts.cache->load(key)) {
      out->jit = JitModule::fromObjects(std::move(*objects), codegen, error);
      st.cacheHit = out->jit != nullptr;
    }
  }
  if (!out->jit) {
    std::vector<std::string> objects;
    out->jit = JitModule::create(pieces, codegen, threads, error, llvmIr, cached ? &objects : nullptr);
    if (!out->jit)
      return nullptr;
    if (cached)
      opts.cache->store(key, std::vector<std::string_view>(objects.begin(), objects.end()));
  }
  copyBackendStats(out->jit->stats, st);
  t = std::chrono::steady_clock::now();
  if (!lookUpEntries(*out, lowering.valueEntry, error))
    return nullptr;
  st.linkMs = msSince(t);
  return out;
}

} // namespace gradc
