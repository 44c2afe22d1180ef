// InputLimitsTest.cpp: the rules that make hostile input harmless, each as a table: one number
// rule for every input path, element counts that cannot wrap, files read with their size
// bounded, JSON errors located, inlining linear in the program, and LLVM's fatal errors
// turned into exceptions.
#include "TestUtil.h"

#include "codegen/llvm/TargetCheck.h"
#include "interp/Interpreter.h"
#include "ir/Inline.h"
#include "support/JsonValues.h"
#include "support/Numbers.h"
#include "support/ReadFile.h"

#include <gtest/gtest.h>
#include <llvm/Support/ErrorHandling.h>

#include <cmath>
#include <filesystem>
#include <sstream>

namespace gradc {
namespace {

TEST(Numbers, OneRuleForEveryInputPath) {
  struct Row {
    const char *text;
    NumberStatus status;
    double value;
  };
  const Row rows[] = {
      {"1", NumberStatus::Ok, 1},          {"-2.5", NumberStatus::Ok, -2.5},
      {".5", NumberStatus::Ok, 0.5},       {"5.", NumberStatus::Ok, 5},
      {"+1", NumberStatus::Ok, 1},         {"1e-3", NumberStatus::Ok, 1e-3},
      {"1e-320", NumberStatus::Ok, 1e-320}, // subnormal: what gradc prints, read back
      {"4.9e-324", NumberStatus::Ok, 4.9e-324},
      {"0", NumberStatus::Ok, 0},          {"0e-999", NumberStatus::Ok, 0},
      {"1e400", NumberStatus::OutOfRange, 0}, {"-1e400", NumberStatus::OutOfRange, 0},
      {"1e-400", NumberStatus::OutOfRange, 0}, {"0x10", NumberStatus::Malformed, 0},
      {"", NumberStatus::Malformed, 0},    {"1e", NumberStatus::Malformed, 0},
      {" 1", NumberStatus::Malformed, 0},  {"1 ", NumberStatus::Malformed, 0},
      {"nan", NumberStatus::Malformed, 0}, {"infinity", NumberStatus::Malformed, 0},
      {".", NumberStatus::Malformed, 0},   {"1.2.3", NumberStatus::Malformed, 0},
  };
  for (const Row &r : rows) {
    double v = -7;
    EXPECT_EQ(parseReal(r.text, v), r.status) << r.text;
    if (r.status == NumberStatus::Ok)
      EXPECT_EQ(v, r.value) << r.text;
  }
  double v;
  EXPECT_EQ(parseReal("nan", v, true), NumberStatus::Ok);
  EXPECT_TRUE(std::isnan(v));
  EXPECT_EQ(parseReal("-inf", v, true), NumberStatus::Ok);
  EXPECT_EQ(v, -INFINITY);
  EXPECT_EQ(integerText(9223372036854775807.0), "9223372036854775808"); // 2^63, not INT64_MIN
  EXPECT_EQ(integerText(-3), "-3");
}

TEST(Sizes, ElementCountsCannotWrap) {
  const int64_t big = int64_t(1) << 40;
  EXPECT_EQ(checkedElementCount({}), 1);
  EXPECT_EQ(checkedElementCount({3, 4}), 12);
  EXPECT_EQ(checkedElementCount({1229673, 3935371, 7623851}), -1); // wraps to 1 in 64 bits
  EXPECT_EQ(checkedElementCount({big, big}), -1);
  EXPECT_EQ(checkedElementCount({big, big, 0}), 0); // empty whatever the rest
  EXPECT_EQ(checkedElementCount({int64_t(1) << 28, int64_t(1) << 28}), kMaxElements);
  EXPECT_EQ(checkedElementCount({(int64_t(1) << 28) + 1, int64_t(1) << 28}), -1);
  EXPECT_EQ(checkedElementCount({-1, 3}), -1);
  EXPECT_EQ(literalElementCount({Dim::lit(big), Dim{0, 0}, Dim::lit(big)}), -1);
}

TEST(Sizes, TheInterpreterRefusesDimsThatWouldWrap) {
  auto cs = test::compileOk("dim a, b, c\ndef f(x: [a, b, c]) = sum(x)\n");
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  EvalResult r = evaluate(*fn.graph, {fn.result}, {Tensor{{1}, {25}}}, {1229673, 3935371, 7623851});
  EXPECT_EQ(r.error, "a value of shape [a, b, c] would have more than 2^56 elements ([1229673, 3935371, "
                     "7623851]) for these dims");
  EXPECT_EQ(r.errorLoc.line, 2u);
}

TEST(ReadFile, SizeIsBoundedWhileReading) {
  std::string error;
  EXPECT_FALSE(readBoundedFile("/dev/zero", 1 << 20, "source", error));
  EXPECT_EQ(error, "'/dev/zero' is larger than 1 MiB; the largest source gradc accepts is 1 MiB");
  std::string dir = std::filesystem::temp_directory_path().string();
  EXPECT_FALSE(readBoundedFile(dir, 1 << 20, "source", error));
  EXPECT_EQ(error, "'" + dir + "' is a directory, not a file");
  EXPECT_FALSE(readBoundedFile("/nonexistent/x", 1 << 20, "source", error));
  EXPECT_EQ(error, "cannot open '/nonexistent/x': No such file or directory");
}

std::string jsonError(const std::string &text) {
  auto file = std::make_shared<SourceFile>(SourceFile{"v.json", text});
  Diagnostics d(file);
  if (parseJsonValues(text, d))
    return "";
  return d.rendered();
}

TEST(JsonValues, ShapesAndNumbers) {
  auto file = std::make_shared<SourceFile>(SourceFile{"v.json", ""});
  Diagnostics d(file);
  auto v = parseJsonValues(R"({"s": 2, "W": [[1, 2, 3], [4, 5, "nan"]], "y": [9223372036854775807]})", d);
  ASSERT_TRUE(v) << d.rendered();
  EXPECT_EQ((*v)["s"].shape, std::vector<int64_t>{});
  EXPECT_EQ((*v)["W"].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(std::isnan((*v)["W"].data[5]));
  ASSERT_TRUE((*v)["y"].inexactInteger);
  EXPECT_EQ((*v)["y"].inexactInteger->second, "9223372036854775807");
  // Exactness is decided on the integer: 2^53 + 1 rounds to 2^53 as a double.
  auto w = parseJsonValues(R"({"a": [9007199254740992], "b": [9007199254740993], "c": [-9007199254740993]})", d);
  ASSERT_TRUE(w) << d.rendered();
  EXPECT_FALSE((*w)["a"].inexactInteger);
  EXPECT_TRUE((*w)["b"].inexactInteger);
  EXPECT_TRUE((*w)["c"].inexactInteger);
}

// A call whose arguments have other dtypes than the parameters (an f32 value for an f64
// parameter) is inlined when checked, so the types are those of the body on its arguments:
// g(y) of an f32 y is f32, and the weakly typed 0.5 with it.
TEST(Inline, CallsOnOtherDtypesTakeTheirArgumentsTypes) {
  auto cs = test::compileOk("dim n\ndef g(x: [n]) = x\ndef f(y: f32[n]) = sum(g(y) * 0.5)\n");
  ASSERT_TRUE(cs);
  const Function &f = cs->program.funcs[1];
  EXPECT_EQ(f.graph->type(f.result).dtype, DType::F32);
  EXPECT_EQ(cs->program.bodies[1].graph->type(cs->program.bodies[1].result).dtype, DType::F32);
}

TEST(JsonValues, DeepNestingIsRefusedWithAShortMessage) {
  std::string deep = "{\"x\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  std::string e = jsonError(deep);
  EXPECT_EQ(e.rfind("v.json:1:39: error: arrays nested more than 32 deep\n", 0), 0u) << e.substr(0, 200);
  EXPECT_LT(e.size(), 500u);
  // A huge token is not quoted whole.
  std::string longString = "{\"x\": \"" + std::string(1 << 20, 'a') + "\"}";
  EXPECT_LT(jsonError(longString).size(), 500u);
  // Nor a long key, nor input that looks like nlohmann's own message (found by fuzz.json).
  std::string key(1900, 'k');
  EXPECT_LT(jsonError("{\"" + key + "\": 1, \"" + key + "\": 2}").size(), 500u);
  EXPECT_LT(jsonError("{\"" + key + "\": [[1, 2], [3]]}").size(), 500u);
  EXPECT_LT(jsonError("\"'; expected " + std::string(2000, 'y') + "\x01").size(), 500u);
}

// g_i(x) = g_{i-1}(x) + 1: checking is linear, and inlining the last function builds a graph
// of about 2 nodes per function (it used to copy every callee's finished graph: quadratic).
TEST(Inline, ACallChainIsLinear) {
  std::ostringstream src;
  const int n = 5000;
  src << "def g0(x) = x + 1\n";
  for (int i = 1; i < n; ++i)
    src << "def g" << i << "(x) = g" << i - 1 << "(x) + 1\n";
  auto source = std::make_shared<SourceFile>(SourceFile{"chain.expr", src.str()});
  Diagnostics diags(source);
  CompiledSource cs;
  ASSERT_TRUE(compileSource(source, diags, cs, false, false)) << diags.rendered();
  size_t bodyNodes = 0;
  for (const Function &f : cs.program.bodies)
    bodyNodes += f.graph->size();
  EXPECT_LE(bodyNodes, size_t(5) * n);
  EXPECT_FALSE(cs.program.funcs[n - 1].graph); // not made until asked for
  Function &last = cs.program.inlined(n - 1);
  EXPECT_LE(last.graph->size(), size_t(3) * n);
  EvalResult r = evaluate(*last.graph, {last.result}, {Tensor{{}, {0.5}}}, {});
  EXPECT_EQ(r.outputs[0].data[0], 0.5 + n);
}

// A function called twice on the same arguments is inlined once; one called on others is
// inlined again, and each copy keeps its source location.
TEST(Inline, EqualCallsShareOneCopy) {
  auto cs = test::compileOk("def sq(x) = x * x\ndef f(a, b) = sq(a) + sq(a) + sq(b)\n");
  ASSERT_TRUE(cs);
  const Function &f = cs->program.funcs[1];
  size_t muls = 0;
  for (size_t i = 0; i < f.graph->size(); ++i)
    if (f.graph->node(static_cast<NodeId>(i)).op == Op::Mul) {
      ++muls;
      EXPECT_EQ(f.graph->loc(static_cast<NodeId>(i)).line, 1u);
    }
  EXPECT_EQ(muls, 2u);
}

TEST(LlvmErrors, FatalErrorsThrowInsteadOfAborting) {
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
  // The exception crosses LLVM frames built without unwinding cleanups, which leak what they
  // hold: by design (API.md), and reported by LeakSanitizer.
  GTEST_SKIP() << "leaks by design under LeakSanitizer";
#endif
#endif
  installLlvmErrorHandlers();
  EXPECT_THROW(llvm::report_fatal_error("a test of the handler"), InternalError);
}

} // namespace
} // namespace gradc
