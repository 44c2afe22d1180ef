// Jit.cpp: new-pass-manager optimization for the host CPU, then ORC LLJIT.
#include "codegen/llvm/Jit.h"


#include "codegen/llvm/Optimize.h"
#include "codegen/llvm/TargetCheck.h"
#include "ir/MathFunctions.h"

#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <chrono>
#include <dlfcn.h>
#include <cmath>
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

namespace gradc {

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  configureCodeGeneration();
}

namespace {


// The C library functions compiled code calls. Fast instruction selection declines calls
// to the ones a target might expand inline (sin, cos, exp, ...) and falls back to the slow
// selector for each: at optimization level 0 they are called under private names instead,
// which the JIT binds to the same functions.
struct LibmFunction {
  std::string name;
  void *address;
};
// Every C library function of MathFn, f64 and f32, as this process has it.
const std::vector<LibmFunction> &libmFunctions() {
  static const std::vector<LibmFunction> all = [] {
    std::vector<LibmFunction> out;
    // libm by its own handle (gradc links it), so a host that loaded gradc locally finds it too.
    void *libm = dlopen("libm.so.6", RTLD_LAZY | RTLD_NOLOAD);
    for (int i = 0; i < static_cast<int>(MathFn::Count); ++i) {
      const MathFnInfo &info = mathFnInfo(static_cast<MathFn>(i));
      if (!info.inLibm)
        continue;
      for (std::string name : {std::string(info.name), std::string(info.name) + "f"})
        if (void *address = dlsym(libm ? libm : RTLD_DEFAULT, name.c_str()))
          out.push_back({name, address});
    }
    return out;
  }();
  return all;
}
constexpr const char *kLibmPrefix = "gradc.libm.";

void renameLibmCalls(llvm::Module &m) {
  for (const LibmFunction &f : libmFunctions())
    if (llvm::Function *decl = m.getFunction(f.name); decl && decl->isDeclaration())
      decl->setName(kLibmPrefix + f.name);
}

double msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// One thread's share of the work: it takes the next piece, lowers it into its own context,
// optimizes and compiles it to an object in memory, frees the module, and goes on.
struct PieceCompiler {
  const PieceLowering &lowering;
  llvm::orc::JITTargetMachineBuilder jtmb;
  int level; // -1: chosen by the module's size
  std::atomic<size_t> &next;
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> &objects;
  std::vector<std::string> *ir;
  JitModule::Stats stats;
  std::string error;

