// ReductionTest.cpp: max/min reductions, logsumexp and softmax: exact values, PyTorch's
// tie rule, numerical stability at large logits, and gradients against finite differences,
// on the interpreter and the compiled engine.
#include "TestUtil.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace gradc;
using namespace gradc::test;

namespace {

// Value and gradients from both engines; the compiled ones must match the interpreter's.
ValueGrad bothEngines(const std::string &src, const std::vector<Tensor> &at) {
  auto cs = compileOk(src);
  if (!cs)
    return {};
  Function &fn = cs->program.funcs[0];
  ValueGrad want = valueAndGrad(fn, at);
  std::string error;
  auto cf = compileFunction(fn, {}, error);
  EXPECT_TRUE(cf) << error;
  if (!cf)
    return want;
  EvalResult got = invokeCompiled(*cf, fn, at, std::vector<int64_t>(fn.graph->dims().names.size(), 0));
  EXPECT_TRUE(got.ok()) << got.error;
  auto same = [&](const Tensor &w, const Tensor &g) {
    ASSERT_EQ(w.data.size(), g.data.size());
    for (size_t i = 0; i < w.data.size(); ++i)
      if (w.data[i] == g.data[i])
        continue;
      else if (std::isnan(w.data[i]))
        EXPECT_TRUE(std::isnan(g.data[i])) << src;
      else
        EXPECT_LE(relError(w.data[i], g.data[i]), 1e-12) << src << " [" << i << "]";
  };
  same(want.value, got.outputs[0]);
  for (size_t p = 0; p < fn.params.size(); ++p)
    same(want.grads[p], got.outputs[p + 1]);
  return want;
}

} // namespace

TEST(Reductions, MaxAndMinOverAxesWithTheirGradients) {
  ValueGrad r = bothEngines("def f(x: [2, 3]) = sum(max(x, axis=1)) + min(x)\n",
                            {mat(2, 3, {1, 5, 2, -4, 0, 3})});
  // max over rows: 5 and 3, sum 8; min of all: -4
  EXPECT_EQ(r.value.data[0], 8.0 - 4.0);
  EXPECT_EQ(r.grads[0].data, (std::vector<double>{0, 1, 0, 1, 0, 1}));
}

TEST(Reductions, TiesSplitTheGradientEqually) {
  // PyTorch's amax: the gradient is shared by every element equal to the maximum.
  ValueGrad r = bothEngines("def f(x: [4]) = max(x) + 2 * min(x, axis=0)\n", {vec({3, 1, 3, 1})});
  EXPECT_EQ(r.value.data[0], 5.0);
  EXPECT_EQ(r.grads[0].data, (std::vector<double>{0.5, 1, 0.5, 1}));
}

TEST(Reductions, LogSumExpIsStableAndItsGradientIsSoftmax) {
  // Logits of size 1e3: exp would overflow; the stable form gives the exact answer.
  ValueGrad r = bothEngines("def f(s: [3]) = logsumexp(s)\n", {vec({1000, 1000, 999})});
  double e = std::exp(-1.0);
  EXPECT_NEAR(r.value.data[0], 1000 + std::log(2 + e), 1e-12);
  ASSERT_EQ(r.grads[0].data.size(), 3u);
  EXPECT_NEAR(r.grads[0].data[0], 1 / (2 + e), 1e-15);
  EXPECT_NEAR(r.grads[0].data[2], e / (2 + e), 1e-15);
  // All -inf: -inf, not NaN (as PyTorch).
  ValueGrad allInf = bothEngines("def f(s: [2]) = logsumexp(s)\n", {vec({-INFINITY, -INFINITY})});
  EXPECT_EQ(allInf.value.data[0], -INFINITY);
}

TEST(Reductions, SoftmaxRowsSumToOneAndLogSoftmaxIsStable) {
  ValueGrad r = bothEngines("def f(s: [2, 3]) = sum(softmax(s, axis=1)[1])\n",
                            {mat(2, 3, {1, 2, 3, 800, -800, 0})});
  EXPECT_NEAR(r.value.data[0], 1.0, 1e-15);
  for (double g : r.grads[0].data)
    EXPECT_NEAR(g, 0.0, 1e-15); // a constant sum has no gradient
  // log(softmax(s)) is rewritten to s - logsumexp(s): finite where exp underflows.
  ValueGrad l = bothEngines("def f(s: [3]) = log(softmax(s, axis=0))[2]\n", {vec({1000, 0, -1000})});
  EXPECT_NEAR(l.value.data[0], -2000.0, 1e-9);
  EXPECT_TRUE(std::isfinite(l.grads[0].data[0]));
  EXPECT_NEAR(l.grads[0].data[0], -1.0, 1e-12);
}

TEST(Reductions, GradientsMatchFiniteDifferences) {
  const char *srcs[] = {
      "def f(x: [3, 4]) = sum(logsumexp(x * 3, axis=0)) + sum(softmax(x, axis=1) * x)\n",
      "def f(x: [3, 4]) = sum(max(x, axis=1) * min(x, axis=1)) + max(sin(x)) - min(x * x)\n",
      "def f(x: [2, 3], w: [3]) = mean(logsumexp(x * w, axis=1) - max(x * w, axis=1))\n",
  };
  uint64_t seed = 40;
  for (const char *src : srcs) {
    auto cs = compileOk(src);
    Function &fn = cs->program.funcs[0];
    std::vector<Tensor> at;
    for (const ParamInfo &p : fn.params) {
      std::vector<int64_t> shape;
      for (const Dim &d : p.type.shape)
        shape.push_back(d.off);
      at.push_back(randomTensor(shape, ++seed));
    }
    ValueGrad r = bothEngines(src, at);
    for (size_t p = 0; p < at.size(); ++p)
      for (size_t i = 0; i < at[p].data.size(); ++i)
        EXPECT_LE(relError(r.grads[p].data[i], centralDifference(fn, at, p, i)), 1e-6)
            << src << " d" << fn.params[p].name << "[" << i << "]";
  }
}

TEST(Reductions, CrossEntropyOfSoftmaxIsRewrittenToTheStableForm) {
  // -log(pick(softmax(s), y)) = logsumexp(s) - pick(s, y): finite even where the picked
  // probability underflows to 0 (exp(-2000)).
  ValueGrad r = bothEngines("def f(s: [2, 3], y: const i32[2]) = -sum(log(pick(softmax(s, axis=1), y)))\n",
                            {mat(2, 3, {1000, 0, -1000, 1, 2, 3}), vec({2, 0})});
  double row1 = std::log(std::exp(-2.0) + std::exp(-1.0) + 1.0) + 3 - 1;
  EXPECT_NEAR(r.value.data[0], 2000.0 + row1, 1e-9);
  for (double g : r.grads[0].data)
    EXPECT_TRUE(std::isfinite(g));
  EXPECT_NEAR(r.grads[0].data[2], -1.0, 1e-12); // softmax(s)[0, 2] - 1 = 0 - 1
}
