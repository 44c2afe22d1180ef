// PipelineFuzzer.cpp: libFuzzer target for the whole pipeline: the input chooses a program
// from the grammar-aware generators of the property tests (scalar programs: every scalar
// op, fan-out, deep chains; tensor programs: broadcasting, reductions, matmuls, indexing,
// pick, softmax, with fixed shapes or a run-time dim), the point to evaluate it at and the
// LLVM optimization level; the program is parsed, checked, differentiated, optimized,
// JIT-compiled and run, and the compiled value and gradients must equal the interpreter's.
#include "../unit/ProgramGenerator.h"
#include "../unit/TensorProgramGenerator.h"
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
  int kind = in.ConsumeIntegralInRange(0, 2); // scalar, tensor, tensor with a run-time dim
  gradc::BuildOptions build;
  // Level 0 for three inputs in four: O3 under ASan made 3 executions per second.
  build.codegen.optLevel = in.ConsumeIntegralInRange(0, 3) == 0 ? 3 : 0;
  std::string src;
  if (kind == 0) {
    int params = in.ConsumeIntegralInRange(1, 4);
    int statements = in.ConsumeIntegralInRange(1, 40);
    src = gradc::test::ProgramGenerator(in.ConsumeIntegral<uint64_t>()).generate(params, statements);
  } else {
    src = gradc::test::TensorProgramGenerator(in.ConsumeIntegral<uint64_t>(), kind == 2).program();
  }

  auto source = std::make_shared<gradc::SourceFile>(gradc::SourceFile{"gen.expr", src});
  gradc::Diagnostics diags(source);
  gradc::CompiledSource cs;
  if (!gradc::compileSource(source, diags, cs))
    fail("a generated program did not compile:\n" + diags.rendered(), src);
  gradc::Function &fn = cs.program.funcs[0];
  std::vector<int64_t> dims(fn.graph->dims().names.size(), 5);
  std::vector<gradc::Tensor> at;
  for (const gradc::ParamInfo &p : fn.params) {
    gradc::Tensor t;
    int64_t count = 1;
    for (const gradc::Dim &d : p.type.shape) {
      t.shape.push_back(d.isLiteral() ? d.off : dims[static_cast<size_t>(d.sym)] + d.off);
      count *= t.shape.back();
    }
    for (int64_t i = 0; i < count; ++i)
      t.data.push_back(in.ConsumeFloatingPointInRange(-1.5, 1.5));
    at.push_back(t);
  }
  if (kind != 0)
    at[6].data = {3, 0, 2}; // pick's labels, in range
  gradc::GradientGraph gg = gradc::differentiate(fn);
  if (!fn.graph->type(fn.result).isScalar()) { // d_out
    gradc::Tensor u{{}, {}};
    for (const gradc::Dim &d : fn.graph->type(fn.result).shape)
      u.shape.push_back(d.isLiteral() ? d.off : dims[static_cast<size_t>(d.sym)] + d.off);
    int64_t count = 1;
    for (int64_t e : u.shape)
      count *= e;
    for (int64_t i = 0; i < count; ++i)
      u.data.push_back(0.25 * static_cast<double>(i % 4) - 0.3);
    at.push_back(u);
  }
  // The value and the gradients of the non-const parameters (compiled outputs 0 and p + 1).
  std::vector<gradc::NodeId> roots{gg.value};
  std::vector<size_t> output{0};
  for (size_t p = 0; p < gg.grads.size(); ++p)
    if (gg.grads[p] != gradc::kNoNode) {
      roots.push_back(gg.grads[p]);
      output.push_back(p + 1);
    }
  gradc::EvalResult want = gradc::evaluate(*fn.graph, roots, at, dims);
  std::string error;
  auto cf = gradc::compileFunction(fn, build, error);
  if (!cf)
    fail("compilation failed: " + error, src);
  gradc::EvalResult got = gradc::invokeCompiled(*cf, fn, at, dims);
  if (!got.ok() || !want.ok())
    fail("a run-time error: " + got.error + want.error, src);
  for (size_t r = 0; r < roots.size(); ++r) {
    const gradc::Tensor &w = want.outputs[r], &g = got.outputs[output[r]];
    if (w.data.size() != g.data.size())
      fail("output " + std::to_string(output[r]) + " has the wrong size", src);
    for (size_t i = 0; i < w.data.size(); ++i)
      if (!close(w.data[i], g.data[i]))
        fail("output " + std::to_string(output[r]) + "[" + std::to_string(i) + "]: interpreter " +
                 std::to_string(w.data[i]) + ", compiled " + std::to_string(g.data[i]) + " (level " +
                 std::to_string(build.codegen.optLevel) + ")",
             src);
  }
  return 0;
}
