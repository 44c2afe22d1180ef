// InterpreterTest.cpp: tensor ops in the reference interpreter: exact values, and
// gradients (which always have their parameter's shape) against finite differences.
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace gradc;
using namespace gradc::test;

// Checks every gradient element of a scalar-valued function against central differences.
static void checkGradients(const std::string &src, std::vector<Tensor> at,
                           std::vector<int64_t> dims = {}) {
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs.back();
  ValueGrad r = valueAndGrad(fn, at, dims);
  ASSERT_TRUE(r.error.empty()) << r.error;
  for (size_t p = 0; p < at.size(); ++p) {
    if (fn.params[p].isConst)
      continue;
    ASSERT_EQ(r.grads[p].shape, at[p].shape) << "parameter " << fn.params[p].name;
    for (size_t i = 0; i < at[p].data.size(); ++i)
      EXPECT_LE(relError(r.grads[p].data[i], centralDifference(fn, at, p, i, dims)), 1e-8)
          << fn.params[p].name << "[" << i << "] in\n" << src;
  }
}

TEST(Interpreter, BroadcastingFollowsNumpy) {
  auto cs = compileOk("def f(A: [2, 3], b: [3], c: [2, 1]) = A + b * c\n");
  ASSERT_TRUE(cs);
  Tensor v = valueOf(cs->program.funcs[0], {mat(2, 3, {1, 2, 3, 4, 5, 6}), vec({10, 20, 30}),
                                            mat(2, 1, {1, 2})});
  EXPECT_EQ(v.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(v.data, (std::vector<double>{11, 22, 33, 24, 45, 66}));
  checkGradients("def f(A: [2, 3], b: [3], c: [2, 1]) = sum((A + b * c)^2)\n",
                 {randomTensor({2, 3}, 1), randomTensor({3}, 2), randomTensor({2, 1}, 3)});
}

TEST(Interpreter, ReductionsOverAxesDropTheAxis) {
  auto cs = compileOk("def f(A: [2, 3]) = sum(A, axis=0) + mean(A, axis=-1)[0]\n");
  ASSERT_TRUE(cs);
  Tensor v = valueOf(cs->program.funcs[0], {mat(2, 3, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(v.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(v.data, (std::vector<double>{7, 9, 11}));
  checkGradients("def f(A: [2, 3]) = sum(sin(sum(A, axis=1))) + mean(A^2)\n",
                 {randomTensor({2, 3}, 4)});
}

TEST(Interpreter, MatmulInEveryRankCombination) {
  auto cs = compileOk("def f(A: [2, 2], x: [2]) = sum(A @ x) + x @ x + sum(x @ A) + sum(A @ A)\n");
  ASSERT_TRUE(cs);
  Tensor v = valueOf(cs->program.funcs[0], {mat(2, 2, {1, 2, 3, 4}), vec({1, -1})});
  // A@x = [-1, -1]; x@x = 2; x@A = [-2, -2]; A@A = [[7, 10], [15, 22]]
  EXPECT_EQ(v.data[0], -2 + 2 - 4 + 54);
  checkGradients("def f(A: [3, 2], B: [2, 4], x: [2], y: [3]) = "
                 "sum((A @ B)^2) + sum(sin(A @ x)) + (y @ A) @ x + x @ x\n",
                 {randomTensor({3, 2}, 5), randomTensor({2, 4}, 6), randomTensor({2}, 7),
                  randomTensor({3}, 8)});
}

TEST(Interpreter, TransposeReshapeIndexAndSlices) {
  auto cs = compileOk("def f(A: [2, 3]) = reshape(A.T, [6])[1:4]\n");
  ASSERT_TRUE(cs);
  Tensor v = valueOf(cs->program.funcs[0], {mat(2, 3, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(v.data, (std::vector<double>{4, 2, 5}));
  checkGradients("def f(A: [2, 3]) = sum(transpose(A)[1, :] * A[0, 0:2]) + A[1, 2]^2 + "
                 "sum(reshape(A, [3, 2])[:, 1])\n",
                 {randomTensor({2, 3}, 9)});
}

TEST(Interpreter, DimsBindAtRunTimeInShapesSlicesAndValues) {
  // rosenbrock over x[0:n], with the dim as a number too
  std::string src = "dim n\ndef rosen(x: [n]) = sum(100*(x[1:n]-x[0:n-1]^2)^2 + (1-x[0:n-1])^2) / n\n";
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  Tensor v = valueOf(cs->program.funcs[0], {vec({1, 1, 1, 1})}, {4});
  EXPECT_EQ(v.data[0], 0.0);
  v = valueOf(cs->program.funcs[0], {vec({0, 0, 0})}, {3});
  EXPECT_EQ(v.data[0], 2.0 / 3.0);
  checkGradients(src, {randomTensor({5}, 10)}, {5});
}

TEST(Interpreter, WhereAndComparisonsMaskTheGradient) {
  checkGradients("def f(x: [4], y: [4]) = sum(where(x > y, x * y, y^2) + max(x, 0.1) * min(y, 0.2))\n",
                 {vec({0.5, -0.3, 1.2, -1.1}), vec({0.1, 0.4, -0.7, 0.9})});
}

TEST(Interpreter, UserFunctionsAreInlined) {
  checkGradients("def sq(v: [3]) = v * v\ndef f(x: [3], s) = sum(sq(x) * s + sq(sin(x)))\n",
                 {randomTensor({3}, 11), scalar(0.3)});
}

TEST(Interpreter, IndexOutOfRangeAtRunTimeIsAnErrorNotARead) {
  auto cs = compileOk("dim n\ndef f(x: [n]) = x[5]\n");
  ASSERT_TRUE(cs);
  ValueGrad r = valueAndGrad(cs->program.funcs[0], {vec({1, 2, 3})}, {3});
  EXPECT_EQ(r.error, "index 5 is out of range for axis 0 of size 3");
}
