// Commands.cpp: `gradc run` and `gradc emit`, and what every command shares (CommandSupport.h);
// `gradc check` is CheckCommand.cpp.
#include "Commands.h"
#include "CommandSupport.h"

#include "Output.h"
#include "autodiff/ReverseMode.h"
#include "ir/DimArith.h"
#include "interp/Interpreter.h"
#include "pipeline/Compile.h"
#include "pipeline/Emit.h"
#include "pipeline/Invoke.h"
#include "pipeline/Pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <random>

namespace gradc::cli {

// Parses and checks the file; prints diagnostics. Returns nullptr on failure.
std::unique_ptr<CompiledSource> load(const CommonOptions &opts, int &exitCode) {
  auto source = std::make_shared<SourceFile>();
  source->name = opts.file;
  Diagnostics readDiags(source);
  auto text = readSourceFile(opts.file, readDiags);
  if (!text) {
    readDiags.render(std::cerr);
    exitCode = kUserError;
    return nullptr;
  }
  source->text = std::move(*text);
  Diagnostics diags(source);
  auto out = std::make_unique<CompiledSource>();
  auto t = std::chrono::steady_clock::now();
  // Functions are inlined when chosen: a file of many functions costs what is used.
  bool ok = compileSource(source, diags, *out, opts.dump == "ast", false);
  if (opts.stats)
    std::cerr << "stats: read " << source->text.size() << " bytes, parse and check "
              << std::fixed << std::setprecision(1)
              << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count()
              << " ms\n" << std::defaultfloat;
  if (!ok) {
    // Errors only in functions that --fn's function does not call: warnings, and it runs.
    const Function *chosen = opts.fn.empty() ? nullptr : out->program.find(opts.fn);
    if (chosen && !chosen->hasErrors && opts.dump != "ast") {
      diags.render(std::cerr, "warning");
      std::cerr << opts.file << ": note: the warnings above are errors in functions that '" << opts.fn
                << "' does not call; it is compiled without them\n";
      return out;
    }
    diags.render(std::cerr);
    exitCode = kUserError;
    return nullptr;
  }
  if (opts.dump == "ast") {
    out->ast.dump(std::cout);
    exitCode = kOk;
    return nullptr;
  }
  return out;
}

// The exported functions (not `local def`): what run, check and emit offer.
std::vector<size_t> exported(const Program &program) {
  std::vector<size_t> out;
  for (size_t i = 0; i < program.funcs.size(); ++i)
    if (!program.funcs[i].isLocal)
      out.push_back(i);
  return out;
}

// The names of the file's exported functions for a message: the first few, then how many more.
static std::string functionNames(const Program &program) {
  constexpr size_t kListed = 10;
  std::vector<size_t> fns = exported(program);
  std::string names;
  for (size_t i = 0; i < fns.size() && i < kListed; ++i)
    names += (i ? ", " : "") + program.funcs[fns[i]].name;
  if (fns.size() > kListed)
    names += " and " + std::to_string(fns.size() - kListed) + " more";
  return names;
}

Function *pickFunction(CompiledSource &cs, const CommonOptions &opts, int &exitCode) {
  auto &funcs = cs.program.funcs;
  std::vector<size_t> fns = exported(cs.program);
  if (opts.fn.empty()) {
    if (fns.size() == 1)
      return &cs.program.inlined(fns[0]);
    std::cerr << opts.file << ": error: "
              << (fns.empty() ? "every function of the file is local: export one (def without 'local')\n"
                              : "the file defines " + std::to_string(fns.size()) +
                                    " exported functions; choose one with --fn (" + functionNames(cs.program) + ")\n");
    exitCode = kUserError;
    return nullptr;
  }
  for (Function &f : funcs)
    if (f.name == opts.fn && !f.isLocal)
      return &cs.program.inlined(f);
  const Function *local = cs.program.find(opts.fn);
  std::cerr << opts.file << ": error: "
            << (local ? "function '" + opts.fn + "' is local (a helper of other functions, not exported); the file exports "
                      : "no function '" + opts.fn + "' (the file defines ")
            << functionNames(cs.program) << (local ? "\n" : ")\n");
  exitCode = kUserError;
  return nullptr;
}

Function *loadFunction(const CommonOptions &opts, std::unique_ptr<CompiledSource> &cs, int &exitCode) {
  cs = load(opts, exitCode);
  Function *fn = cs ? pickFunction(*cs, opts, exitCode) : nullptr;
  return fn && dumpStage(opts.dump, *fn) ? nullptr : fn;
}

static std::vector<std::string> rootNames(const Function &fn, const GradientGraph &gg) {
  std::vector<std::string> names{fn.name};
  for (size_t i = 0; i < fn.params.size(); ++i)
    names.push_back(gg.grads[i] == kNoNode ? "(const)" : "d_" + fn.params[i].name);
  return names;
}

// --dump=ir|grad prints the stage and stops.
bool dumpStage(const std::string &stage, Function &fn) {
  if (stage == "ir") {
    std::cout << "def " << fn.name << "\n";
    fn.graph->print(std::cout, {fn.result}, {fn.name});
    return true;
  }
  if (stage == "grad") {
    GradientGraph gg = differentiate(fn);
    std::vector<NodeId> roots{gg.value};
    roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
    std::cout << "def " << fn.name << "_grad  # " << gg.forwardNodes << " forward nodes, "
              << gg.totalNodes << " with the gradient\n";
    fn.graph->print(std::cout, roots, rootNames(fn, gg));
    return true;
  }
  return false;
}

// Compiles fn for the JIT engine; prints --stats and --dump=opt|llvm. Returns nullptr
// after printing why (or after a dump, with exitCode kOk).
std::unique_ptr<CompiledFunction> compileForJit(const CompiledSource &cs, Function &fn, const CommonOptions &opts,
                                                const std::map<int32_t, int64_t> &bound,
                                                int &exitCode) {
  static const ObjectCache cache(defaultObjectCacheConfig());
  BuildOptions co;
  if (!opts.noCache) {
    co.cache = &cache;
    co.source = cs.source->text;
  }
  co.boundDims = bound;
  co.opt.fastMath = opts.fastMath;
  co.codegen.targetCpu = opts.targetCpu;
  co.codegen.optLevel = opts.optLevel;
  co.blas = !opts.noBlas;
  co.threads = opts.threads;
  co.lowering.valueEntry = false; // run and check call f_grad, which returns the value too
  std::string error, ir, loops;
  auto cf = compileFunction(fn, co, error, opts.dump == "llvm" ? &ir : nullptr, opts.dump == "loops" ? &loops : nullptr);
  if (!cf) {
    std::cerr << opts.file << ": error: code generation failed: " << error << "\n";
    exitCode = kUserError;
    return nullptr;
  }
  if (opts.stats && opts.dump != "loops") {
    const CompileStats &st = cf->stats;
    std::cerr << "stats: " << st.forwardNodes << " forward nodes, " << st.gradientNodes
              << " with the gradient, " << st.optimizedNodes << " after optimization\n";
    for (const PassStat &p : st.passes)
      std::cerr << "stats:   " << std::left << std::setw(14) << p.pass << p.before << " -> "
                << p.after << " nodes\n";
    std::cerr << std::fixed << std::setprecision(1) << "stats: differentiate "
              << st.differentiateMs << " ms, optimize graph " << st.optimizeGraphMs
              << " ms, schedule " << st.scheduleMs << " ms\n"
              << "stats: lower " << st.lowerMs << " ms (" << st.llvmInstructions
              << " LLVM instructions in " << st.llvmModules << " module"
              << (st.llvmModules == 1 ? "" : "s") << "), LLVM optimize " << st.llvmOptMs
              << " ms, codegen " << st.codegenMs << " ms: " << st.backendWallMs << " ms on "
              << st.backendThreads << " thread" << (st.backendThreads == 1 ? "" : "s")
              << ", then link " << st.linkMs << " ms\n"
              << (st.cacheEntry.empty() ? "stats: cache not used\n"
                                        : std::string("stats: cache ") + (st.cacheHit ? "hit" : "miss, stored") + ": " +
                                              st.cacheEntry + "\n")
              << "stats: total " << std::chrono::duration<double, std::milli>(
                                        std::chrono::steady_clock::now() - opts.start).count()
              << " ms from reading the file to native code\n"
              << std::defaultfloat;
  }
  if (opts.dump == "opt") {
    std::vector<std::string> names{fn.name};
    for (size_t i = 0; i < fn.params.size(); ++i)
      names.push_back(fn.params[i].isConst ? "(const)" : "d_" + fn.params[i].name);
    std::cout << "def " << fn.name << "_grad  # optimized: " << cf->stats.optimizedNodes
              << " nodes\n";
    cf->graph->print(std::cout, cf->roots, names);
    exitCode = kOk;
    return nullptr;
  }
  if (opts.dump == "llvm" || opts.dump == "loops") {
    std::cout << (opts.dump == "llvm" ? ir : loops);
    exitCode = kOk;
    return nullptr;
  }
  return cf;
}

void reportRuntimeError(const CompiledSource &cs, const EvalResult &r) {
  Diagnostics d(cs.source);
  d.error(r.errorLoc, r.error);
  d.render(std::cerr);
}

int runCommand(const RunOptions &opts) {
  int code = kOk;
  std::unique_ptr<CompiledSource> cs;
  Function *fn = loadFunction(opts.common, cs, code);
  if (!fn)
    return code;
  std::string error;
  std::map<int32_t, int64_t> bound;
  if (!parseDims(opts.inputs.dims, *cs->program.dims, bound, error)) {
    std::cerr << opts.common.file << ": error: " << error << "\n";
    return kUserError;
  }
  if (!opts.common.dump.empty()) // opt, loops, llvm: compile, print, stop
    return compileForJit(*cs, *fn, opts.common, bound, code) ? kOk : code;
  auto inputs = bindInputs(*fn, *cs->program.dims, opts.inputs, opts.common.file, error);
  if (!inputs) {
    std::cerr << error;
    return kUserError;
  }
  EvalResult r;
  if (opts.common.engine == "interp") {
    GradientGraph gg = differentiate(*fn);
    std::vector<NodeId> roots{gg.value};
    roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
    r = evaluate(*fn->graph, roots, inputs->params, inputs->dimValues);
  } else {
    auto cf = compileForJit(*cs, *fn, opts.common, bound, code);
    if (!cf)
      return code;
    r = invokeCompiled(*cf, *fn, inputs->params, inputs->dimValues);
  }
  if (!r.ok()) {
    reportRuntimeError(*cs, r);
    return kUserError;
  }
  auto hasGrad = [&](size_t i) { return !fn->params[i].isConst; };
  if (opts.json) {
    std::cout << "{\"fn\": " << jsonString(fn->name)
              << ", \"value\": " << formatTensor(r.outputs[0], true) << ", \"grad\": {";
    bool first = true;
    for (size_t i = 0; i < fn->params.size(); ++i) {
      if (!hasGrad(i))
        continue;
      std::cout << (first ? "" : ", ") << jsonString(fn->params[i].name) << ": "
                << formatTensor(r.outputs[i + 1], true);
      first = false;
    }
    std::cout << "}}\n";
    return kOk;
  }
  std::cout << fn->name << " = " << formatTensor(r.outputs[0], false) << "\n";
  for (size_t i = 0; i < fn->params.size(); ++i)
    if (hasGrad(i))
      std::cout << "d" << fn->name << "/d" << fn->params[i].name << " = "
                << formatTensor(r.outputs[i + 1], false) << "\n";
  return kOk;
}


// Writes OUT.h and OUT.o for every function of the file (or --fn).
int emitCommand(const EmitOptionsCli &opts) {
  int code = kOk;
  if (opts.cSource && opts.objectFlag) {
    std::cerr << "error: --c and --object are alternatives: choose one\n";
    return kUserError;
  }
  auto cs = load(opts.common, code);
  if (!cs)
    return code;
  std::vector<Function *> fns;
  if (opts.common.fn.empty()) {
    for (size_t i : exported(cs->program))
      fns.push_back(&cs->program.inlined(i));
    if (fns.empty()) {
      std::cerr << opts.common.file << ": error: every function of the file is local: there is nothing to emit\n";
      return kUserError;
    }
  } else {
    Function *f = pickFunction(*cs, opts.common, code);
    if (!f)
      return code;
    fns.push_back(f);
  }
  // Names first: emit writes a header and code that compile, or refuses with a located error.
  if (std::string why = checkSymbolPrefix(opts.prefix); !why.empty()) {
    std::cerr << "error: --prefix '" << opts.prefix << "': " << why << "\n";
    return kBadCommandLine;
  }
  std::vector<const Function *> exported(fns.begin(), fns.end());
  Diagnostics nameDiags(cs->source);
  if (!checkExportedNames(exported, *cs->program.dims, opts.prefix, opts.gradcheck, true, nameDiags)) {
    nameDiags.render(std::cerr);
    return kUserError;
  }
  EmitOptions eo;
  std::string error;
  if (!parseDims(opts.dims, *cs->program.dims, eo.build.boundDims, error)) {
    std::cerr << opts.common.file << ": error: " << error << "\n";
    return kUserError;
  }
  eo.build.opt.fastMath = opts.common.fastMath;
  eo.build.codegen.targetCpu = opts.common.targetCpu;
  eo.build.codegen.optLevel = opts.common.optLevel;
  eo.build.codegen.triple = opts.triple;
  eo.prefix = opts.prefix;
  eo.sourceName = opts.common.file;
  eo.gradcheck = opts.gradcheck;
  if (opts.common.dump == "ir" || opts.common.dump == "grad") {
    for (Function *f : fns)
      dumpStage(opts.common.dump, *f);
    return kOk;
  }
  if (!opts.common.dump.empty()) { // print, write nothing
    if (!dumpEmitted(fns, *cs->program.dims, eo, opts.common.dump, std::cout, error)) {
      std::cerr << opts.common.file << ": error: " << error << "\n";
      return kUserError;
    }
    return kOk;
  }
  std::string out = opts.out;
  if (out.empty()) {
    out = opts.common.file;
    if (out.size() > 5 && out.compare(out.size() - 5, 5, ".expr") == 0)
      out.resize(out.size() - 5);
  }
  bool written = opts.cSource ? emitCSource(fns, *cs->program.dims, eo, out, error)
                              : emitObject(fns, *cs->program.dims, eo, out, error);
  if (!written) {
    std::cerr << opts.common.file << ": error: " << error << "\n";
    return kUserError;
  }
  if (opts.common.stats)
    std::cerr << "stats: wrote " << out << ".h and " << out << (opts.cSource ? ".c" : ".o") << "\n";
  return kOk;
}

} // namespace gradc::cli
