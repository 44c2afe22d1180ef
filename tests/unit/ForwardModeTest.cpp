// ForwardModeTest.cpp: Jacobian-vector products, checked by hand and against reverse
// mode through the dot-product identity <J v, u> = <v, J^T u> (two independent rule sets).
#include "ProgramGenerator.h"
#include "TestUtil.h"

#include "autodiff/ForwardMode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace gradc;
using namespace gradc::test;

namespace {

Tensor randomLike(const Tensor &t, std::mt19937_64 &rng) { return randomTensor(t.shape, rng); }

} // namespace

// d (x y + sin x) = (y + cos x) dx + x dy
TEST(ForwardMode, JacobianVectorProductByHand) {
  auto cs = compileOk("def f(x, y) = x * y + sin(x)\n");
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  TangentGraph tg = forwardDerivative(fn);
  double x = 0.3, y = -1.2, vx = 0.7, vy = 2.0;
  EvalResult r = evaluate(*fn.graph, {tg.tangent},
                          {scalar(x), scalar(y), Tensor{}, scalar(vx), scalar(vy)}, {});
  EXPECT_NEAR(r.outputs[0].data[0], (y + std::cos(x)) * vx + x * vy, 1e-15);
}

TEST(ForwardMode, ConstAndUnusedParametersHaveNoTangentInput) {
  auto cs = compileOk("def f(x, c: const, u) = c * x\n");
  ASSERT_TRUE(cs);
  TangentGraph tg = forwardDerivative(cs->program.funcs[0]);
  EXPECT_NE(tg.seeds[0], kNoNode);
  EXPECT_EQ(tg.seeds[1], kNoNode);
  EXPECT_NE(tg.seeds[2], kNoNode);
}

TEST(ForwardMode, AgreesWithReverseModeOnRandomScalarPrograms) {
  ProgramGenerator gen(99);
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> point(-1.5, 1.5);
  for (int program = 0; program < 500; ++program) {
    int params = 1 + program % 4;
    std::string src = gen.generate(params, program % 10 == 0 ? 150 : 1 + program % 20);
    auto cs = compileOk(src);
    ASSERT_TRUE(cs);
    std::vector<Tensor> at;
    for (int p = 0; p < params; ++p)
      at.push_back(scalar(point(rng)));
    expectDotProductIdentity(cs->program.funcs[0], at, {}, static_cast<uint64_t>(program), src);
  }
}

TEST(ForwardMode, AgreesWithReverseModeOnTensorPrograms) {
  struct Case {
    const char *src;
    std::vector<std::vector<int64_t>> shapes;
    std::vector<int64_t> dims;
  };
  const Case cases[] = {
      {"def f(A: [3, 2], x: [2], b: [3]) = tanh(A @ x + b)\n", {{3, 2}, {2}, {3}}, {}},
      {"def f(A: [2, 3], B: [3, 4]) = (A @ B).T * 2 - sum(A, axis=1)[0]\n", {{2, 3}, {3, 4}}, {}},
      {"dim n\ndef f(x: [n]) = x[1:n] - x[0:n-1]^2 + sqrt(x[0:n-1]^2 + 1)\n", {{5}}, {5}},
      {"def f(x: [4], y: [4]) = where(x > y, max(x, y) * y, min(x, 0.2)) + relu(x) * abs(y)\n",
       {{4}, {4}}, {}},
      {"def f(A: [2, 3], c: [2, 1]) = reshape(mean(exp(-A * c), axis=0), [3, 1]) @ "
       "sigmoid(c.T)\n", {{2, 3}, {2, 1}}, {}},
      {"def f(x: [3], y: [3]) = log(x^2 + 1) / (y^2 + 1) + pow(x^2 + 0.5, y) + cos(x @ y)\n",
       {{3}, {3}}, {}},
      {"def f(A: [1, 3, 4], B: [2, 4, 5], u: [3]) = tanh(u @ (A @ B))\n", {{1, 3, 4}, {2, 4, 5}, {3}}, {}},
  };
  uint64_t seed = 1;
  for (const Case &c : cases) {
    auto cs = compileOk(c.src);
    ASSERT_TRUE(cs);
    std::mt19937_64 rng(seed);
    std::vector<Tensor> at;
    for (const auto &shape : c.shapes) {
      Tensor t{shape, {}};
      int64_t n = 1;
      for (int64_t d : shape)
        n *= d;
      t.data.assign(static_cast<size_t>(n), 0.0);
      at.push_back(randomLike(t, rng));
    }
    expectDotProductIdentity(cs->program.funcs[0], at, c.dims, ++seed, c.src);
  }
}

// Each scalar op's JVP rule alone, along dx, against a central difference.
TEST(ForwardMode, EachScalarRuleMatchesFiniteDifferences) {
  const char *bodies[] = {"x + y", "x - y", "x * y", "x / y", "-x", "exp(x)", "log(x*x)",
                          "sqrt(x*x)", "sin(x)", "cos(x)", "tanh(x)", "sigmoid(x)", "relu(x)",
                          "abs(x)", "max(x, y)", "max(y, x)", "min(x, y)", "min(y, x)",
                          "(x*x)^y", "y^x", "x^3", "where(x > y, x * 2, y)", "x + x"};
  for (const char *body : bodies) {
    std::string src = std::string("def f(x, y) = ") + body + "\n";
    auto cs = compileOk(src);
    ASSERT_TRUE(cs);
    Function &fn = cs->program.funcs[0];
    TangentGraph tg = forwardDerivative(fn);
    for (double x : {0.7, -0.3}) {
      std::vector<Tensor> at{scalar(x), scalar(0.4)};
      EvalResult r = evaluate(*fn.graph, {tg.tangent}, {at[0], at[1], Tensor{}, scalar(1.0), scalar(0.0)}, {});
      EXPECT_LE(relError(r.outputs[0].data[0], centralDifference(fn, at, 0, 0)), 1e-8)
          << body << " at x = " << x;
    }
  }
}
