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
  PieceLowering pieces(in, lowering, !llvmIr);
  out->abi = pieces.abi();
  st.scheduleMs = msSince(t);
  unsigned threads = opts.threads ? opts.threads : std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  out->jit = JitModule::create(pieces, codegen, threads, error, llvmIr);
  if (!out->jit)
    return nullptr;
  const JitModule::Stats &js = out->jit->stats;
  st.lowerMs = js.lowerMs;
  st.llvmOptMs = js.optimizeMs;
  st.codegenMs = js.codegenMs;
  st.backendWallMs = js.wallMs;
  st.backendThreads = js.threads;
  st.llvmModules = js.modules;
  st.llvmInstructions = js.instructions;

  t = std::chrono::steady_clock::now();
  const AbiSet &abi = out->abi;
  struct Lookup {
    std::string name;
    void **slot;
  } lookups[] = {
      {abi.value.symbol, &out->value},
      {abi.grad.symbol, &out->grad},
      {abi.workspaceSizeSymbol, &out->workspaceSize},
      {abi.value.symbol + "__packed", reinterpret_cast<void **>(&out->valuePacked)},
      {abi.grad.symbol + "__packed", reinterpret_cast<void **>(&out->gradPacked)},
      {abi.workspaceSizeSymbol + "__packed", reinterpret_cast<void **>(&out->workspaceSizePacked)},
  };
  for (Lookup &l : lookups) {
    if (!lowering.valueEntry && (l.slot == &out->value || l.slot == reinterpret_cast<void **>(&out->valuePacked)))
      continue;
    *l.slot = out->jit->lookup(l.name, error);
    if (!*l.slot)
      return nullptr;
  }
  st.linkMs = msSince(t);
  return out;
}

} // namespace gradc
