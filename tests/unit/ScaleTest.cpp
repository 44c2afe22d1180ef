// ScaleTest.cpp: valid extreme input compiles, differentiates and runs without deep
// recursion anywhere (parser stack, AST, sema, autodiff, interpreter).
#include "TestUtil.h"
#include "pipeline/Emit.h"
#include "support/Memory.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace gradc;
using namespace gradc::test;

static ValueGrad runScalar(const std::string &src, double x) {
  auto cs = compileOk(src);
  if (!cs)
    return {};
  return valueAndGrad(cs->program.funcs[0], {scalar(x)});
}

TEST(Scale, TwoHundredThousandNestedParentheses) {
  const int n = 200000;
  ValueGrad r = runScalar("def f(x) = " + std::string(n, '(') + "x * 2" + std::string(n, ')') + "\n", 1.5);
  ASSERT_EQ(r.value.data.size(), 1u);
  EXPECT_EQ(r.value.data[0], 3.0);
  EXPECT_EQ(r.grads[0].data[0], 2.0);
}

TEST(Scale, TwoHundredThousandUnaryMinusSigns) {
  const int n = 200001; // odd: the result is -x
  std::string src = "def f(x) = ";
  for (int i = 0; i < n; ++i)
    src += "- ";
  ValueGrad r = runScalar(src + "x\n", 1.5);
  ASSERT_EQ(r.value.data.size(), 1u);
  EXPECT_EQ(r.value.data[0], -1.5);
  EXPECT_EQ(r.grads[0].data[0], -1.0);
}

TEST(Scale, DeeplyNestedCallsBuildADeepGraph) {
  const int n = 100000;
  std::string src = "def f(x) = ";
  for (int i = 0; i < n; ++i)
    src += "sin(";
  src += "x" + std::string(n, ')') + "\n";
  ValueGrad r = runScalar(src, 0.5);
  ASSERT_EQ(r.value.data.size(), 1u);
  double v = 0.5, d = 1;
  for (int i = 0; i < n; ++i) {
    d *= std::cos(v);
    v = std::sin(v);
  }
  EXPECT_NEAR(r.value.data[0], v, 1e-15);
  EXPECT_NEAR(r.grads[0].data[0], d, 1e-12 * std::fabs(d));
}

TEST(Scale, FiftyThousandStatements) {
  const int n = 50000;
  std::string src = "def f(x) {\n  a0 = x\n";
  for (int i = 1; i < n; ++i)
    src += "  a" + std::to_string(i) + " = a" + std::to_string(i - 1) + " + 1e-5 * sin(a" +
           std::to_string(i - 1) + ") * x\n";
  src += "  return a" + std::to_string(n - 1) + "\n}\n";
  ValueGrad r = runScalar(src, 0.5);
  ASSERT_EQ(r.value.data.size(), 1u);
  // The same recurrence in C++, forward-mode, as the oracle.
  double a = 0.5, da = 1;
  for (int i = 1; i < n; ++i) {
    double s = std::sin(a);
    da = da + 1e-5 * (std::cos(a) * da * 0.5 + s);
    a = a + 1e-5 * s * 0.5;
  }
  EXPECT_NEAR(r.value.data[0], a, 1e-12);
  EXPECT_NEAR(r.grads[0].data[0], da, 1e-10);
}

// A call is one node until its function is inlined (ir/Inline.h), and only the function
// compiled is: a chain of 100,000 functions costs memory in proportion to the chain (it used
// to copy each callee's finished graph, n^2/2 node copies: 10,000 ran out of memory).
TEST(Scale, AHundredThousandFunctionsCallingTheirPredecessor) {
  const int n = 100000;
  std::string src = "def g0(x) = x + 1\n";
  for (int i = 1; i < n; ++i)
    src += "def g" + std::to_string(i) + "(x) = g" + std::to_string(i - 1) + "(x) + 1\n";
  auto source = std::make_shared<SourceFile>(SourceFile{"chain.expr", src});
  Diagnostics diags(source);
  CompiledSource cs;
  ASSERT_TRUE(compileSource(source, diags, cs, false, false)) << diags.rendered();
  ValueGrad r = valueAndGrad(cs.program.inlined(n - 1), {scalar(0)});
  EXPECT_EQ(r.value.data[0], n);
  EXPECT_EQ(r.grads[0].data[0], 1.0);
}

// Five thousand functions in one object: lowering and verification are linear in the number
// of functions (the module was verified after each function: 2,000 took 12 s, 10,000 did not
// finish in 5 minutes).
TEST(Scale, FiveThousandFunctionsInOneEmittedObject) {
  const int n = 5000;
  std::string src;
  for (int i = 0; i < n; ++i)
    src += "def h" + std::to_string(i) + "(x) = x * " + std::to_string(i + 1) + "\n";
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  std::vector<Function *> fns;
  for (Function &f : cs->program.funcs)
    fns.push_back(&f);
  std::filesystem::path base = std::filesystem::temp_directory_path() / ("gradc_many_" + std::to_string(::getpid()));
  EmitOptions eo;
  std::string error;
  ASSERT_TRUE(emitObject(fns, *cs->program.dims, eo, base.string(), error)) << error;
  EXPECT_GT(std::filesystem::file_size(base.string() + ".o"), size_t(n) * 100);
  std::filesystem::remove(base.string() + ".o");
  std::filesystem::remove(base.string() + ".h");
}

TEST(Scale, AHundredMegabyteSourceIsRejectedBeforeItIsRead) {
  namespace fs = std::filesystem;
  fs::path path = fs::temp_directory_path() / ("gradc_big_" + std::to_string(::getpid()) + ".expr");
  { std::ofstream(path.string()) << "def f(x) = x\n"; }
  fs::resize_file(path, 100u << 20); // sparse: nothing is written
  auto file = std::make_shared<SourceFile>(SourceFile{path.string(), ""});
  Diagnostics diags(file);
  EXPECT_FALSE(readSourceFile(path.string(), diags));
  fs::remove(path);
  ASSERT_EQ(diags.all().size(), 1u);
  EXPECT_EQ(diags.all()[0].message,
            "'" + path.string() + "' is 100 MiB; the largest source gradc accepts is 64 MiB");
}

TEST(Scale, ProgramsTooBigForTheMachinesMemoryAreRefusedWithTheReason) {
  EXPECT_EQ(checkCompileMemory(1000), "");
  size_t available = availableMemoryBytes();
  ASSERT_GT(available, 0u);
  size_t nodes = available / kCompileBytesPerNode * 2;
  std::string why = checkCompileMemory(nodes);
  EXPECT_EQ(why.rfind("the program has " + std::to_string(nodes) + " nodes; compiling it needs about ", 0), 0u)
      << why;
  EXPECT_NE(why.find(" GiB are available (split the program, or use --engine=interp)"), std::string::npos) << why;
}
