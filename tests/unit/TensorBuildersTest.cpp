// TensorBuildersTest.cpp: tensors built from pieces or from nothing (list literals, stack,
// concat, zeros, ones, full, iota, eye) and the structure builtins (tril ... flip): exact
// values, gradients against finite differences, the JIT against the interpreter, and the
// errors word for word. Emitted C runs them in the differential suite
// (TensorProgramGenerator.h).
#include "TestUtil.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace gradc;
using namespace gradc::test;

namespace {

// Value and gradients on the interpreter: the value is `want`, every gradient matches central
// differences; the JIT gives the same to 1e-13.
void expectBuilt(const std::string &src, const std::vector<Tensor> &at, const std::vector<int64_t> &dims,
                 double want) {
  SCOPED_TRACE(src);
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  ValueGrad vg = valueAndGrad(fn, at, dims);
  ASSERT_TRUE(vg.error.empty()) << vg.error;
  EXPECT_NEAR(vg.value.data[0], want, 1e-13);
  for (size_t p = 0; p < at.size(); ++p)
    for (size_t i = 0; i < at[p].data.size(); ++i)
      EXPECT_NEAR(vg.grads[p].data[i], centralDifference(fn, at, p, i, dims), 1e-7 + 1e-9 * std::fabs(want))
          << "d" << p << "[" << i << "]"; // central differences lose |f| * 1e-16 / 1e-6
  EvalResult jit = jitValueAndGrad(src, at, dims);
  ASSERT_TRUE(jit.ok()) << jit.error;
  EXPECT_NEAR(jit.outputs[0].data[0], want, 1e-13);
  for (size_t p = 0; p < at.size(); ++p)
    for (size_t i = 0; i < at[p].data.size(); ++i)
      EXPECT_NEAR(jit.outputs[p + 1].data[i], vg.grads[p].data[i], 1e-13) << "JIT d" << p << "[" << i << "]";
}

TEST(TensorBuilders, ListsStackConcatAndFillsComputeWhatTheyWrite) {
  // v = [0.3, -1.4, -0.21], v . iota(3) = -1.82; m @ eye(2) sums to -0.8; c = [0.5, -0.5, -2],
  // sum(c^2) = 4.5; s = [[0.5, 0.15], [-1, -0.3], [2, 0.6]] times -0.7: -1.365. Total 0.515.
  expectBuilt("dim n\ndef f(x: [n], a, b) {\n"
              "  v = [a, b * 2, a * b]\n"
              "  m = [[a, b], [b, a]]\n"
              "  c = concat(x[0:1], x[1:n] * x[0:n-1])\n"
              "  s = stack(x, x * a, axis=1)\n"
              "  z = zeros([n, 2]) + ones([n, 2]) * full([n, 2], b)\n"
              "  return sum(v * iota(3)) + sum(m @ eye(2)) + sum(c * c) + sum(s * z)\n}\n",
              {vec({0.5, -1, 2}), scalar(0.3), scalar(-0.7)}, {3}, 0.515);
}

TEST(TensorBuilders, PiecesAreReadWhereTheyLandAndNowhereElse) {
  // concat([1], [20, 30, 40])[2] is 30 (b[2] * s), through a constant index of the joined value.
  expectBuilt("def f(b: [4], s) = concat(b[0:1], b[1:4] * s)[2]\n", {vec({1, 2, 3, 4}), scalar(10)}, {}, 30);
  // Along axis 1, and negative axes: [[1, 2, 5], [3, 4, 6]] summed with weights iota(3).
  expectBuilt("def f(A: [2, 2], c: [2]) = sum(concat(A, stack(c, axis=-1), axis=-1) * iota(3))\n",
              {mat(2, 2, {1, 2, 3, 4}), vec({5, 6})}, {}, 2 + 2 * 5 + 4 + 2 * 6);
  // A stack along the last axis of a matrix: the new axis is last.
  expectBuilt("def f(A: [2, 2]) = stack(A, A * 2, axis=2)[1, 0, 1]\n", {mat(2, 2, {1, 2, 3, 4})}, {}, 6);
}

TEST(TensorBuilders, ManyPiecesJoinInOneValue) {
  // 60 pieces (more than fusion's depth of 48): element k of the joined vector is x[k % 3] * k,
  // each piece a slice of one element.
  std::string pieces;
  double want = 0;
  for (int k = 0; k < 60; ++k) {
    pieces += std::string(k ? ", " : "") + "x[" + std::to_string(k % 3) + ":" + std::to_string(k % 3 + 1) + "] * " +
              std::to_string(k);
    want += (k % 3 + 1) * k * (k % 7);
  }
  std::string weights = "[";
  for (int k = 0; k < 60; ++k)
    weights += std::string(k ? ", " : "") + std::to_string(k % 7);
  expectBuilt("def f(x: [3]) = sum(concat(" + pieces + ") * " + weights + "])\n", {vec({1, 2, 3})}, {}, want);
  EXPECT_EQ(compileErrors("def f(x: [3]) = concat()\n"), "t.expr:1:17: error: 'concat' takes at least 1 argument, got 0\n"
                                                          "  def f(x: [3]) = concat()\n"
                                                          "                  ^\n");
}

TEST(TensorBuilders, ErrorsNameThePieceAndTheRule) {
  auto err = [](const std::string &body) {
    return compileErrors("dim n, m\ndef f(x: [n], y: [m], a, b) = " + body + "\n");
  };
  EXPECT_EQ(err("[x, a]"), "t.expr:2:35: error: a list: element 2 has shape scalar, element 1 has [n] (stacked "
                           "elements have one shape)\n"
                           "  def f(x: [n], y: [m], a, b) = [x, a]\n"
                           "                                    ^\n");
  EXPECT_EQ(err("concat(x, [a, b], [[a]])"), "t.expr:2:49: error: 'concat': piece 3 has shape [1, 1], which does "
                                             "not join [n] along axis 0\n"
                                             "  def f(x: [n], y: [m], a, b) = concat(x, [a, b], [[a]])\n"
                                             "                                                  ^\n");
  EXPECT_EQ(err("concat(a, b)"), "t.expr:2:31: error: 'concat' joins tensors along an axis: a scalar has none "
                                 "(stack scalars instead)\n"
                                 "  def f(x: [n], y: [m], a, b) = concat(a, b)\n"
                                 "                                ^\n");
  EXPECT_EQ(err("stack(x, x, axis=-3)"), "t.expr:2:31: error: axis -3 is out of range for 'stack' of rank 2\n"
                                         "  def f(x: [n], y: [m], a, b) = stack(x, x, axis=-3)\n"
                                         "                                ^\n");
  EXPECT_EQ(err("zeros(3)"), "t.expr:2:37: error: the shape argument of 'zeros' must be a list such as [n, 3]\n"
                             "  def f(x: [n], y: [m], a, b) = zeros(3)\n"
                             "                                      ^\n");
  EXPECT_EQ(err("iota(0)"), "t.expr:2:36: error: the size given to 'iota' must be between 1 and 2^40, not 0\n"
                            "  def f(x: [n], y: [m], a, b) = iota(0)\n"
                            "                                     ^\n");
  EXPECT_EQ(err("full([2], x)"), "t.expr:2:41: error: the fill value of 'full' must be a scalar, not [n]\n"
                                 "  def f(x: [n], y: [m], a, b) = full([2], x)\n"
                                 "                                          ^\n");
}

TEST(StructureBuiltins, EachComputesWhatNumPyDoes) {
  // The same sums written out element by element (in Python, without NumPy): 1072.105551275464.
  expectBuilt("def f(A: [3, 3], a: [3], b: [3]) {\n"
              "  t = sum(tril(A) * 1) + 2 * sum(triu(A, k=1)) + 3 * sum(tril(A, k=-1))\n"
              "  d = sum(diag(a) @ A) + trace(A) + sum(diagonal(A) * b)\n"
              "  o = sum(outer(a, b) * A) + sum(cross(a, b) * iota(3))\n"
              "  p = prod(a) + sum(prod(A, axis=1)) + norm(b) + sum(flip(a) * iota(3)) + sum(flip(A, axis=1) * A)\n"
              "  return t + d + o + p\n}\n",
              {mat(3, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9}), vec({0.5, -1, 2}), vec({3, 0, -2})}, {}, 1072.105551275464);
}

