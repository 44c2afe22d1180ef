// LowerToLlvm.cpp: a source function's exports as LLVM IR: its loop IR (loops/LowerModule.h),
// printed (codegen/llvm/LlvmPrinter.h), in one module or in pieces.
#include "codegen/llvm/LowerToLlvm.h"

#include "codegen/llvm/LlvmPrinter.h"
#include "loops/LowerModule.h"

#include <cstdlib>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

namespace gradc {

namespace {

// The loop IR was verified; LLVM's verifier checks the printer again where asked (checked
// builds, the test suite): see GRADC_VERIFY_LLVM in CMakeLists.txt.
bool verifyLlvm() {
#ifdef GRADC_VERIFY_LLVM
  return true;
#else
  static const bool on = [] {
    const char *v = std::getenv("GRADC_VERIFY_LLVM");
    return v && *v && std::string(v) != "0";
  }();
  return on;
#endif
}

} // namespace

AbiSet lowerFunction(const LoweringInput &in, llvm::Module &m, const LoweringOptions &opts) {
  loops::SourceLowering source(in, opts, false);
  source.lowerPiece(0, [&](std::unique_ptr<loops::Func> f) { printLlvm(*f, m); });
  // The caller verifies the whole module once: verifying it after every function made a
  // file of n functions cost O(n^2) (2,000 functions: 12 s).
  return source.abi();
}

PieceLowering::PieceLowering(const LoweringInput &in, const LoweringOptions &opts, bool split, bool halves)
    : in_(in), source_(std::make_unique<loops::SourceLowering>(in, opts, split, halves)) {}

PieceLowering::~PieceLowering() = default;

const AbiSet &PieceLowering::abi() const { return source_->abi(); }

size_t PieceLowering::pieces() const { return source_->pieces(); }
bool PieceLowering::chunked() const { return source_->chunked(); }

std::unique_ptr<llvm::Module> PieceLowering::Lowerer::lower(size_t k) {
  auto m = std::make_unique<llvm::Module>(
      k == 0 ? p_.in_.fn->name : p_.in_.fn->name + ".piece" + std::to_string(k), ctx_);
  p_.source_->lowerPiece(k, [&](std::unique_ptr<loops::Func> f) { printLlvm(*f, *m); });
  if (verifyLlvm()) {
    std::string err;
    llvm::raw_string_ostream os(err);
    if (llvm::verifyModule(*m, &os))
      internalError("the LLVM IR gradc generated is invalid: " + os.str());
  }
  return m;
}

} // namespace gradc
