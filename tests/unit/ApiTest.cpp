// ApiTest.cpp: the public C++ API (gradc/gradc.h): structured diagnostics, typed lookup
// and its errors word for word, bound dims, and compilation from several threads at once.
#include "gradc/gradc.h"

#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <string>
#include <vector>
#include <thread>

namespace {

TEST(Api, CompileErrorsAreStructuredDiagnostics) {
  gradc::Compiler c;
  gradc::Module m = c.compileSource("def f(x) = x * y\n", {}, "model.expr");
  ASSERT_FALSE(m.ok());
  ASSERT_EQ(m.diagnostics().size(), 1u);
  const gradc::SourceDiagnostic &d = m.diagnostics()[0];
  EXPECT_EQ(d.file, "model.expr");
  EXPECT_EQ(d.line, 1u);
  EXPECT_EQ(d.column, 16u);
  EXPECT_EQ(d.message, "unknown name 'y'");
  EXPECT_EQ(m.errors(), "model.expr:1:16: error: unknown name 'y'\n  def f(x) = x * y\n"
                        "                 ^\n");
  EXPECT_THROW(m.function<double(double, void *)>("f"), gradc::LookupError);
}

TEST(Api, ADefaultModuleIsNotOkAndUnknownSymbolsThrow) {
  gradc::Module empty;
  EXPECT_FALSE(empty.ok());
  EXPECT_EQ(empty.errors(), "gradc: this Module holds no compiled source (it was default-constructed)\n");
  try {
    empty.function<double(double, void *)>("f");
    ADD_FAILURE() << "no LookupError";
  } catch (const gradc::LookupError &e) {
    EXPECT_EQ(std::string(e.what()), "gradc: cannot look up 'f': the module did not compile:\n"
                                     "gradc: this Module holds no compiled source (it was default-constructed)\n");
  }
  gradc::Module m = gradc::Compiler().compileSource("def f(x) = x * x\n");
  ASSERT_TRUE(m.ok()) << m.errors();
  EXPECT_EQ(m.prototype("f"), "double f(double x, void *ws)");
  try {
    m.prototype("g");
    ADD_FAILURE() << "no LookupError";
  } catch (const gradc::LookupError &e) {
    EXPECT_EQ(std::string(e.what()), "gradc: no function 'g' (the module has f, f_grad, f_workspace_size)");
  }
}

TEST(Api, LocalFunctionsAreNotExported) {
  gradc::Module m = gradc::Compiler().compileSource("local def sq(x) = x * x\ndef f(x) = sq(x) + 1\n");
  ASSERT_TRUE(m.ok()) << m.errors();
  EXPECT_EQ(m.function<double(double, void *)>("f")(3, nullptr), 10);
  try {
    m.prototype("sq");
    ADD_FAILURE() << "no LookupError";
  } catch (const gradc::LookupError &e) {
    EXPECT_EQ(std::string(e.what()), "gradc: no function 'sq' (the module has f, f_grad, f_workspace_size)");
  }
  gradc::Module n = gradc::Compiler().compileSource("local def sq(x) = x * x\ndef f(x) = sq(x)\n", {.function = "sq"});
  EXPECT_FALSE(n.ok());
  EXPECT_EQ(n.errors(), "<source>:1:11: error: function 'sq' is local (a helper of other functions, not exported)\n");
}

// The argument metadata, as emitted code's f_arg_name/type/shape give it: shapes in terms of
// the dim arguments, derived dims spelled out, dims fixed at compile time as numbers.
TEST(Api, ArgumentsAreDescribedAsEmittedCodeDescribesThem) {
  const std::string src = "dim K, D\ndim M = D*(D+1)/2\n"
                          "def f(x: [K, D], icf: [K, M], y: const i32[K]) = sum(icf[:, 0:D] * x) + sum(y)\n";
  auto text = [](const std::vector<gradc::Argument> &args) {
    std::string out;
    for (const gradc::Argument &a : args)
      out += a.name + ": " + a.type + " " + a.shape + "\n";
    return out;
  };
  gradc::Module open = gradc::Compiler().compileSource(src);
  ASSERT_TRUE(open.ok()) << open.errors();
  EXPECT_EQ(text(open.arguments("f")), "K: int64_t \nD: int64_t \nx: const double * [K, D]\n"
                                       "icf: const double * [K, (D*D+D)/2]\ny: const int32_t * [K]\nws: void * \n");
  gradc::Module fixed = gradc::Compiler().compileSource(src, {.dims = {{"D", 3}}});
  ASSERT_TRUE(fixed.ok()) << fixed.errors();
  EXPECT_EQ(text(fixed.arguments("f_grad")), "K: int64_t \nx: const double * [K, 3]\nicf: const double * [K, 6]\n"
                                             "y: const int32_t * [K]\nd_x: double * [K, 3]\nd_icf: double * [K, 6]\n"
                                             "ws: void * \n");
  EXPECT_THROW(fixed.arguments("f_workspace_size"), gradc::LookupError);
  EXPECT_THROW(fixed.arguments("g"), gradc::LookupError);
}

TEST(Api, MissingFileAndBadOptionsAreDiagnostics) {
  gradc::Compiler c;
  gradc::Module m = c.compileFile("/nonexistent/model.expr");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.errors().find("/nonexistent/model.expr"), std::string::npos);
  gradc::Module n = c.compileSource("dim n\ndef f(x: [n]) = sum(x)\n", {.dims = {{"k", 3}}}, "a.expr");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.errors(), "a.expr: error: no dim 'k' in the program\n");
}