// cumsum, along each axis and flattened; its adjoint is the running sum from the other end.
// cumsum(a) . iota(3) = 2.5; cumsum(A, axis=1) . A = 176; |cumsum(A, axis=0)|^2 = 169;
// sum(cumsum(A)) = 1 + 3 + 6 + 10 + 15 + 21 = 56.
TEST(StructureBuiltins, CumsumRunsAlongAnAxis) {
  expectBuilt("def f(A: [2, 3], a: [3]) = sum(cumsum(a) * iota(3)) + sum(cumsum(A, axis=1) * A) + "
              "sum(cumsum(A, axis=0) ^ 2) + sum(cumsum(A))\n",
              {mat(2, 3, {1, 2, 3, 4, 5, 6}), vec({0.5, -1, 2})}, {}, 2.5 + 176 + 169 + 56);
  expectBuilt("dim n\ndef f(x: [n]) = sum(cumsum(x, axis=-1) * x)\n", {vec({1, 2, 3})}, {3}, 1 + 6 + 18);
  EXPECT_EQ(compileErrors("def f(x: [3]) = sum(cumsum(x, axis=1))\n"),
            "t.expr:1:21: error: axis 1 is out of range for a value of shape [3]\n"
            "  def f(x: [3]) = sum(cumsum(x, axis=1))\n"
            "                      ^\n");
}

