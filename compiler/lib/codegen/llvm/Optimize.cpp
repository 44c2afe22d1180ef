// Optimize.cpp: the module pipeline of the new pass manager, for the target CPU.
#include "codegen/llvm/Optimize.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/TargetTransformInfo.h>
#include <llvm/IR/DerivedTypes.h>
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
constexpr size_t kManyFunctionsFactor = 5;
constexpr size_t kManyFunctions = 1000;

// A compact loop's tail in masked vectors pays only where the CPU has masked loads and stores
// (AVX and later). Elsewhere LLVM emulates them a lane at a time or leaves the loop scalar
// (ODE's gradient for a generic x86-64: 11 loops vectorized instead of 47, some with a branch
// per lane), so there the hint is dropped and such a loop keeps a scalar remainder.
void dropMaskedTailHints(llvm::Module &m, llvm::TargetMachine &tm) {
  const llvm::Function *any = nullptr;
  for (const llvm::Function &f : m)
    if (!f.isDeclaration())
      any = &f;
  if (!any)
    return;
  llvm::TargetTransformInfo tti = tm.getTargetTransformInfo(*any);
  auto *vector = llvm::FixedVectorType::get(llvm::Type::getDoubleTy(m.getContext()), 4);
  if (tti.isLegalMaskedLoad(vector, llvm::Align(8)) && tti.isLegalMaskedStore(vector, llvm::Align(8)))
    return;
  for (llvm::Function &f : m)
    for (llvm::BasicBlock &bb : f) {
      llvm::Instruction *latch = bb.getTerminator();
      llvm::MDNode *loop = latch ? latch->getMetadata(llvm::LLVMContext::MD_loop) : nullptr;
      if (!loop)
        continue;
      std::vector<llvm::Metadata *> kept{nullptr};
      for (unsigned k = 1; k < loop->getNumOperands(); ++k) {
        auto *hint = llvm::dyn_cast<llvm::MDNode>(loop->getOperand(k));
        auto *name = hint && hint->getNumOperands() ? llvm::dyn_cast<llvm::MDString>(hint->getOperand(0)) : nullptr;
        if (!name || name->getString() != kMaskedTailHint)
          kept.push_back(loop->getOperand(k));
      }
      if (kept.size() == loop->getNumOperands())
        continue;
      llvm::MDNode *without = llvm::MDNode::getDistinct(m.getContext(), kept);
      without->replaceOperandWith(0, without);
      latch->setMetadata(llvm::LLVMContext::MD_loop, without);
    }
}
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

namespace {

// The instructions of f outside loops that always run (on the way to its last return), counted
// up to just past `limit`. A branch's blocks (an edge part of a loop, run at most once) are
// small pieces, not a long line.
size_t straightLineInstructions(const llvm::Function &f, size_t limit) {
  llvm::DominatorTree dt(const_cast<llvm::Function &>(f));
  llvm::LoopInfo loops(dt);
  const llvm::BasicBlock *end = nullptr;
  for (const llvm::BasicBlock &bb : f)
    if (llvm::isa<llvm::ReturnInst>(bb.getTerminator()))
      end = &bb;
  size_t n = 0;
  for (const llvm::BasicBlock &bb : f) {
    if (!loops.getLoopFor(&bb) && (!end || dt.dominates(&bb, end)))
      n += bb.size();
    if (n > limit)
      break;
  }
  return n;
}

} // namespace

bool straightLineInstructionsExceed(const llvm::Module &m, size_t limit) {
  // Per function: O3's and the SelectionDAG's cost grows faster than the code within one
  // function, not across many, so a file of a few functions, each short, keeps O3 (ODE's file
  // at n = 64: 5x faster than at O0). The functions compiled on their own (noinline: the
  // chunks of one long program, which run one after another) count together: together they
  // are the long line. And a module of very many short functions is one long line as well:
  // O3 costs about half a millisecond per function however short (a file of 2,000 one-line
  // functions, 22,001 LLVM functions: 14.6 s at O3, 1.2 s at O0). Counting stops at the limit:
  // a giant module of chunks is decided after a few of them.
  size_t separate = 0, all = 0, functions = 0;
  for (const llvm::Function &f : m) {
    if (f.isDeclaration())
      continue;
    size_t n = straightLineInstructions(f, limit);
    if (n > limit || (all += n) > kManyFunctionsFactor * limit || ++functions > kManyFunctions)
      return true;
    if (f.hasFnAttribute(llvm::Attribute::NoInline) && (separate += n) > limit)
      return true;
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
  bool compact = m.getModuleFlag(kCompactModuleFlag) != nullptr;
  pto.SLPVectorization = level >= 2 && !compact;
  if (compact)
    dropMaskedTailHints(m, tm);
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