// A CPU the target does not know, or one without 64-bit mode, is a diagnostic; it used to end
// in LLVM's "64-bit code requested" and abort() the host process.
TEST(Api, BadTargetCpusAreDiagnosticsNotAborts) {
  gradc::Compiler c;
  for (const char *cpu : {"nonsense", "i386", "skylak"}) {
    gradc::CompileOptions o;
    o.targetCpu = cpu;
    gradc::Module m = c.compileSource("def f(x) = x * x\n", o, "cpu.expr");
    ASSERT_FALSE(m.ok()) << cpu;
    EXPECT_NE(m.errors().find(cpu), std::string::npos) << m.errors();
  }
  gradc::CompileOptions o;
  o.targetCpu = "skylak";
  EXPECT_NE(c.compileSource("def f(x) = x * x\n", o).errors().find("did you mean 'skylake'?"), std::string::npos);
  o.targetCpu = "generic";
  EXPECT_TRUE(c.compileSource("def f(x) = x * x\n", o).ok());
}

// Symbols two functions would both export make lookups ambiguous: an error at the second.
TEST(Api, TwoFunctionsMayNotExportOneSymbol) {
  gradc::Compiler c;
  gradc::Module m = c.compileSource("def f(x) = x * x\ndef f_grad(x) = 2 * x\n", {}, "twice.expr");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.diagnostics()[0].line, 2u);
  EXPECT_EQ(m.diagnostics()[0].message,
            "function 'f_grad' would export 'f_grad', which 'f' (line 1) exports too; rename one of them");
}

// Dims beyond 2^40 are refused when bound; a user function named like a C library function
// gets a trailing underscore in the JIT as in emitted code.
TEST(Api, DimLimitsAndReservedNames) {
  gradc::Compiler c;
  gradc::CompileOptions o;
  o.dims = {{"n", (int64_t(1) << 40) + 1}};
  gradc::Module m = c.compileSource("dim n\ndef f(x: [n]) = sum(x)\n", o, "big.expr");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.errors(), "big.expr: error: dim 'n' is 1099511627777: a dim is between 0 and 1099511627776 (2^40)\n");
  gradc::Module e = c.compileSource("def cbrt(x) = 1000 * x\ndef h(x) = pow(2, x)\n");
  ASSERT_TRUE(e.ok()) << e.errors();
  EXPECT_EQ(e.function<double(double, void *)>("cbrt_")(3, nullptr), 3000);
  EXPECT_EQ(e.function<double(double, void *)>("h")(3, nullptr), 8);
  double d = 0;
  EXPECT_EQ(e.function<double(double, double *, void *)>("cbrt_grad")(3, &d, nullptr), 3000); // no "__"
  EXPECT_EQ(d, 1000);
}

// A checked call with dims no array can have reads nothing (the call returned NaN without
// reading) and says which dim.
TEST(Api, CheckedCallsReportDimsOutOfRange) {
  gradc::Compiler c;
  gradc::Module m = c.compileSource("dim n\ndef f(x: [n]) = sum(x)\n");
  ASSERT_TRUE(m.ok()) << m.errors();
  auto f = m.checked<double(int64_t, const double *, void *)>("f");
  double x[2] = {1, 2};
  EXPECT_EQ(f(2, x, nullptr), 3);
  try {
    f(INT64_MIN, x, nullptr);
    ADD_FAILURE() << "no RangeError";
  } catch (const gradc::RangeError &e) {
    EXPECT_EQ(std::string(e.what()), "gradc: f: dim 'n' = -9223372036854775808 is out of range (0 to 2^56)");
  }
  try {
    f(int64_t(1) << 57, x, nullptr);
    ADD_FAILURE() << "no RangeError";
  } catch (const gradc::RangeError &e) {
    EXPECT_NE(std::string(e.what()).find("is out of range"), std::string::npos);
  }
}

