// CommandSupport.h: what the commands share: loading and checking the file, choosing the
// function, the stages --dump prints, JIT compilation with --stats, run-time errors.
#pragma once

#include "Commands.h"

#include "autodiff/ReverseMode.h"
#include "interp/Interpreter.h"
#include "pipeline/Compile.h"
#include "pipeline/Pipeline.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gradc::cli {

/// Parses and checks the file; prints diagnostics. Returns nullptr on failure (or after
/// --dump=ast), with `exitCode` set.
std::unique_ptr<CompiledSource> load(const CommonOptions &opts, int &exitCode);
/// The exported functions (not `local def`), by index.
std::vector<size_t> exported(const Program &program);
/// --fn's function, or the only exported one; nullptr after printing why.
Function *pickFunction(CompiledSource &cs, const CommonOptions &opts, int &exitCode);
/// load(), pickFunction() and dumpStage(): the function a command works on (its program in
/// `cs`), or nullptr after printing why or the --dump=ir|grad stage, with `exitCode` set.
Function *loadFunction(const CommonOptions &opts, std::unique_ptr<CompiledSource> &cs, int &exitCode);
/// --dump=ir|grad prints the stage; true when it did.
bool dumpStage(const std::string &stage, Function &fn);
/// `fn` compiled by the JIT; prints --stats and --dump=opt|llvm|loops. nullptr after an error
/// or a dump (then exitCode is kOk).
std::unique_ptr<CompiledFunction> compileForJit(const CompiledSource &cs, Function &fn, const CommonOptions &opts,
                                                const std::map<int32_t, int64_t> &bound, int &exitCode);
/// A run-time error of a call, located in the source.
void reportRuntimeError(const CompiledSource &cs, const EvalResult &r);

} // namespace gradc::cli
