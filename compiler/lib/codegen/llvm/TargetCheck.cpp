// TargetCheck.cpp: the CPU is looked up in the target's own processor table (asking LLVM
// to build a subtarget for an unknown name prints a warning and ignores it, then fails on
// the first function), and 64-bit mode is checked where LLVM would make it fatal.
#include "codegen/llvm/TargetCheck.h"

#include "gradc/Diagnostics.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/ErrorHandling.h>
#include <llvm/TargetParser/Triple.h>

#include <memory>
#include <mutex>
#include <new>

namespace gradc {

std::string checkTargetCpu(const llvm::Target &target, const std::string &triple, const std::string &cpu) {
  std::unique_ptr<llvm::MCSubtargetInfo> generic(target.createMCSubtargetInfo(triple, "", ""));
  if (!generic)
    return "the target '" + triple + "' has no subtarget information";
  if (!generic->isCPUStringValid(cpu)) {
    // The nearest names by edit distance, for a typo ("skylak").
    std::string near;
    unsigned best = 3;
    for (const llvm::SubtargetSubTypeKV &p : generic->getAllProcessorDescriptions()) {
      unsigned d = llvm::StringRef(p.Key).edit_distance(cpu, true, best);
      if (d < best) {
        best = d;
        near = p.Key;
      }
    }
    return "unknown CPU '" + cpu + "' for " + triple +
           (near.empty() ? " (see `llc-19 -mtriple=" + triple + " -mcpu=help` for the list)"
                         : " (did you mean '" + near + "'?)");
  }
  llvm::Triple t(triple);
  if (t.getArch() == llvm::Triple::x86_64) {
    std::unique_ptr<llvm::MCSubtargetInfo> sti(target.createMCSubtargetInfo(triple, cpu, ""));
    if (!sti || !sti->checkFeatures("+64bit"))
      return "CPU '" + cpu + "' cannot run 64-bit code, which " + triple + " needs";
  }
  return "";
}

namespace {

void throwFatal(void *, const char *reason, bool) {
  throw InternalError(std::string("LLVM error: ") + reason);
}

void throwBadAlloc(void *, const char *, bool) { throw std::bad_alloc(); }

} // namespace

void installLlvmErrorHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::install_fatal_error_handler(throwFatal, nullptr);
    llvm::install_bad_alloc_error_handler(throwBadAlloc, nullptr);
  });
}

} // namespace gradc