// s[iota(N), y] is pick(s, y): one graph, so one value and gradient.
TEST(StructureBuiltins, IotaAndLabelsIndexAsPick) {
  auto cs = compileOk("dim n\ndef f(s: [n, 3], y: const i32[n]) = sum(s[iota(n), y] * iota(n))\n");
  ASSERT_TRUE(cs);
  const Graph &g = *cs->program.funcs[0].graph;
  bool picks = false;
  for (size_t i = 0; i < g.size(); ++i)
    picks = picks || g.node(static_cast<NodeId>(i)).op == Op::Pick;
  EXPECT_TRUE(picks);
  // rows 0, 1: s[0, 2] * 0 + s[1, 0] * 1 = 4.
  EvalResult r = jitValueAndGrad("dim n\ndef f(s: [n, 3], y: const i32[n]) = sum(s[iota(n), y] * iota(n))\n",
                                 {mat(2, 3, {1, 2, 3, 4, 5, 6}), vec({2, 0})}, {2});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.outputs[0].data[0], 4);
  EXPECT_EQ(r.outputs[1].data, (std::vector<double>{0, 0, 0, 1, 0, 0}));
}

TEST(StructureBuiltins, ProdAndNormGradientsAtZero) {
  // d prod = the product of the others, also where an element is 0: [0, 2, 3] -> [6, 0, 0];
  // two zeros -> all 0. d norm at 0 is 0 (PyTorch), not 0/0.
  for (auto [at, want] : {std::pair{std::vector<double>{0, 2, 3}, std::vector<double>{6, 0, 0}},
                          std::pair{std::vector<double>{0, 0, 3}, std::vector<double>{0, 0, 0}},
                          std::pair{std::vector<double>{-1, 2, 4}, std::vector<double>{8, -4, -2}}}) {
    auto cs = compileOk("def f(x: [3]) = prod(x)\n");
    ValueGrad vg = valueAndGrad(cs->program.funcs[0], {vec(at)});
    EXPECT_EQ(vg.grads[0].data, want);
    EvalResult jit = jitValueAndGrad("def f(x: [3]) = prod(x)\n", {vec(at)});
    ASSERT_TRUE(jit.ok()) << jit.error;
    EXPECT_EQ(jit.outputs[1].data, want);
  }
  auto cs = compileOk("def f(x: [3]) = norm(x)\n");
  ValueGrad vg = valueAndGrad(cs->program.funcs[0], {vec({0, 0, 0})});
  EXPECT_EQ(vg.value.data[0], 0);
  EXPECT_EQ(vg.grads[0].data, (std::vector<double>{0, 0, 0}));
}

TEST(StructureBuiltins, ErrorsSayWhatShapeIsNeeded) {
  auto err = [](const std::string &body) { return compileErrors("def f(A: [2, 3], v: [2]) = " + body + "\n"); };
  EXPECT_EQ(err("trace(A)"), "t.expr:1:28: error: 'diagonal' needs square matrices (the last two axes equal), not "
                             "[2, 3]\n"
                             "  def f(A: [2, 3], v: [2]) = trace(A)\n"
                             "                             ^\n");
  EXPECT_EQ(err("diag(A)"), "t.expr:1:28: error: 'diag' makes a matrix of a vector, not of [2, 3] (the diagonal of a "
                            "matrix is 'diagonal')\n"
                            "  def f(A: [2, 3], v: [2]) = diag(A)\n"
                            "                             ^\n");
  EXPECT_EQ(err("cross(v, v)"), "t.expr:1:28: error: 'cross' needs 3-vectors along axis 0, not [2]\n"
                                "  def f(A: [2, 3], v: [2]) = cross(v, v)\n"
                                "                             ^\n");
  EXPECT_EQ(err("tril(A, j=1)"), "t.expr:1:36: error: unknown keyword argument 'j' for 'tril'\n"
                                 "  def f(A: [2, 3], v: [2]) = tril(A, j=1)\n"
                                 "                                     ^\n");
}

} // namespace
