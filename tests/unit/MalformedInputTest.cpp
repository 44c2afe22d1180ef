// MalformedInputTest.cpp: any bytes end in a diagnostic or a valid program, never a
// crash, an exception or an internal error.
#include "TestUtil.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

using namespace gradc;
using namespace gradc::test;

// The compiled engine on a program that checked: no crash, no LLVM error, and the
// interpreter's value and gradients (to 1e-9; NaN where it gives NaN).
static void compiledAgrees(Function &fn, const std::vector<Tensor> &params,
                           const std::vector<int64_t> &dims, const std::string &text) {
  ValueGrad want = valueAndGrad(fn, params, dims);
  std::string error;
  std::unique_ptr<CompiledFunction> cf;
  ASSERT_NO_THROW(cf = compileFunction(fn, {}, error)) << text;
  ASSERT_TRUE(cf) << error << "\n" << text;
  EvalResult got = invokeCompiled(*cf, fn, params, dims);
  ASSERT_EQ(got.ok(), want.error.empty()) << got.error << " / " << want.error << "\n" << text;
  if (!got.ok())
    return;
  auto same = [&](const Tensor &w, const Tensor &g) {
    ASSERT_EQ(w.data.size(), g.data.size()) << text;
    for (size_t i = 0; i < w.data.size(); ++i) {
      if (std::isnan(w.data[i]) || std::isinf(w.data[i]))
        EXPECT_TRUE(std::isnan(g.data[i]) || g.data[i] == w.data[i]) << text;
      else
        EXPECT_LE(relError(w.data[i], g.data[i]), 1e-9) << text;
    }
  };
  same(want.value, got.outputs[0]);
  for (size_t p = 0; p < fn.params.size(); ++p)
    if (!fn.params[p].isConst)
      same(want.grads[p], got.outputs[p + 1]);
}

// Compiles and, when it compiles, differentiates and evaluates at ones (and with `jit`,
// compiles to native code and compares).
static void mustNotCrash(const std::string &text, bool jit = false) {
  auto source = std::make_shared<SourceFile>(SourceFile{"fuzz.expr", text});
  Diagnostics diags(source);
  CompiledSource cs;
  bool ok = false;
  ASSERT_NO_THROW(ok = compileSource(source, diags, cs)) << text;
  if (!ok) {
    ASSERT_TRUE(diags.hasErrors()) << "failed without a diagnostic:\n" << text;
    ASSERT_NO_THROW((void)diags.rendered());
    return;
  }
  for (Function &fn : cs.program.funcs) {
    GradientGraph gg;
    ASSERT_NO_THROW(gg = differentiate(fn)) << text;
    std::vector<int64_t> dims(cs.program.dims->names.size(), 2);
    std::vector<Tensor> params;
    for (const ParamInfo &p : fn.params) {
      Tensor t;
      for (const Dim &d : p.type.shape)
        t.shape.push_back(d.isLiteral() ? d.off : dims[static_cast<size_t>(d.sym)] + d.off);
      int64_t n = 1;
      for (int64_t s : t.shape)
        n *= s;
      t.data.assign(static_cast<size_t>(n), 1.0);
      params.push_back(t);
    }
    if (gg.dOut != kNoNode)
      params.push_back(Tensor{});
    if (gg.dOut == kNoNode)
      ASSERT_NO_THROW(evaluate(*fn.graph, gg.grads, params, dims)) << text;
    if (jit && gg.dOut == kNoNode)
      compiledAgrees(fn, params, dims, text);
  }
}

static std::string lecture() {
  std::ifstream in(std::string(GRADC_EXAMPLES_DIR) + "/lecture4.expr");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(MalformedInput, EveryTruncationOfAValidFile) {
  std::string src = lecture();
  ASSERT_GT(src.size(), 100u);
  for (size_t n = 0; n <= src.size(); ++n)
    mustNotCrash(src.substr(0, n), n % 3 == 0);
}

TEST(MalformedInput, RandomByteEditsOfAValidFile) {
  std::string src = lecture();
  std::mt19937_64 rng(3);
  for (int i = 0; i < 3000; ++i) {
    std::string s = src;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % s.size();
      switch (rng() % 3) {
      case 0: s[at] = static_cast<char>(rng() % 256); break;
      case 1: s.erase(at, 1 + rng() % 8); break;
      default: s.insert(at, 1, "()[]{}:,=+-*/^@<>.#\n\0x0n"[rng() % 25]); break;
      }
      if (s.empty())
        s = " ";
    }
    mustNotCrash(s, i % 32 == 0);
  }
}

TEST(MalformedInput, RandomBytesAndTokenSoup) {
  std::mt19937_64 rng(4);
  const char *tokens[] = {"def ", "dim ", "return ", "const ", "f32", "i32", "x", "y", "n",
                          "(", ")", "[", "]", "{", "}", "=", ",", ":", "+", "-", "*", "/", "^",
                          "@", "<", "==", ".T", "\n", "1", "2.5", "1e400", "sum", "exp(",
                          "max(", "axis=", "reshape(", "where(", "\0", "\xff"};
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    int len = static_cast<int>(rng() % 60);
    for (int k = 0; k < len; ++k) {
      if (i % 2)
        s += tokens[rng() % std::size(tokens)];
      else
        s += static_cast<char>(rng() % 256);
    }
    mustNotCrash(s);
  }
}

TEST(MalformedInput, NulBytesAndLongLinesAreShownSafely) {
  std::string src = "def f(x) = x" + std::string(1, '\0') + "+ 1\n";
  EXPECT_EQ(compileErrors(src), "t.expr:1:13: error: invalid byte 0x00\n"
                                "  def f(x) = x + 1\n"
                                "              ^\n");
  std::string longLine = "def f(x) = " + std::string(5000, ' ') + "q\n";
  std::string err = compileErrors(longLine);
  EXPECT_EQ(err.substr(0, 40), "t.expr:1:5012: error: unknown name 'q'\n ");
  EXPECT_LT(err.size(), 500u);
}

// Inputs the fuzzers found (tests/fuzz): each once crashed or tripped a sanitizer.
TEST(MalformedInput, FuzzerFindings) {
  const char *found[] = {
      // signed overflow folding a compile-time size: 9999011529 * 1504606846966
      "def f(x: [3]) = xx[-1][-999999999999<9999011529*1504606846966]\n",
  };
  for (const char *src : found)
    mustNotCrash(src, true);
}
