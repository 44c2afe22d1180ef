// IndexArrayTest.cpp: indexing by integer arrays (x[idx], A[:, idx], x[k] for an integer
// parameter k): exact values, repeated indices adding their gradients, the JIT against the
// interpreter, out-of-range indices (a located error before the call, NaN from compiled code,
// nothing read). Emitted C runs gathers in the differential suite (TensorProgramGenerator.h).
#include "TestUtil.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

using namespace gradc;
using namespace gradc::test;

namespace {

Tensor ints(std::vector<double> v) { return vec(std::move(v)); }

// The interpreter's value and gradients are `value` and `grads`; the JIT's the same.
void expectGathered(const std::string &src, const std::vector<Tensor> &at, double value,
                    const std::vector<std::vector<double>> &grads) {
  SCOPED_TRACE(src);
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  ValueGrad vg = valueAndGrad(cs->program.funcs[0], at);
  ASSERT_TRUE(vg.error.empty()) << vg.error;
  EXPECT_EQ(vg.value.data[0], value);
  EvalResult jit = jitValueAndGrad(src, at);
  ASSERT_TRUE(jit.ok()) << jit.error;
  EXPECT_EQ(jit.outputs[0].data[0], value);
  for (size_t p = 0; p < grads.size(); ++p) {
    EXPECT_EQ(vg.grads[p].data, grads[p]) << "interpreter, parameter " << p;
    EXPECT_EQ(jit.outputs[p + 1].data, grads[p]) << "JIT, parameter " << p;
  }
}

TEST(IndexArrays, RowsGatheredAndRepeatedIndicesAddTheirGradients) {
  // X[idx] = rows 0, 3, 3, 1, 3 of X; @ w = [-1.5, -4.5, -4.5, -2.5, -4.5]; times 0..4: -39.
  // Row 3 is read three times (weights 1, 2, 4): its gradient is 7 w; row 1 once (3 w).
  expectGathered("def f(X: [4, 2], idx: const i32[5], w: [2]) = sum(X[idx] @ w * iota(5))\n",
                 {mat(4, 2, {1, 2, 3, 4, 5, 6, 7, 8}), ints({0, 3, 3, 1, 3}), vec({0.5, -1})}, -39,
                 {{0, 0, 1.5, -3, 0, 0, 3.5, -7}, {}, {58, 68}});
  // A column gathered: X[:, 1][idx] = [2, 8, 8, 4, 8], squares summed 212, plus X[idx, 0]
  // (the index array on axis 0, an integer after it) summed 1 + 7 + 7 + 3 + 7 = 25.
  expectGathered("def f(X: [4, 2], idx: const i32[5]) = sum(X[:, 1][idx] ^ 2) + sum(X[idx, 0])\n",
                 {mat(4, 2, {1, 2, 3, 4, 5, 6, 7, 8}), ints({0, 3, 3, 1, 3})}, 212 + 25,
                 {{1, 4, 1, 8, 0, 0, 3, 48}});
  // An index array of rank 2 on the second axis: A[:, J] is [2, 2, 2].
  expectGathered("def f(A: [2, 3], J: const i64[2, 2]) = sum(A[:, J] * [[1, 2], [3, 4]])\n",
                 {mat(2, 3, {1, 2, 3, 4, 5, 6}), Tensor{{2, 2}, {2, 0, 0, 1}}},
                 (3 * 1 + 1 * 2 + 1 * 3 + 2 * 4) + (6 * 1 + 4 * 2 + 4 * 3 + 5 * 4), {{5, 4, 1, 5, 4, 1}});
  // A scalar integer parameter indexes like a literal, known only at run time.
  expectGathered("def f(X: [4, 2], k: const i64) = X[k, 1] * 3\n", {mat(4, 2, {1, 2, 3, 4, 5, 6, 7, 8}), scalar(2)}, 18,
                 {{0, 0, 0, 0, 0, 3, 0, 0}});
}

TEST(IndexArrays, AnIndexOutOfRangeIsALocatedErrorOrNaN) {
  const char *src = "def f(X: [4, 2], idx: const i32[3]) = sum(X[idx])\n";
  auto cs = compileOk(src);
  ValueGrad vg = valueAndGrad(cs->program.funcs[0], {mat(4, 2, {1, 2, 3, 4, 5, 6, 7, 8}), ints({0, 4, 1})});
  EXPECT_EQ(vg.error, "index 4 (element 1 of the index array) is out of range for the axis it indexes, of size 4");
  std::string error;
  auto again = compileOk(src);
  auto cf = compileFunction(again->program.funcs[0], {}, error);
  ASSERT_TRUE(cf) << error;
  EvalResult r = invokeCompiled(*cf, again->program.funcs[0], {mat(4, 2, {1, 2, 3, 4, 5, 6, 7, 8}), ints({0, 4, 1})}, {});
  EXPECT_EQ(r.error, "index idx[1] = 4 is out of range for the axis it indexes, of size 4");
  // A negative element does not count from the end (docs/LANGUAGE.md).
  EvalResult negative = invokeCompiled(*cf, again->program.funcs[0], {mat(4, 2, {1, 2, 3, 4, 5, 6, 7, 8}), ints({0, -1, 1})}, {});
  EXPECT_EQ(negative.error, "index idx[1] = -1 is out of range for the axis it indexes, of size 4");
  EXPECT_EQ(r.errorLoc.line, 1u);
  EXPECT_EQ(r.errorLoc.col, 44u); // the subscript
  // Called directly, compiled code checks every index first: NaN, and X is not read (a heap
  // block of exactly its size: ASan reports any read past it).
  using Grad = double (*)(const double *, const int32_t *, double *, void *);
  double *x = static_cast<double *>(std::malloc(8 * sizeof(double)));
  for (int i = 0; i < 8; ++i)
    x[i] = i;
  int32_t bad[3] = {0, -1, 1}, good[3] = {3, 3, 0};
  double dx[8];
  using Size = size_t (*)();
  std::vector<unsigned char> ws(reinterpret_cast<Size>(cf->workspaceSize)() + 16);
  EXPECT_TRUE(std::isnan(reinterpret_cast<Grad>(cf->grad)(x, bad, dx, ws.data())));
  EXPECT_TRUE(std::isnan(dx[0]) && std::isnan(dx[7]));
  EXPECT_EQ(reinterpret_cast<Grad>(cf->grad)(x, good, dx, ws.data()), 6 + 7 + 6 + 7 + 0 + 1);
  EXPECT_EQ(std::vector<double>(dx, dx + 8), (std::vector<double>{1, 1, 0, 0, 0, 0, 2, 2}));
  std::free(x);
}

TEST(IndexArrays, ErrorsAtCompileTime) {
  // NumPy would put the gathered axis first here ([3, 2]); gradc refuses rather than differ.
  EXPECT_EQ(compileErrors("def f(X: [4, 2, 5], i: const i32[3]) = sum(X[0, :, i])\n"),
            "t.expr:1:45: error: an index array and an integer index separated by a slice: NumPy would put the "
            "gathered axes first; index in two steps to say which order you mean\n"
            "  def f(X: [4, 2, 5], i: const i32[3]) = sum(X[0, :, i])\n"
            "                                              ^\n");
  // Adjacent, or with the array first, both agree with NumPy and compile.
  EXPECT_TRUE(compileOk("def f(X: [4, 2, 5], i: const i32[3]) = sum(X[0, i]) + sum(X[i, :, 0]) + sum(X[:, 0, i])\n"));
  EXPECT_EQ(compileErrors("def f(X: [4, 2], i: const i32[3]) = sum(X[i, i])\n"),
            "t.expr:1:46: error: one index array per subscript for now (NumPy's several, broadcast together, are "
            "not supported yet)\n"
            "  def f(X: [4, 2], i: const i32[3]) = sum(X[i, i])\n"
            "                                               ^\n");
  EXPECT_EQ(compileErrors("def f(X: [4, 2], i: [3]) = sum(X[i])\n"),
            "t.expr:1:34: error: an index must be an integer literal, a dim expression such as 'n-1', or an integer "
            "array (a const i32 or i64 parameter), not a value of type f64[3]\n"
            "  def f(X: [4, 2], i: [3]) = sum(X[i])\n"
            "                                   ^\n");
}

} // namespace
