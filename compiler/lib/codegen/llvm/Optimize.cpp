// Optimize.cpp: the module pipeline of the new pass manager, for the target CPU.
#include "codegen/llvm/Optimize.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Target/TargetMachine.h>

namespace gradc {

namespace {
constexpr size_t kLargeModule = 3000;
} // namespace

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
    for (const llvm::BasicBlock &bb : f) {
      if (!loops.getLoopFor(&bb))
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
  pto.SLPVectorization = level >= 2;
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