// f of long straight-line code runs f_grad's first chunks, which write f_grad's tape: without
// its workspace, f is NaN instead of writing through NULL.
TEST(Api, LongCodeWithoutItsWorkspaceIsNaN) {
  std::string src = "def f(x) {\n  a0 = x\n";
  for (int i = 1; i < 3000; ++i)
    src += "  a" + std::to_string(i) + " = a" + std::to_string(i - 1) + " + 1e-5 * sin(a" + std::to_string(i - 1) + ") * x\n";
  src += "  return a2999\n}\n";
  gradc::Compiler c;
  gradc::Module m = c.compileSource(src);
  ASSERT_TRUE(m.ok()) << m.errors();
  size_t bytes = m.function<size_t()>("f_workspace_size")();
  ASSERT_GT(bytes, 0u);
  std::vector<unsigned char> ws(bytes);
  auto f = m.function<double(double, void *)>("f");
  EXPECT_TRUE(std::isfinite(f(0.5, ws.data())));
  EXPECT_TRUE(std::isnan(f(0.5, nullptr)));
}

TEST(Api, TypedLookupChecksTheCSignature) {
  gradc::Compiler c;
  gradc::Module m = c.compileSource("def simple(x, y, z) = (x + y) * z\n");
  ASSERT_TRUE(m.ok()) << m.errors();
  EXPECT_EQ(m.symbols(), (std::vector<std::string>{"simple", "simple_grad", "simple_workspace_size"}));
  auto grad = m.function<double(double, double, double, double *, double *, double *, void *)>(
      "simple_grad");
  double dx, dy, dz;
  EXPECT_EQ(grad(-2, 5, -4, &dx, &dy, &dz, nullptr), -12.0);
  EXPECT_EQ(dx, -4.0);
  EXPECT_EQ(dy, -4.0);
  EXPECT_EQ(dz, 3.0);
  try {
    m.function<double(double, double, void *)>("simple");
    FAIL() << "a wrong signature was accepted";
  } catch (const gradc::LookupError &e) {
    EXPECT_STREQ(e.what(), "gradc: 'simple' was requested as double(double, double, void *), but "
                           "its signature is double(double, double, double, void *): double "
                           "simple(double x, double y, double z, void *ws)");
  }
  try {
    m.function<double(double)>("nope");
    FAIL() << "a missing function was found";
  } catch (const gradc::LookupError &e) {
    EXPECT_STREQ(e.what(), "gradc: no function 'nope' (the module has simple, simple_grad, "
                           "simple_workspace_size)");
  }
}

TEST(Api, CheckedCallsNameTheLabelOutOfRange) {
  gradc::Compiler c;
  gradc::Module m = c.compileSource("dim n\ndef f(s: [n, 3], y: const i32[n]) = sum(pick(s, y))\n"
                                    "def g(s: [n, 3], y: const i32[n]) = pick(s, y) * 2\n",
                                    {}, "model.expr");
  ASSERT_TRUE(m.ok()) << m.errors();
  const double s[6] = {1, 2, 3, 4, 5, 6};
  const int32_t good[2] = {2, 0}, bad[2] = {2, 5};
  double ds[6];
  auto f = m.checked<double(int64_t, const double *, const int32_t *, void *)>("f");
  EXPECT_EQ(f(2, s, good, nullptr), 7.0);
  try {
    f(2, s, bad, nullptr);
    ADD_FAILURE() << "no RangeError";
  } catch (const gradc::RangeError &e) {
    EXPECT_STREQ(e.what(), "gradc: f: label y[1] = 5 is out of range for 3 classes (model.expr:2:41)");
  }
  auto fGrad = m.checked<double(int64_t, const double *, const int32_t *, double *, void *)>("f_grad");
  EXPECT_THROW(fGrad(2, s, bad, ds, nullptr), gradc::RangeError);
  EXPECT_TRUE(std::isnan(ds[0])); // the C ABI's NaN contract holds underneath
  // A NaN the arithmetic makes is a value, not an error.
  const double withNaN[6] = {1, 2, NAN, 4, 5, 6};
  EXPECT_TRUE(std::isnan(f(2, withNaN, good, nullptr)));
  // A function with a vector result is checked through its `out`.
  double out[2];
  auto g = m.checked<void(int64_t, const double *, const int32_t *, double *, void *)>("g");
  g(2, s, good, out, nullptr);
  EXPECT_EQ(out[0], 6.0);
  EXPECT_THROW(g(2, s, bad, out, nullptr), gradc::RangeError);
}

