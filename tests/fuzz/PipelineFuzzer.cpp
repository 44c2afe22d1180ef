// PipelineFuzzer.cpp: libFuzzer target for the whole pipeline: the input chooses a program
// from the grammar-aware generator of the property tests (scalar ops, fan-out, deep chains)
// and the point to evaluate it at; the program is parsed, checked, differentiated, optimized,
// JIT-compiled and run, and the compiled value and gradients must equal the interpreter's.
#include "../unit/ProgramGenerator.h"
#include "autodiff/ReverseMode.h"
#include "interp/Interpreter.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"
#include "pipeline/Pipeline.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void fail(const std::string &what, const std::string &src) {
  std::fprintf(stderr, "%s\n--- program ---\n%s", what.c_str(), src.c_str());
  std::abort();
}

bool close(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b);
  if (a == b)
    return true;
  return std::fabs(a - b) / std::max({1.0, std::fabs(a), std::fabs(b)}) <= 1e-9;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzedDataProvider in(data, size);
  int params = in.ConsumeIntegralInRange(1, 4);
  int statements = in.ConsumeIntegralInRange(1, 40);
  gradc::test::ProgramGenerator gen(in.ConsumeIntegral<uint64_t>());
  std::string src = gen.generate(params, statements);
  std::vector<gradc::Tensor> at;
  for (int p = 0; p < params; ++p)
    at.push_back(gradc::Tensor{{}, {in.ConsumeFloatingPointInRange(-1.5, 1.5)}});

  auto source = std::make_shared<gradc::SourceFile>(gradc::SourceFile{"gen.expr", src});
  gradc::Diagnostics diags(source);
  gradc::CompiledSource cs;
  if (!gradc::compileSource(source, diags, cs))
    fail("a generated program did not compile:\n" + diags.rendered(), src);
  gradc::Function &fn = cs.program.funcs[0];
  gradc::GradientGraph gg = gradc::differentiate(fn);
  std::vector<gradc::NodeId> roots{gg.value};
  roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
  gradc::EvalResult want = gradc::evaluate(*fn.graph, roots, at, {});
  std::string error;
  auto cf = gradc::compileFunction(fn, {}, error);
  if (!cf)
    fail("compilation failed: " + error, src);
  gradc::EvalResult got = gradc::invokeCompiled(*cf, fn, at, {});
  if (!got.ok() || !want.ok())
    fail("a run-time error: " + got.error + want.error, src);
  for (size_t r = 0; r < roots.size(); ++r)
    if (!close(want.outputs[r].data[0], got.outputs[r].data[0]))
      fail("output " + std::to_string(r) + ": interpreter " + std::to_string(want.outputs[r].data[0]) +
               ", compiled " + std::to_string(got.outputs[r].data[0]),
           src);
  return 0;
}
