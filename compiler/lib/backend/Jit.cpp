// Jit.cpp: new-pass-manager optimization for the host CPU, then ORC LLJIT.
#include "backend/Jit.h"

#include "backend/HostGemm.h"

#include "backend/Optimize.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <chrono>
#include <cmath>
#include <mutex>

namespace gradc {

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

namespace {


// The C library functions compiled code calls. Fast instruction selection declines calls
// to the ones a target might expand inline (sin, cos, exp, ...) and falls back to the slow
// selector for each: at optimization level 0 they are called under private names instead,
// which the JIT binds to the same functions.
struct LibmFunction {
  const char *name;
  void *address;
};
const LibmFunction kLibm[] = {
    {"exp", reinterpret_cast<void *>(static_cast<double (*)(double)>(&::exp))},
    {"log", reinterpret_cast<void *>(static_cast<double (*)(double)>(&::log))},
    {"sin", reinterpret_cast<void *>(static_cast<double (*)(double)>(&::sin))},
    {"cos", reinterpret_cast<void *>(static_cast<double (*)(double)>(&::cos))},
    {"tanh", reinterpret_cast<void *>(static_cast<double (*)(double)>(&::tanh))},
    {"pow", reinterpret_cast<void *>(static_cast<double (*)(double, double)>(&::pow))},
    {"expf", reinterpret_cast<void *>(static_cast<float (*)(float)>(&::expf))},
    {"logf", reinterpret_cast<void *>(static_cast<float (*)(float)>(&::logf))},
    {"sinf", reinterpret_cast<void *>(static_cast<float (*)(float)>(&::sinf))},
    {"cosf", reinterpret_cast<void *>(static_cast<float (*)(float)>(&::cosf))},
    {"tanhf", reinterpret_cast<void *>(static_cast<float (*)(float)>(&::tanhf))},
    {"powf", reinterpret_cast<void *>(static_cast<float (*)(float, float)>(&::powf))},
};
constexpr const char *kLibmPrefix = "gradc.libm.";

void renameLibmCalls(llvm::Module &m) {
  for (const LibmFunction &f : kLibm)
    if (llvm::Function *decl = m.getFunction(f.name); decl && decl->isDeclaration())
      decl->setName(std::string(kLibmPrefix) + f.name);
}

double msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

JitModule::~JitModule() = default;

std::unique_ptr<JitModule> JitModule::create(std::unique_ptr<llvm::Module> m,
                                             std::unique_ptr<llvm::LLVMContext> ctx,
                                             const CodegenOptions &opts, std::string &error,
                                             std::string *optimizedIr) {
  initializeNativeTarget();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) {
    error = llvm::toString(jtmb.takeError());
    return nullptr;
  }
  if (!opts.targetCpu.empty()) {
    jtmb->setCPU(opts.targetCpu);
    jtmb->getFeatures() = llvm::SubtargetFeatures();
  }
  int level = chooseOptLevel(*m, opts.optLevel);
  jtmb->setCodeGenOptLevel(level >= 3   ? llvm::CodeGenOptLevel::Aggressive
                           : level == 0 ? llvm::CodeGenOptLevel::None
                                        : llvm::CodeGenOptLevel::Default);
  auto tm = jtmb->createTargetMachine();
  if (!tm) {
    error = llvm::toString(tm.takeError());
    return nullptr;
  }
  m->setDataLayout((*tm)->createDataLayout());
  m->setTargetTriple((*tm)->getTargetTriple().str());

  std::unique_ptr<JitModule> out(new JitModule());
  auto t0 = std::chrono::steady_clock::now();
  optimizeModule(*m, **tm, level);
  if (level == 0)
    renameLibmCalls(*m);
  out->optimizeMs = msSince(t0);
  if (optimizedIr) {
    llvm::raw_string_ostream os(*optimizedIr);
    m->print(os, nullptr);
  }

  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
  if (!jit) {
    error = llvm::toString(jit.takeError());
    return nullptr;
  }
  out->jit_ = std::move(*jit);
  // The C library's math functions (tanh, memset) come from the process.
  auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      out->jit_->getDataLayout().getGlobalPrefix());
  if (!gen) {
    error = llvm::toString(gen.takeError());
    return nullptr;
  }
  out->jit_->getMainJITDylib().addGenerator(std::move(*gen));
  llvm::orc::SymbolMap libm;
  for (const LibmFunction &f : kLibm)
    libm[out->jit_->mangleAndIntern(std::string(kLibmPrefix) + f.name)] = {
        llvm::orc::ExecutorAddr::fromPtr(f.address), llvm::JITSymbolFlags::Exported};
  for (const HostGemmSymbol &f : hostGemmSymbols())
    libm[out->jit_->mangleAndIntern(f.name)] = {llvm::orc::ExecutorAddr::fromPtr(f.address),
                                                llvm::JITSymbolFlags::Exported};
  if (llvm::Error e = out->jit_->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(libm)))) {
    error = llvm::toString(std::move(e));
    return nullptr;
  }
  if (llvm::Error e = out->jit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(m), std::move(ctx)))) {
    error = llvm::toString(std::move(e));
    return nullptr;
  }
  return out;
}

void *JitModule::lookup(const std::string &symbol, std::string &error) const {
  auto sym = jit_->lookup(symbol);
  if (!sym) {
    error = llvm::toString(sym.takeError());
    return nullptr;
  }
  return sym->toPtr<void *>();
}

} // namespace gradc
