// ReverseModeTest.cpp: the lecture's gradients, fan-out, const parameters, vector-
// Jacobian products, and the size of gradient graphs.
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

using namespace gradc;
using namespace gradc::test;

static std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

static void expectNear(const Tensor &got, const std::vector<double> &want, double rel = 1e-12) {
  ASSERT_EQ(got.data.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_LE(std::fabs(got.data[i] - want[i]), rel * std::max(1e-300, std::fabs(want[i])))
        << "element " << i << ": got " << got.data[i] << ", want " << want[i];
}

class Lecture : public ::testing::Test {
protected:
  void SetUp() override {
    cs = compileOk(readFile(std::string(GRADC_EXAMPLES_DIR) + "/lecture4.expr"));
    ASSERT_TRUE(cs);
  }
  Function &fn(const char *name) { return const_cast<Function &>(*cs->program.find(name)); }
  std::unique_ptr<CompiledSource> cs;
};

// f = (x + y) z at (-2, 5, -4): add distributes, mul switches.
TEST_F(Lecture, Simple) {
  ValueGrad r = valueAndGrad(fn("simple"), {scalar(-2), scalar(5), scalar(-4)});
  expectNear(r.value, {-12});
  expectNear(r.grads[0], {-4});
  expectNear(r.grads[1], {-4});
  expectNear(r.grads[2], {3});
}

TEST_F(Lecture, Neuron) {
  ValueGrad r = valueAndGrad(fn("neuron"), {vec({2, -3, -3}), vec({-1, -2})});
  expectNear(r.value, {0.7310585786300049});
  expectNear(r.grads[0], {-0.19661193324148185, -0.3932238664829637, 0.19661193324148185});
  expectNear(r.grads[1], {0.3932238664829637, -0.5898357997244456});
}

// 2 (x y + max(z, w)): max routes the whole gradient to z.
TEST_F(Lecture, Gates) {
  ValueGrad r = valueAndGrad(fn("gates"), {scalar(3), scalar(-4), scalar(2), scalar(-1)});
  expectNear(r.value, {-20});
  expectNear(r.grads[0], {-8});
  expectNear(r.grads[1], {6});
  expectNear(r.grads[2], {2});
  EXPECT_EQ(r.grads[3].data[0], 0.0);
}

TEST_F(Lecture, L2wx) {
  ValueGrad r = valueAndGrad(fn("l2wx"), {mat(2, 2, {0.1, 0.5, -0.3, 0.8}), vec({0.2, 0.4})}, {2});
  expectNear(r.value, {0.11600000000000005});
  expectNear(r.grads[0], {0.08800000000000002, 0.17600000000000005, 0.10400000000000004,
                          0.20800000000000007});
  expectNear(r.grads[1], {-0.11200000000000002, 0.6360000000000001});
  EXPECT_EQ(r.grads[0].shape, (std::vector<int64_t>{2, 2})); // a gradient has its parameter's shape
}

// Gradients add where a value fans out: d/dx (x*x + x) = 2x + 1.
TEST(ReverseMode, FanOutAccumulates) {
  auto cs = compileOk("def f(x) {\n  a = x * x\n  return a + x\n}\n");
  ASSERT_TRUE(cs);
  ValueGrad r = valueAndGrad(cs->program.funcs[0], {scalar(3)});
  EXPECT_EQ(r.value.data[0], 12);
  EXPECT_EQ(r.grads[0].data[0], 7);
}

TEST(ReverseMode, ConstParametersGetNoGradientAndUnusedOnesGetZero) {
  auto cs = compileOk("def f(x, c: const, u: [2]) = c * x\n");
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  GradientGraph gg = differentiate(fn);
  EXPECT_NE(gg.grads[0], kNoNode);
  EXPECT_EQ(gg.grads[1], kNoNode);
  ValueGrad r = valueAndGrad(fn, {scalar(2), scalar(5), vec({1, 1})});
  EXPECT_EQ(r.grads[0].data[0], 5);
  EXPECT_EQ(r.grads[2].shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(r.grads[2].data, (std::vector<double>{0, 0}));
}

// Max and min split the gradient equally on a tie, as PyTorch does; relu'(0) = 0, abs'(0) = 0.
TEST(ReverseMode, KinksFollowPyTorch) {
  auto cs = compileOk("def f(a, b) = max(a, b) + 3 * min(a, b) + relu(a - 1) + abs(b - 1)\n");
  ASSERT_TRUE(cs);
  ValueGrad r = valueAndGrad(cs->program.funcs[0], {scalar(1), scalar(1)});
  EXPECT_EQ(r.grads[0].data[0], 0.5 + 1.5);
  EXPECT_EQ(r.grads[1].data[0], 0.5 + 1.5);
}

// A non-scalar result: the backward function is a vector-Jacobian product with d_out.
TEST(ReverseMode, VectorResultGivesVectorJacobianProduct) {
  auto cs = compileOk("def f(x: [3], w) = sin(x) * w\n");
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  Tensor x = vec({0.1, 0.2, 0.3}), u = vec({1, -2, 0.5});
  ValueGrad r = valueAndGrad(fn, {x, scalar(2), u});
  ASSERT_TRUE(r.error.empty());
  double dw = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(r.grads[0].data[i], u.data[i] * 2 * std::cos(x.data[i]), 1e-15);
    dw += u.data[i] * std::sin(x.data[i]);
  }
  EXPECT_NEAR(r.grads[1].data[0], dw, 1e-15);
}

// sigmoid' stays accurate in both tails, where s(1 - s) would lose it.
TEST(ReverseMode, SigmoidGradientIsAccurateAtExtremes) {
  auto cs = compileOk("def f(x) = sigmoid(x)\n");
  ASSERT_TRUE(cs);
  for (double x : {-700.0, -40.0, 0.0, 25.0, 36.0, 700.0}) {
    ValueGrad r = valueAndGrad(cs->program.funcs[0], {scalar(x)});
    long double e = std::exp(-std::fabs(static_cast<long double>(x)));
    double want = static_cast<double>(e / ((1 + e) * (1 + e)));
    EXPECT_LE(std::fabs(r.grads[0].data[0] - want), 1e-15 * want) << "x = " << x;
  }
}

// A gradient of a gradient needs no new machinery: d2/dx2 of x^3 sin(x).
TEST(ReverseMode, SecondDerivativeThroughTheSamePass) {
  auto cs = compileOk("def f(x) = x^3 * sin(x)\n");
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  GradientGraph gg = differentiate(fn);
  Function dfn;
  dfn.name = "df";
  dfn.params = fn.params;
  dfn.result = gg.grads[0];
  dfn.graph = std::move(fn.graph);
  GradientGraph gg2 = differentiate(dfn);
  double x = 0.7;
  EvalResult r = evaluate(*dfn.graph, {gg2.grads[0]}, {scalar(x)}, {});
  double want = 6 * x * std::sin(x) + 6 * x * x * std::cos(x) - x * x * x * std::sin(x);
  EXPECT_NEAR(r.outputs[0].data[0], want, 1e-13);
}

// The backward graph stays within 4x the forward graph for arithmetic and elementwise
// ops, whatever the program's size: no expression swell.
TEST(ReverseMode, GradientGraphIsAtMostFourTimesTheForwardGraph) {
  // A and B stand for two earlier values.
  const char *ops[] = {"A + B", "A - B", "A * B", "A / (B*B + 1)", "-A", "exp(tanh(A))",
                       "log(A*A + 1)", "sqrt(A*A + 1)", "sin(A)", "cos(A)", "tanh(A)",
                       "sigmoid(A)", "relu(A)", "abs(A)", "max(A, B)", "min(A, B)", "A^2"};
  std::mt19937 rng(7);
  for (int size : {10, 100, 1000, 10000}) {
    std::string src = "def f(x, y) {\n  v0 = x\n  v1 = y\n";
    for (int i = 2; i < size; ++i) {
      std::string e = ops[rng() % std::size(ops)];
      auto pick = [&] { return "v" + std::to_string(i - 1 - static_cast<int>(rng() % std::min(i, 4))); };
      std::string a = pick(), b = pick();
      std::string s;
      for (char c : e)
        s += c == 'A' ? a : c == 'B' ? b : std::string(1, c);
      src += "  v" + std::to_string(i) + " = " + s + "\n";
    }
    src += "  return v" + std::to_string(size - 1) + "\n}\n";
    auto cs = compileOk(src);
    ASSERT_TRUE(cs);
    GradientGraph gg = differentiate(cs->program.funcs[0]);
    double backward = static_cast<double>(gg.totalNodes - gg.forwardNodes);
    EXPECT_LE(backward, 4.0 * static_cast<double>(gg.forwardNodes)) << "size " << size;
  }
}
