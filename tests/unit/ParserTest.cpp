// ParserTest.cpp: the grammar: precedence, associativity, every construct, and the AST dump.
#include "TestUtil.h"

#include "frontend/Parser.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace gradc;

static std::string dumpOf(const std::string &text) {
  SourceFile src{"t.expr", text};
  Diagnostics diags;
  Ast ast;
  EXPECT_TRUE(parseSource(src, ast, diags)) << diags.rendered();
  std::ostringstream os;
  ast.dump(os);
  return os.str();
}

TEST(Parser, PowerBindsTighterThanUnaryMinusAndIsRightAssociative) {
  EXPECT_EQ(dumpOf("def f(x) = -x^2\n"), "def f(x: f64)\n  return (neg (^ x 2))\n");
  EXPECT_EQ(dumpOf("def f(x) = x^2^3\n"), "def f(x: f64)\n  return (^ x (^ 2 3))\n");
  EXPECT_EQ(dumpOf("def f(x) = 2^-x\n"), "def f(x: f64)\n  return (^ 2 (neg x))\n");
}

TEST(Parser, UsualPrecedenceOfArithmeticAndComparison) {
  EXPECT_EQ(dumpOf("def f(x, y) = x + y * 2 - x / y\n"),
            "def f(x: f64, y: f64)\n  return (- (+ x (* y 2)) (/ x y))\n");
  EXPECT_EQ(dumpOf("def f(x, y) = where(x + 1 < y * 2, x, y)\n"),
            "def f(x: f64, y: f64)\n  return (call where (< (+ x 1) (* y 2)) x y)\n");
  EXPECT_EQ(dumpOf("def f(A: [2, 2], x: [2]) = A @ x * 2\n"),
            "def f(A: f64[2, 2], x: f64[2])\n  return (* (@ A x) 2)\n");
}

TEST(Parser, ParameterTypesShapesAndConst) {
  EXPECT_EQ(dumpOf("dim N, D\ndef f(X: const [N, D], y: const i32[N], w: f32[D], r: const) = r\n"),
            "dim N\ndim D\ndef f(X: const f64[N, D], y: const i32[N], w: f32[D], r: const f64)\n"
            "  return r\n");
}

TEST(Parser, BlocksCallsKeywordsIndexingSlicesAndTranspose) {
  std::string src = "dim n\n"
                    "def g(x: [n], A: [n, n]) {\n"
                    "  a = sum(x[1:n] - x[0:n-1], axis=0)\n"
                    "  b = A.T[0, :]\n"
                    "  return a + sum(reshape(b, [1, n]))\n"
                    "}\n";
  EXPECT_EQ(dumpOf(src), "dim n\ndef g(x: f64[n], A: f64[n, n])\n"
                         "  a = (call sum (- (index x (slice 1 n)) (index x (slice 0 (- n 1)))) "
                         "(kw axis 0))\n"
                         "  b = (index (attr T A) 0 (slice _ _))\n"
                         "  return (+ a (call sum (call reshape b (list 1 n))))\n");
}

TEST(Parser, NewlinesInsideBracketsAndAfterOperatorsContinueTheLine) {
  EXPECT_EQ(dumpOf("def f(x,\n      y) = (x +\n  y) *\n  2\n"),
            "def f(x: f64, y: f64)\n  return (* (+ x y) 2)\n");
}

TEST(Parser, CommentsAndBlankLinesAreIgnored) {
  EXPECT_EQ(dumpOf("# a comment\n\n\ndef f(x) = x # trailing\n\n# end\n"),
            "def f(x: f64)\n  return x\n");
}

TEST(Parser, ASyntaxErrorNamesTheTokenAndWhatWasExpected) {
  EXPECT_EQ(test::compileErrors("def f(x) = x +\n"),
            "t.expr:1:15: error: unexpected end of file, expected an expression\n"
            "  def f(x) = x +\n"
            "                ^\n");
  EXPECT_EQ(test::compileErrors("def f(x) x\n"),
            "t.expr:1:10: error: unexpected name, expected '=' or '{'\n"
            "  def f(x) x\n"
            "           ^\n");
}

TEST(Parser, CaretLinesKeepTabsSoTheCaretLinesUp) {
  EXPECT_EQ(test::compileErrors("def f(x) {\n\treturn\tq\n}\n"),
            "t.expr:2:9: error: unknown name 'q'\n"
            "  \treturn\tq\n"
            "  \t      \t^\n");
}