TEST(Api, BoundAndUnboundDims) {
  gradc::Compiler c;
  const char *src = "dim n\ndef l2wx(W: [n, n], x: [n]) = sum((W @ x)^2)\n";
  gradc::Module bound = c.compileSource(src, {.dims = {{"n", 2}}});
  ASSERT_TRUE(bound.ok()) << bound.errors();
  EXPECT_EQ(bound.prototype("l2wx_workspace_size"), "size_t l2wx_workspace_size(void)");
  auto f = bound.function<double(const double *, const double *, void *)>("l2wx");
  double W[] = {1, 2, 3, 4}, x[] = {1, -1};
  std::vector<unsigned char> ws(bound.function<size_t()>("l2wx_workspace_size")());
  EXPECT_EQ(f(W, x, ws.data()), 2.0);
  gradc::Module open = c.compileSource(src);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open.prototype("l2wx_workspace_size"), "size_t l2wx_workspace_size(int64_t n)");
  auto g = open.function<double(int64_t, const double *, const double *, void *)>("l2wx");
  std::vector<unsigned char> ws2(open.function<size_t(int64_t)>("l2wx_workspace_size")(2));
  EXPECT_EQ(g(2, W, x, ws2.data()), 2.0);
}

TEST(Api, ThreadsCompileAndCallAtOnce) {
  gradc::Compiler c;
  std::vector<double> results(4, 0.0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::string src = "def f(x) = sin(x) * " + std::to_string(t + 1) + "\n";
      gradc::Module m = c.compileSource(src);
      if (!m.ok())
        return;
      double dx = 0;
      m.function<double(double, double *, void *)>("f_grad")(0.0, &dx, nullptr);
      results[static_cast<size_t>(t)] = dx; // d/dx (t+1) sin(x) at 0 = t+1
    });
  for (std::thread &th : threads)
    th.join();
  EXPECT_EQ(results, (std::vector<double>{1, 2, 3, 4}));
}

TEST(Api, ModulesOutliveTheirCopiesAndFreeWithTheLast) {
  gradc::Compiler c;
  double (*f)(double, void *) = nullptr;
  {
    gradc::Module outer;
    {
      gradc::Module m = c.compileSource("def sq(x) = x * x\n");
      f = m.function<double(double, void *)>("sq");
      outer = m;
    }
    EXPECT_EQ(f(3.0, nullptr), 9.0); // the copy keeps the code alive
  }
  // (The code is freed here; ASan's leak check covers that nothing is left behind.)
}

} // namespace

TEST(ApiF32, MeanOfAnF32TensorStaysF32) {
  // The element count mean divides by is weakly typed, as constants are: f32 in, f32 out.
  gradc::Compiler c;
  gradc::Module m = c.compileSource("dim n\ndef f(x: f32[n]) = mean(x * x)\n");
  ASSERT_TRUE(m.ok()) << m.errors();
  EXPECT_EQ(m.prototype("f"), "float f(int64_t n, const float *x, void *ws)");
  const float x[4] = {1, 2, 3, 4};
  float dx[4];
  EXPECT_EQ((m.function<float(int64_t, const float *, float *, void *)>("f_grad")(4, x, dx, nullptr)), 7.5f);
  EXPECT_EQ(dx[3], 2.0f);
}

// Module::graph draws what `gradc graph` draws (tests/graph checks the pictures themselves).
TEST(Api, GraphDrawsTheLecturePictureWithValuesAndGradients) {
  gradc::Module m = gradc::Compiler().compileSource(
      "def simple(x, y, z) = (x + y) * z\ndim n\ndef l2(W: [n, n], x: [n]) = sum((W @ x)^2)\n", {}, "lecture.expr");
  ASSERT_TRUE(m.ok()) << m.errors();
  std::string dot = m.graph("simple", {{"x", {-2}}, {"y", {5}}, {"z", {-4}}});
  // x + y = 3 flows into the product with gradient z = -4; the result -12 with the seed 1.
  EXPECT_NE(dot.find("label=<<font color=\"darkgreen\">3</font><br/><font color=\"red\">-4</font>>"), std::string::npos)
      << dot;
  EXPECT_NE(dot.find("label=<<font color=\"darkgreen\">-12</font><br/><font color=\"red\">1</font>>"),
            std::string::npos);
  EXPECT_EQ(m.graph("simple").find("<font"), std::string::npos); // the structure alone
  gradc::GraphOptions svg;
  svg.format = "svg";
  svg.stage = "grad";
  std::string picture = m.graph("l2", {{"W", {1, 2, 3, 4}}, {"x", {1, -1}}}, {{"n", 2}}, svg);
  EXPECT_EQ(picture.rfind("<?xml", 0), 0u);
  EXPECT_NE(picture.find("d_W"), std::string::npos);
  EXPECT_THROW(m.graph("nope"), gradc::LookupError);
  try {
    m.graph("l2", {{"W", {1, 2, 3}}, {"x", {1, -1}}}, {{"n", 2}});
    FAIL() << "three values for a [2, 2]";
  } catch (const gradc::RangeError &e) {
    EXPECT_STREQ(e.what(), "gradc: graph: 'W' has 3 values; its shape [n, n] holds 4");
  }
}