  void run() {
    llvm::LLVMContext ctx;
    PieceLowering::Lowerer lowerer(lowering, ctx);
    std::unique_ptr<llvm::TargetMachine> tm;
    int tmLevel = -2;
    for (size_t k; error.empty() && (k = next++) < objects.size();) {
      auto t = std::chrono::steady_clock::now();
      std::unique_ptr<llvm::Module> m = lowerer.lower(k);
      stats.lowerMs += msSince(t);
      stats.instructions += instructionCount(*m);
      int pieceLevel = level >= 0 ? level : chooseOptLevel(*m, -1);
      if (pieceLevel != tmLevel) {
        jtmb.setCodeGenOptLevel(pieceLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
                                : pieceLevel == 0 ? llvm::CodeGenOptLevel::None
                                                  : llvm::CodeGenOptLevel::Default);
        auto made = jtmb.createTargetMachine();
        if (!made) {
          error = llvm::toString(made.takeError());
          return;
        }
        tm = std::move(*made);
        tmLevel = pieceLevel;
      }
      m->setDataLayout(tm->createDataLayout());
      m->setTargetTriple(tm->getTargetTriple().str());
      t = std::chrono::steady_clock::now();
      optimizeModule(*m, *tm, pieceLevel);
      if (pieceLevel == 0)
        renameLibmCalls(*m);
      stats.optimizeMs += msSince(t);
      if (ir) {
        llvm::raw_string_ostream os((*ir)[k]);
        m->print(os, nullptr);
      }
      t = std::chrono::steady_clock::now();
      auto object = llvm::orc::SimpleCompiler(*tm)(*m);
      if (!object) {
        error = llvm::toString(object.takeError());
        return;
      }
      objects[k] = std::move(*object);
      m.reset();
      stats.codegenMs += msSince(t);
    }
  }
};

// The host's target machine builder, for `opts.targetCpu` (checked) when one is named.
// Empty on failure, with `error`.
std::optional<llvm::orc::JITTargetMachineBuilder> targetMachineBuilder(const CodegenOptions &opts,
                                                                       std::string &error) {
  initializeNativeTarget();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) {
    error = llvm::toString(jtmb.takeError());
    return std::nullopt;
  }
  installLlvmErrorHandlers();
  if (!opts.targetCpu.empty() && opts.targetCpu != "native") {
    std::string triple = jtmb->getTargetTriple().str(), lookupError;
    const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, lookupError);
    if (!target) {
      error = lookupError;
      return std::nullopt;
    }
    if (error = checkTargetCpu(*target, triple, opts.targetCpu); !error.empty())
      return std::nullopt;
    jtmb->setCPU(opts.targetCpu);
    jtmb->getFeatures() = llvm::SubtargetFeatures();
  }
  // What LLJIT sets for its JITLink linker (which links the objects below); with the JIT's
  // default (large) code model, fast instruction selection declines every call.
  jtmb->setRelocationModel(llvm::Reloc::PIC_);
  if (!jtmb->getCodeModel())
    jtmb->setCodeModel(llvm::CodeModel::Small);
  return std::move(*jtmb);
}

// Each piece compiled into `objects` (one per piece) on up to `threads` PieceCompilers;
// `stats` gets their sums and `optimizedIr` (if any) each module's IR, in piece order. False
// on failure, with `error`.
bool compilePieces(const PieceLowering &lowering, const llvm::orc::JITTargetMachineBuilder &jtmb, int level,
                   size_t threads, std::vector<std::unique_ptr<llvm::MemoryBuffer>> &objects,
                   JitModule::Stats &stats, std::string &error, std::string *optimizedIr) {
  auto start = std::chrono::steady_clock::now();
  std::atomic<size_t> next{0};
  std::vector<std::string> ir(optimizedIr ? lowering.pieces() : 0);
  threads = std::clamp<size_t>(threads, 1, lowering.pieces());
  std::vector<PieceCompiler> workers;
  for (size_t t = 0; t < threads; ++t)
    workers.push_back({lowering, jtmb, level, next, objects, optimizedIr ? &ir : nullptr, {}, {}});
  // Lowering reports a bug in gradc by an exception: it is thrown again on this thread.
  std::vector<std::exception_ptr> failed(threads);
  auto work = [&](size_t t) {
    try {
      workers[t].run();
    } catch (...) {
      failed[t] = std::current_exception();
      next = objects.size(); // the others stop after their piece
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t)
    pool.emplace_back(work, t);
  work(0);
  for (std::thread &t : pool)
    t.join();
  for (std::exception_ptr &e : failed)
    if (e)
      std::rethrow_exception(e);

  stats.wallMs = msSince(start);
  stats.modules = objects.size();
  stats.threads = threads;
  for (PieceCompiler &w : workers) {
    if (!w.error.empty()) {
      error = w.error;
      return false;
    }
    stats.lowerMs += w.stats.lowerMs;
    stats.optimizeMs += w.stats.optimizeMs;
    stats.codegenMs += w.stats.codegenMs;
    stats.instructions += w.stats.instructions;
  }
  if (optimizedIr)
    for (const std::string &text : ir)
      *optimizedIr += text;
  return true;
}

// A JIT holding `objects`, with the symbols they call from outside: the process's, the C
// library's math functions under their private names, and `host`. Null on failure,
// with `error`.
std::unique_ptr<llvm::orc::LLJIT> jitOf(llvm::orc::JITTargetMachineBuilder jtmb,
                                        std::vector<std::unique_ptr<llvm::MemoryBuffer>> &objects,
                                        std::span<const HostSymbol> host, std::string &error) {
  auto made = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create();
  if (!made) {
    error = llvm::toString(made.takeError());
    return nullptr;
  }
  std::unique_ptr<llvm::orc::LLJIT> jit = std::move(*made);
  // The C library's math functions (tanh, memset) come from the process.
  auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      jit->getDataLayout().getGlobalPrefix());
  if (!gen) {
    error = llvm::toString(gen.takeError());
    return nullptr;
  }
  jit->getMainJITDylib().addGenerator(std::move(*gen));
  llvm::orc::SymbolMap libm;
  for (const LibmFunction &f : libmFunctions())
    libm[jit->mangleAndIntern(kLibmPrefix + f.name)] = {
        llvm::orc::ExecutorAddr::fromPtr(f.address), llvm::JITSymbolFlags::Exported};
  for (const HostSymbol &f : host)
    libm[jit->mangleAndIntern(f.name)] = {llvm::orc::ExecutorAddr::fromPtr(f.address),
                                          llvm::JITSymbolFlags::Exported};
  if (llvm::Error e = jit->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(libm)))) {
    error = llvm::toString(std::move(e));
    return nullptr;
  }
  for (std::unique_ptr<llvm::MemoryBuffer> &object : objects)
    if (llvm::Error e = jit->addObjectFile(std::move(object))) {
      error = llvm::toString(std::move(e));
      return nullptr;
    }
  return jit;
}

} // namespace

