// DimArithTest.cpp: dim arithmetic. Sizes such as K*D and D*(D+1)/2 are kept once, under a
// canonical polynomial (equal sizes written two ways are one dim); their values are computed
// from the given dims everywhere dims are known, with exact division checked; programs using
// them agree between the interpreter, the JIT (dims as arguments) and finite differences.
#include "TestUtil.h"
#include "ir/DimArith.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace gradc;
using namespace gradc::test;

namespace {

TEST(DimArith, EqualSizesWrittenTwoWaysAreOneDim) {
  DimTable t;
  t.names = {"K", "D", "N", "B"};
  const Dim K{0, 0}, D{1, 0}, N{2, 0}, B{3, 0};
  auto f = [&](char op, Dim a, Dim b) { return foldDims(t, op, a, b); };
  Dim kd = f('*', K, D);
  EXPECT_EQ(kd, f('*', D, K));
  EXPECT_EQ(t.str(kd), "K*D");
  EXPECT_EQ(f('+', D, Dim::lit(1)), (Dim{1, 1})); // still `dim + literal`: no new dim
  EXPECT_EQ(f('-', f('+', D, K), K), D);
  Dim m = f('/', f('*', D, f('+', D, Dim::lit(1))), Dim::lit(2));
  EXPECT_EQ(t.str(m), "(D*D+D)/2");
  EXPECT_EQ(t.str(f('-', m, D)), "(D*D-D)/2");
  EXPECT_EQ(f('+', f('-', m, D), D), m);
  EXPECT_EQ(t.str(f('+', m, Dim::lit(3))), "(D*D+D)/2+3"); // the whole constant is the offset
  EXPECT_EQ(f('/', Dim::lit(4), Dim::lit(2)), Dim::lit(2));
  EXPECT_EQ(f('/', Dim::lit(1), Dim::lit(3)).sym, kNotASize); // a number, not a size
  EXPECT_EQ(f('/', D, Dim::lit(0)).sym, kNotASize);
  Dim q = f('/', N, B);
  EXPECT_EQ(t.str(q), "N/B");
  EXPECT_EQ(f('/', N, B), q);
  EXPECT_EQ(f('/', f('*', Dim::lit(2), kd), kd), Dim::lit(2));
  // A quotient that is a polynomial is that polynomial; others share one atom however written.
  Dim nb = f('*', N, B);
  EXPECT_EQ(f('/', nb, B), N);
  EXPECT_EQ(f('/', f('+', f('*', Dim::lit(2), nb), f('*', Dim::lit(4), B)), f('*', Dim::lit(2), B)), (Dim{2, 2}));
  EXPECT_EQ(f('/', f('*', Dim::lit(2), N), f('*', Dim::lit(2), B)), q);
  EXPECT_EQ(f('/', f('*', Dim::lit(6), N), f('*', Dim::lit(4), B)), f('/', f('*', Dim::lit(3), N), f('*', Dim::lit(2), B)));
  EXPECT_EQ(t.str(f('/', f('*', Dim::lit(6), N), f('*', Dim::lit(4), B))), "(3*N)/(2*B)");
  EXPECT_EQ(f('/', f('*', K, N), f('*', K, B)) == q, false); // K may be 0: not cancelled
  EXPECT_EQ(t.str(negateDim(t, D)), "-D");
  // Nine factors exceed the degree a size keeps: a number, never a slow compile.
  Dim p = Dim::lit(1);
  for (int i = 1; i <= 9; ++i)
    p = f('*', p, Dim{1, i});
  EXPECT_EQ(p.sym, kNotASize);
  std::vector<int32_t> given;
  givenDimsOf(t, q.sym, given);
  EXPECT_EQ(given, (std::vector<int32_t>{3, 2}));
}

TEST(DimArith, ValuesAreComputedAndTheirDivisionChecked) {
  DimTable t;
  t.names = {"K", "D", "N", "B"};
  const Dim K{0, 0}, D{1, 0}, N{2, 0}, B{3, 0};
  Dim kd = foldDims(t, '*', K, D);
  Dim m = foldDims(t, '/', foldDims(t, '*', D, Dim{1, 1}), Dim::lit(2));
  Dim q = foldDims(t, '/', N, B);
  std::vector<int64_t> v{3, 4, 10, 5};
  EXPECT_EQ(completeDimValues(t, v, {kd.sym, m.sym, q.sym}), "");
  EXPECT_EQ(v[static_cast<size_t>(kd.sym)], 12);
  EXPECT_EQ(v[static_cast<size_t>(m.sym)], 10);
  EXPECT_EQ(v[static_cast<size_t>(q.sym)], 2);
  v = {3, 4, 10, 3};
  EXPECT_EQ(completeDimValues(t, v, {q.sym}), "N/B is 10/3, not a whole number, for N = 10, B = 3");
  EXPECT_EQ(completeDimValues(t, v, {kd.sym}), ""); // only the dims a function uses are checked
  Dim half = foldDims(t, '/', N, Dim::lit(2));
  v = {3, 4, 7, 3};
  EXPECT_EQ(completeDimValues(t, v, {half.sym}), "N/2 is not a whole number for N = 7");
  v = {int64_t(1) << 40, int64_t(1) << 40, 1, 1};
  EXPECT_EQ(completeDimValues(t, v, {kd.sym}), "K*D is beyond 2^56 for K = 1099511627776, D = 1099511627776");
  // At compile time, only the derived dims of bound dims get values.
  std::map<int32_t, int64_t> bound{{1, 3}};
  EXPECT_EQ(completeBoundDims(t, bound, {kd.sym, m.sym}), "");
  EXPECT_EQ(bound.count(kd.sym), 0u);
  EXPECT_EQ(bound.at(m.sym), 6);
}

// The interpreter and the JIT (dims passed at run time) agree, and the JIT's gradient is the
// central difference of the interpreter's value.
void expectAgrees(const std::string &src, const std::vector<Tensor> &at, const std::vector<int64_t> &dims,
                  double value) {
  SCOPED_TRACE(src);
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  ValueGrad vg = valueAndGrad(fn, at, dims);
  ASSERT_TRUE(vg.error.empty()) << vg.error;
  EXPECT_NEAR(vg.value.data[0], value, 1e-12 * std::max(1.0, std::fabs(value)));
  EvalResult jit = jitValueAndGrad(src, at, dims);
  ASSERT_TRUE(jit.ok()) << jit.error;
  EXPECT_NEAR(jit.outputs[0].data[0], value, 1e-12 * std::max(1.0, std::fabs(value)));
  for (size_t p = 0; p < at.size(); ++p)
    for (size_t i = 0; i < at[p].data.size(); ++i) {
      double fd = centralDifference(fn, at, p, i, dims);
      EXPECT_LT(relError(jit.outputs[p + 1].data[i], fd), 1e-6) << "parameter " << p << ", element " << i;
      EXPECT_LT(relError(vg.grads[p].data[i], jit.outputs[p + 1].data[i]), 1e-13);
    }
}

TEST(DimArith, ProgramsWithDerivedSizesAgreeEverywhere) {
  // GMM's packing: the first D columns of icf, then the D*(D-1)/2 below the diagonal.
  // K = 2, D = 3: M = 6; l = x * icf[:, 0:3] flattened to [6]; q = icf[:, 3:6].
  const std::string gmm = "dim K, D\n"
                          "dim M = D*(D+1)/2\n"
                          "def f(x: [K, D], icf: [K, M]) {\n"
                          "  q = icf[:, D:M]\n"
                          "  l = reshape(x * icf[:, 0:D], [K*D])\n"
                          "  return sum(l * l) + sum(q ^ 2) * M + sum(concat(l, reshape(q, [K*(M-D)])) * iota(K*M))\n"
                          "}\n";
  Tensor x = mat(2, 3, {1, 2, 3, 4, 5, 6}), icf = mat(2, 6, {1, -1, 2, 3, 0.5, -2, 1.5, 2, -1, 1, -0.5, 2});
  // l = [1, -2, 6, 6, 10, -6]: sum l^2 = 213; q = [3, .5, -2, 1, -.5, 2]: sum q^2 = 18.5, * 6 = 111;
  // concat(l, q) . iota(12) = (-2 + 12 + 18 + 40 - 30) + (18 + 3.5 - 16 + 9 - 5 + 22) = 38 + 31.5.
  expectAgrees(gmm, {x, icf}, {2, 3}, 213 + 111 + 69.5);
  // Sizes from two dims: the ODE's shift `concat(x[0:1], x[1:n] * y[0:n-1])` and a join of
  // [n] and [m] ([n+m]); a declared name for `n+1`.
  expectAgrees("dim n, m\n"
               "def f(x: [n], y: [m]) = sum(concat(x[0:1], x[1:n] * y[0:n-1], y) * iota(n+m))\n",
               {vec({1, 2, 3}), vec({4, 5, 6, 7})}, {3, 4},
               /* [1, 8, 15, 4, 5, 6, 7] . 0..6 */ 0 + 8 + 30 + 12 + 20 + 30 + 42);
  expectAgrees("dim n\ndim m = n + 1\ndef f(x: [m]) = sum(x[0:n] * x[1:m]) * m\n", {vec({1, 2, 3, 4})}, {3},
               (2 + 6 + 12) * 4);
  // A quotient of two dims: N rows in B batches of N/B.
  expectAgrees("dim N, B\ndef f(x: [N]) = sum(reshape(x, [B, N/B]) @ iota(N/B))\n", {vec({1, 2, 3, 4, 5, 6})},
               {6, 2}, (0 * 1 + 1 * 2 + 2 * 3) + (0 * 4 + 1 * 5 + 2 * 6));
}

TEST(DimArith, ASizeThatDoesNotDivideIsAnErrorOrNaN) {
  const std::string src = "dim N\ndim H = N/2\ndef f(x: [N]) = sum(x[0:H] * x[H:N])\n";
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  ValueGrad odd = valueAndGrad(cs->program.funcs[0], {vec({1, 2, 3, 4, 5})}, {5});
  EXPECT_EQ(odd.error, "H = N/2 is not a whole number for N = 5");
  EvalResult jit = jitValueAndGrad(src, {vec({1, 2, 3, 4, 5})}, {5});
  EXPECT_EQ(jit.error, "H = N/2 is not a whole number for N = 5");
  EvalResult even = jitValueAndGrad(src, {vec({1, 2, 3, 4})}, {4});
  ASSERT_TRUE(even.ok()) << even.error;
  EXPECT_EQ(even.outputs[0].data[0], 1 * 3 + 2 * 4);
  // Called directly, compiled code checks the division first: NaN, with nothing read or
  // written (sizes that cannot be are not trusted to say where outputs are).
  std::string error;
  auto again = compileOk(src);
  auto cf = compileFunction(again->program.funcs[0], {}, error);
  ASSERT_TRUE(cf) << error;
  using Grad = double (*)(int64_t, const double *, double *, void *);
  using Size = size_t (*)(int64_t);
  EXPECT_EQ(reinterpret_cast<Size>(cf->workspaceSize)(5), SIZE_MAX);
  double x[5] = {1, 2, 3, 4, 5}, dx[5] = {42, 42, 42, 42, 42};
  EXPECT_TRUE(std::isnan(reinterpret_cast<Grad>(cf->grad)(5, x, dx, nullptr)));
  EXPECT_EQ(dx[0], 42);
  EXPECT_EQ(reinterpret_cast<Grad>(cf->grad)(4, x, dx, nullptr), 1 * 3 + 2 * 4);
  EXPECT_EQ(std::vector<double>(dx, dx + 4), (std::vector<double>{3, 4, 1, 2}));
  // Bound at compile time, the same check is a compile error.
  BuildOptions bound;
  bound.boundDims[0] = 7;
  auto third = compileOk(src);
  EXPECT_FALSE(compileFunction(third->program.funcs[0], bound, error));
  EXPECT_EQ(error, "H = N/2 is not a whole number for N = 7");
  // A slice whose length is negative for the dims bound: an error before anything is made.
  auto slice = compileOk("dim K, D\ndim M = D*(D+1)/2\ndef f(x: [K, M]) = sum(x[:, 2*D:M])\n");
  bound.boundDims = {{0, 2}, {1, 2}};
  EXPECT_FALSE(compileFunction(slice->program.funcs[0], bound, error));
  EXPECT_EQ(error, "with the dims fixed at compile time (K = 2, D = 2), a value of shape [K, (D*D-3*D)/2] would "
                   "have a negative size (-1)");
}

// Found in review: sizes at the edge of 64 bits neither trap nor wrap; compiled code checks
// the dims a derived dim is made of, not only the one a shape names; a size only dead code
// mentions is not checked.
TEST(DimArith, EdgesFoundInReview) {
  EXPECT_NE(compileErrors("dim D\ndef f(x: [(-72057594037927936*D*128)/(-D)]) = sum(x)\n")
                .find("this size is too large a polynomial to keep"),
            std::string::npos); // a coefficient of -2^63: an error, not a trap
  EXPECT_TRUE(compileOk("dim D\ndef f(x: [D]) = sum(x) * ((-72057594037927936*D*128)/(-D))\n"));
  const std::string src = "dim N, B\ndef f(y: [(N/B)*(N/B)]) = sum(y)\n";
  std::string error;
  auto cs = compileOk(src);
  auto cf = compileFunction(cs->program.funcs[0], {}, error);
  ASSERT_TRUE(cf) << error;
  using Value = double (*)(int64_t, int64_t, const double *, void *);
  double y[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_EQ(reinterpret_cast<Value>(cf->value)(6, 2, y, nullptr), 9);
  EXPECT_TRUE(std::isnan(reinterpret_cast<Value>(cf->value)(5, 2, y, nullptr))); // N/B is not whole
  EXPECT_TRUE(std::isnan(reinterpret_cast<Value>(cf->value)(6, 0, y, nullptr))); // nor is N/0
  auto dead = compileOk("dim n\ndef f(x: [n]) {\n  unused = x[0:n/2]\n  return sum(x)\n}\n");
  ValueGrad vg = valueAndGrad(dead->program.funcs[0], {vec({1, 2, 3})}, {3});
  EXPECT_TRUE(vg.error.empty()) << vg.error;
  EXPECT_EQ(vg.value.data[0], 6);
}

TEST(DimArith, BadSizesAreLocatedErrors) {
  EXPECT_EQ(compileErrors("dim n\ndef f(x: [n^2]) = sum(x)\n"),
            "t.expr:2:12: error: '^' in a size: a size is made of whole numbers and dims with + - * / and parentheses\n"
            "  def f(x: [n^2]) = sum(x)\n"
            "             ^\n");
  EXPECT_EQ(compileErrors("dim n\ndim m = n/0\ndef f(x: [m]) = sum(x)\n"),
            "t.expr:2:10: error: this division is not a size: it divides by zero, or a number by one that does not "
            "divide it\n"
            "  dim m = n/0\n"
            "           ^\n");
  EXPECT_EQ(compileErrors("dim m = n + 1\ndim n\ndef f(x: [m]) = sum(x)\n"),
            "t.expr:1:9: error: dim 'n' is used before its declaration\n"
            "  dim m = n + 1\n"
            "          ^\n");
  EXPECT_EQ(compileErrors("dim n\ndef f(x: [n-n-1]) = sum(x)\n"),
            "t.expr:2:11: error: this shape entry is -1: a size is between 0 and 1099511627776 (2^40)\n"
            "  def f(x: [n-n-1]) = sum(x)\n"
            "            ^\n");
  EXPECT_EQ(compileErrors("dim K, D\ndef f(x: [K, D]) = sum(reshape(x, [K*D+1]))\n"),
            "t.expr:2:24: error: cannot reshape [K, D] to [K*D+1]: the number of elements differs\n"
            "  def f(x: [K, D]) = sum(reshape(x, [K*D+1]))\n"
            "                         ^\n");
  std::string p = "dim n\ndef f(x: [(n+1)*(n+2)*(n+3)*(n+4)*(n+5)*(n+6)*(n+7)*(n+8)*(n+9)]) = sum(x)\n";
  EXPECT_EQ(compileErrors(p), "t.expr:2:58: error: this size is too large a polynomial to keep (at most 32 terms of "
                              "degree 8, coefficients within 2^63)\n"
                              "  def f(x: [(n+1)*(n+2)*(n+3)*(n+4)*(n+5)*(n+6)*(n+7)*(n+8)*(n+9)]) = sum(x)\n"
                              "                                                           ^\n");
}

} // namespace
