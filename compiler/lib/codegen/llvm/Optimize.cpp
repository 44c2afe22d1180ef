// Optimize.cpp: the module pipeline of the new pass manager, for the target CPU.
#include "codegen/llvm/Optimize.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Target/TargetMachine.h>

#include <mutex>

namespace gradc {

namespace {
constexpr size_t kLargeModule = 3000;
} // namespace

// Loop strength reduction rewrites a loop's address arithmetic around its induction
// variables. On gradc's loops (a tile of six rows, fused element loops with many indexed
// reads) it took more than half of code generation (mlp2's gradient: llc 0.86 s with it, 0.33
// s without) and gained nothing measurable at run time: the loop IR already writes addresses
// as base + index that x86's addressing modes take whole.
// X86 domain reassignment moves integer logic into AVX-512 mask registers; on GMM's gradient
// it took a quarter of code generation (96 -> 71 ms without it), for no measured run time.
void configureCodeGeneration() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto &options = llvm::cl::getRegisteredOptions();
    for (const char *name : {"disable-lsr", "disable-x86-domain-reassignment"})
      if (auto it = options.find(name); it != options.end())
        it->second->addOccurrence(0, name, "true");
  });
}

size_t instructionCount(const llvm::Module &m) {
  size_t n = 0;
  for (const llvm::Function &f : m)
    n += f.getInstructionCount();
  return n;
}

bool straightLineInstructionsExceed(const llvm::Module &m, size_t limit) {
  size_t n = 0;
  // Counting stops at the limit: a giant module of chunks is decided after a few of them.
  for (const llvm::Function &f : m) {
    if (f.isDeclaration())
      continue;
    llvm::DominatorTree dt(const_cast<llvm::Function &>(f));
    llvm::LoopInfo loops(dt);
    // Only code that always runs: on the way to the function's last return. A branch's
    // blocks (an edge part of a loop, run at most once) are small pieces, not a long line.
    const llvm::BasicBlock *end = nullptr;
    for (const llvm::BasicBlock &bb : f)
      if (llvm::isa<llvm::ReturnInst>(bb.getTerminator()))
        end = &bb;
    for (const llvm::BasicBlock &bb : f) {
      if (!loops.getLoopFor(&bb) && (!end || dt.dominates(&bb, end)))
        n += bb.size();
      if (n > limit)
        return true;
    }
  }
  return false;
}

int chooseOptLevel(const llvm::Module &m, int requested) {
  if (requested >= 0)
    return requested;
  return straightLineInstructionsExceed(m, kLargeModule) ? 0 : 3;
}

void optimizeModule(llvm::Module &m, llvm::TargetMachine &tm, int level) {
  if (level <= 0)
    return;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = level >= 2;
  pto.SLPVectorization = level >= 2 && !m.getModuleFlag(kCompactModuleFlag);
  llvm::PassBuilder pb(&tm, pto);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel ol = level >= 3   ? llvm::OptimizationLevel::O3
                               : level == 2 ? llvm::OptimizationLevel::O2
                                            : llvm::OptimizationLevel::O1;
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(ol);
  mpm.run(m, mam);
}

} // namespace gradc