JitModule::~JitModule() = default;

std::unique_ptr<JitModule> JitModule::create(const PieceLowering &lowering, const CodegenOptions &opts,
                                             size_t threads, std::string &error,
                                             std::string *optimizedIr, std::vector<std::string> *objectsOut) {
  std::optional<llvm::orc::JITTargetMachineBuilder> jtmb = targetMachineBuilder(opts, error);
  if (!jtmb)
    return nullptr;
  // Chunked code is long straight-line code: level 0 unless asked (chooseOptLevel would say
  // the same of the whole). Otherwise each piece is judged by its size.
  int level = opts.optLevel >= 0 ? opts.optLevel : lowering.chunked() ? 0 : -1;
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> objects(lowering.pieces());
  Stats stats;
  if (!compilePieces(lowering, *jtmb, level, threads, objects, stats, error, optimizedIr))
    return nullptr;
  if (objectsOut)
    for (const std::unique_ptr<llvm::MemoryBuffer> &o : objects)
      objectsOut->push_back(o->getBuffer().str());
  std::unique_ptr<JitModule> out(new JitModule());
  out->stats = stats;
  out->jit_ = jitOf(std::move(*jtmb), objects, opts.hostSymbols, error);
  if (!out->jit_)
    return nullptr;
  return out;
}

std::unique_ptr<JitModule> JitModule::fromObjects(std::vector<std::unique_ptr<llvm::MemoryBuffer>> objects,
                                                  const CodegenOptions &opts, std::string &error) {
  std::optional<llvm::orc::JITTargetMachineBuilder> jtmb = targetMachineBuilder(opts, error);
  if (!jtmb)
    return nullptr;
  std::unique_ptr<JitModule> out(new JitModule());
  out->stats.modules = objects.size();
  out->jit_ = jitOf(std::move(*jtmb), objects, opts.hostSymbols, error);
  if (!out->jit_)
    return nullptr;
  return out;
}

std::string JitModule::targetDescription(const CodegenOptions &opts) {
  std::string error;
  std::optional<llvm::orc::JITTargetMachineBuilder> jtmb = targetMachineBuilder(opts, error);
  if (!jtmb)
    return "unknown target: " + error;
  return jtmb->getTargetTriple().str() + " " + jtmb->getCPU() + " " + jtmb->getFeatures().getString();
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
