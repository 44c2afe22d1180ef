// Optimize.h: LLVM's new-pass-manager pipelines, chosen by module size.
#pragma once

#include <cstddef>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace gradc {

/// The instruction count of a module: what the optimization level is chosen by.
size_t instructionCount(const llvm::Module &m);

/// Whether a module is giant straight-line code: a function with more than `limit`
/// instructions outside loops that always run (a branch's blocks are not counted), its
/// noinline functions (the chunks of one long program) with as many together, or more than
/// 1,000 functions or 5 x `limit` such instructions in all.
bool straightLineInstructionsExceed(const llvm::Module &m, size_t limit);

/// `requested` if >= 0; otherwise 0 (no IR passes, fast instruction selection) for giant
/// straight-line code (straightLineInstructionsExceed at a few thousand instructions), where
/// O3 and the SelectionDAG cost more than they gain (BENCHMARKS.md, "Compile time at scale"),
/// and 3 (O3, loop and SLP vectorization) for the rest. Loops (tensor code, the matrix
/// kernels) always want O3, whatever their size.
int chooseOptLevel(const llvm::Module &m, int requested);

/// Sets what LLVM's code generation does for every module gradc compiles, once per process,
/// before the first: loop strength reduction and x86's domain reassignment (integer logic
/// moved into AVX-512 mask registers) are off (BENCHMARKS.md, "Compile time"). LLVM
/// reads it from a process-wide option, so a host that compiles with LLVM itself sees it too.
void configureCodeGeneration();

/// The module flag of a module with kCompact loops (loops/CompactLoops.h): its pipeline has no
/// SLP vectorizer.
inline constexpr const char *kCompactModuleFlag = "gradc.compact";
/// The loop hint of a kCompact loop that asks for its tail in masked vectors; dropped by
/// optimizeModule for a CPU without masked loads and stores.
inline constexpr const char *kMaskedTailHint = "llvm.loop.vectorize.predicate.enable";

/// Runs the O1/O2/O3 pipeline for `tm`'s CPU (nothing at level 0).
void optimizeModule(llvm::Module &m, llvm::TargetMachine &tm, int level);

} // namespace gradc
