// TargetCheck.h: what gradc gives LLVM's code generator is checked first, and what LLVM
// still finds fatal comes back as an exception: a bad --target-cpu (or CompileOptions::
// targetCpu) is a diagnostic, never LLVM's abort() in the user's process.
#pragma once

#include <string>

namespace llvm {
class Target;
}

namespace gradc {

/// Empty when `cpu` is a CPU of `target` that can run code for `triple` (for x86-64, a CPU
/// with 64-bit mode); otherwise the error, with the nearest valid names.
std::string checkTargetCpu(const llvm::Target &target, const std::string &triple, const std::string &cpu);

/// Makes LLVM's fatal errors (report_fatal_error) throw gradc::InternalError and its
/// allocation failures std::bad_alloc, where LLVM would print and abort() the process.
/// Once per process; thread-safe.
void installLlvmErrorHandlers();

} // namespace gradc
