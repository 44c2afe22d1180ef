// ObjectEmitter.cpp: TargetMachine setup (triple, CPU, features, PIC) and object emission.
#include "codegen/llvm/ObjectEmitter.h"

#include "codegen/llvm/Optimize.h"
#include "codegen/llvm/TargetCheck.h"

#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/SubtargetFeature.h>

#include <memory>
#include <mutex>

namespace gradc {

static void initializeAllTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
  });
  configureCodeGeneration();
}

bool emitObjectFile(llvm::Module &m, const CodegenOptions &opts, const std::string &path,
                    std::string &error, std::string *optimizedIr) {
  initializeAllTargets();
  bool host = opts.triple.empty();
  std::string triple = host ? llvm::sys::getDefaultTargetTriple() : opts.triple;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) {
    error = "unknown target '" + triple + "': " + error;
    return false;
  }
  installLlvmErrorHandlers();
  std::string cpu = opts.targetCpu == "native" && host ? "" : opts.targetCpu;
  if (!cpu.empty())
    if (error = checkTargetCpu(*target, triple, cpu); !error.empty())
      return false;
  llvm::SubtargetFeatures features;
  if (cpu.empty() && host) { // tuned for this machine, as -march=native
    cpu = llvm::sys::getHostCPUName().str();
    for (const auto &[name, on] : llvm::sys::getHostCPUFeatures())
      features.AddFeature(name, on);
  } else if (cpu.empty()) {
    cpu = "generic";
  }
  int level = chooseOptLevel(m, opts.optLevel);
  llvm::TargetOptions to;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features.getString(), to, llvm::Reloc::PIC_, std::nullopt,
      level >= 3 ? llvm::CodeGenOptLevel::Aggressive
      : level == 0 ? llvm::CodeGenOptLevel::None
                   : llvm::CodeGenOptLevel::Default));
  if (!tm) {
    error = "cannot generate code for '" + triple + "' with CPU '" + cpu + "'";
    return false;
  }
  m.setTargetTriple(triple);
  m.setDataLayout(tm->createDataLayout());
  optimizeModule(m, *tm, level);
  // Math library calls go through the GOT, not a PLT stub (as -fno-plt): one indirect call
  // instead of a call and a jump, which shows on small functions such as the neuron's.
  if (tm->isPositionIndependent())
    for (llvm::Function &f : m)
      if (f.isDeclaration())
        f.addFnAttr(llvm::Attribute::NonLazyBind);
  if (optimizedIr) {
    llvm::raw_string_ostream ir(*optimizedIr);
    m.print(ir, nullptr);
    return true;
  }

  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + path + "': " + ec.message();
    return false;
  }
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, out, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit object files";
    return false;
  }
  pm.run(m);
  out.flush();
  if (out.has_error()) {
    error = "cannot write '" + path + "'";
    out.clear_error();
    return false;
  }
  return true;
}

} // namespace gradc
