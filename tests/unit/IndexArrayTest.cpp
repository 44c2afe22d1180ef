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

// NumPy's advanced indexing with several index arrays: they broadcast together into one shape
// S; where the advanced indices (arrays and integers) are next to each other S takes their
// place, where a slice separates them S comes first. Values are X's flat positions, so each
// expected element names the element it read.
TEST(IndexArrays, SeveralArraysBroadcastAndPlaceTheirAxesAsNumPy) {
  auto iota = [](std::vector<int64_t> shape) {
    Tensor t{shape, {}};
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    for (int64_t k = 0; k < n; ++k)
      t.data.push_back(static_cast<double>(k));
    return t;
  };
  // X[i, j] with i, j: [3] is [X[3, 1], X[0, 0], X[3, 1]] = [7, 0, 7]; weights 1, 2, 4: 35.
  // (3, 1) is read twice: its gradient is 1 + 4; w's gradient is what was read.
  expectGathered("def f(X: [4, 2], i: const i32[3], j: const i32[3], w: [3]) = sum(X[i, j] * w)\n",
                 {iota({4, 2}), ints({3, 0, 3}), ints({1, 0, 1}), vec({1, 2, 4})}, 35,
                 {{2, 0, 0, 0, 0, 0, 0, 5}, {}, {}, {7, 0, 7}});
  // i: [3, 1] and j: [2] broadcast to [3, 2]: [[X[3,1], X[3,0]], [X[0,1], X[0,0]], [X[3,1], X[3,0]]]
  // = [[7, 6], [1, 0], [7, 6]], weighted by 1..6: 7 + 12 + 3 + 0 + 35 + 36 = 93.
  expectGathered("def f(X: [4, 2], i: const i32[3, 1], j: const i64[2]) = "
                 "sum(X[i, j] * [[1, 2], [3, 4], [5, 6]])\n",
                 {iota({4, 2}), Tensor{{3, 1}, {3, 0, 3}}, ints({1, 0})}, 93, {{4, 3, 0, 0, 0, 0, 8, 6}});
  // Adjacent after a slice: A[:, i, j] is [2, 2] in place, A[b, i[s], j[s]] = [[7, 3], [15, 11]];
  // weighted by 1..4: 7 + 6 + 45 + 44 = 102.
  std::vector<double> adjacent(16, 0.0);
  adjacent[7] = 1, adjacent[3] = 2, adjacent[15] = 3, adjacent[11] = 4;
  expectGathered("def f(A: [2, 4, 2], i: const i32[2], j: const i32[2]) = sum(A[:, i, j] * [[1, 2], [3, 4]])\n",
                 {iota({2, 4, 2}), ints({3, 1}), ints({1, 1})}, 102, {adjacent});
  // Separated by a slice: A[i, :, j] is [2, 4] with S first, A[i[s], m, j[s]]: rows
  // [8, 10, 12, 14] and [1, 3, 5, 7]; times iota(4): 76 + 34.
  std::vector<double> apart(16, 0.0);
  for (int m = 0; m < 4; ++m)
    apart[static_cast<size_t>(8 + 2 * m)] = m, apart[static_cast<size_t>(1 + 2 * m)] = m;
  expectGathered("def f(A: [2, 4, 2], i: const i32[2], j: const i32[2]) = sum(A[i, :, j] * iota(4))\n",
                 {iota({2, 4, 2}), ints({1, 0}), ints({0, 1})}, 110, {apart});
  // An integer counts as an advanced index: X[0, :, i] puts i's axis first ([3, 2]):
  // [[X[0,0,4], X[0,1,4]], [X[0,0,0], X[0,1,0]], [X[0,0,4], X[0,1,4]]] = [[4, 9], [0, 5], [4, 9]].
  std::vector<double> first(40, 0.0);
  first[4] = 1 + 5, first[9] = 2 + 6, first[0] = 3, first[5] = 4;
  expectGathered("def f(X: [4, 2, 5], i: const i32[3]) = sum(X[0, :, i] * [[1, 2], [3, 4], [5, 6]])\n",
                 {iota({4, 2, 5}), ints({4, 0, 4})}, 116, {first});
  // An integer between two arrays keeps them adjacent: X[i, 1, j] is [3] in place.
  expectGathered("def f(X: [4, 2, 5], i: const i32[3], j: const i32[3]) = sum(X[i, 1, j] * [1, 2, 3])\n",
                 {iota({4, 2, 5}), ints({3, 0, 1}), ints({4, 2, 0})},
                 (30 + 5 + 4) * 1 + (0 + 5 + 2) * 2 + (10 + 5 + 0) * 3, {[] {
                   std::vector<double> d(40, 0.0);
                   d[39] = 1, d[7] = 2, d[15] = 3;
                   return d;
                 }()});
}

TEST(IndexArrays, TheSecondArrayIsCheckedToo) {
  const char *src = "def f(X: [4, 2], i: const i32[3], j: const i32[3]) = sum(X[i, j])\n";
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  Tensor x = mat(4, 2, {1, 2, 3, 4, 5, 6, 7, 8});
  ValueGrad vg = valueAndGrad(cs->program.funcs[0], {x, ints({0, 3, 1}), ints({0, 2, 1})});
  EXPECT_EQ(vg.error, "index 2 (element 1 of the index array) is out of range for the axis it indexes, of size 2");
  std::string error;
  auto cf = compileFunction(cs->program.funcs[0], {}, error);
  ASSERT_TRUE(cf) << error;
  EvalResult r = invokeCompiled(*cf, cs->program.funcs[0], {x, ints({0, 3, 1}), ints({0, 2, 1})}, {});
  EXPECT_EQ(r.error, "index j[1] = 2 is out of range for the axis it indexes, of size 2");
  // Called directly: NaN, both arrays checked before anything is read.
  using Value = double (*)(const double *, const int32_t *, const int32_t *, void *);
  int32_t i[3] = {0, 3, 1}, badJ[3] = {0, 2, 1}, goodJ[3] = {1, 1, 0};
  using Size = size_t (*)();
  std::vector<unsigned char> ws(reinterpret_cast<Size>(cf->workspaceSize)() + 16);
  EXPECT_TRUE(std::isnan(reinterpret_cast<Value>(cf->value)(x.data.data(), i, badJ, ws.data())));
  EXPECT_EQ(reinterpret_cast<Value>(cf->value)(x.data.data(), i, goodJ, ws.data()), 2 + 8 + 3);
}

TEST(IndexArrays, ErrorsAtCompileTime) {
  EXPECT_EQ(compileErrors("def f(X: [4, 2], i: const i32[3], j: const i32[2]) = sum(X[i, j])\n"),
            "t.expr:1:59: error: shapes [3] and [2] cannot be broadcast together in the index arrays of a subscript\n"
            "  def f(X: [4, 2], i: const i32[3], j: const i32[2]) = sum(X[i, j])\n"
            "                                                            ^\n");
  EXPECT_EQ(compileErrors("def f(X: [4, 2], i: [3]) = sum(X[i])\n"),
            "t.expr:1:34: error: an index must be an integer literal, a dim expression such as 'n-1', or an integer "
            "array (a const i32 or i64 parameter), not a value of type f64[3]\n"
            "  def f(X: [4, 2], i: [3]) = sum(X[i])\n"
            "                                   ^\n");
}

} // namespace
