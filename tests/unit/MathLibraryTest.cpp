// MathLibraryTest.cpp: the math library (log1p ... clamp) against values and derivatives that
// mpmath computed at 40 digits (tests/numerics/math_reference.h), on the interpreter, the JIT
// and forward mode. Emitted C runs them in the differential suite (ProgramGenerator.h); the
// edge cases (poles, domain edges, infinities) are rows of tests/numerics/cases.h.
#include "../numerics/math_reference.h"
#include "TestUtil.h"
#include "autodiff/ForwardMode.h"
#include "interp/Interpreter.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace gradc;
using namespace gradc::test;
using numerics::kMathReference;

namespace {

// Within `tol` relative (absolute below 1): the C library's functions are within an ulp or
// two, the generated digamma within a few.
::testing::AssertionResult close(double got, double want, double tol = 4e-15) {
  if (std::isnan(want) ? std::isnan(got) : std::fabs(got - want) <= tol * std::max(1.0, std::fabs(want)))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << std::setprecision(17) << got << " (expected " << want << ")";
}

TEST(MathLibrary, ValuesAndDerivativesMatchMpmathOnEveryEngine) {
  for (const numerics::ReferenceCase &c : kMathReference) {
    std::string src = std::string("def f(x, y) = ") + c.expr + "\n";
    SCOPED_TRACE(src + "at x = " + std::to_string(c.x) + ", y = " + std::to_string(c.y));
    auto cs = compileOk(src);
    ASSERT_TRUE(cs);
    Function &fn = cs->program.funcs[0];
    std::vector<Tensor> at{scalar(c.x), scalar(c.y)};
    ValueGrad interp = valueAndGrad(fn, at);
    ASSERT_TRUE(interp.error.empty()) << interp.error;
    EXPECT_TRUE(close(interp.value.data[0], c.f)) << "interpreter value";
    EXPECT_TRUE(close(interp.grads[0].data[0], c.dx)) << "interpreter df/dx";
    EXPECT_TRUE(close(interp.grads[1].data[0], c.dy)) << "interpreter df/dy";

    // Forward mode: the tangent along x, then along y.
    auto fwd = compileOk(src);
    TangentGraph tg = forwardDerivative(fwd->program.funcs[0]);
    for (int along = 0; along < 2; ++along) {
      EvalResult r = evaluate(*fwd->program.funcs[0].graph, {tg.tangent},
                              {scalar(c.x), scalar(c.y), Tensor{}, scalar(along == 0), scalar(along == 1)}, {});
      ASSERT_TRUE(r.ok()) << r.error;
      EXPECT_TRUE(close(r.outputs[0].data[0], along == 0 ? c.dx : c.dy)) << "forward mode, along " << along;
    }

    EvalResult jit = jitValueAndGrad(src, at);
    ASSERT_TRUE(jit.ok()) << jit.error;
    EXPECT_TRUE(close(jit.outputs[0].data[0], c.f)) << "JIT value";
    EXPECT_TRUE(close(jit.outputs[1].data[0], c.dx)) << "JIT df/dx";
    EXPECT_TRUE(close(jit.outputs[2].data[0], c.dy)) << "JIT df/dy";
  }
}

TEST(MathLibrary, F32CodeCallsTheF32FunctionsAndAgrees) {
  // f32 compiled code calls lgammaf, erff, ... (the JIT binds them by name): within f32's
  // precision of the interpreter, which computes in double.
  const char *src = "def f(x: f32[4], y: f32[4]) = sum(lgamma(x * x + 0.5) + erf(x) * atan2(y, x) + digamma(y * y + 1) + "
                    "expm1(x) * log1p(y * y) + softplus(x) + round(x * 4) + hypot(x, y) + tan(x) * cosh(y) + exp2(y))\n";
  std::vector<Tensor> at{vec({0.3, -0.7, 1.1, 0.05}), vec({-0.4, 0.9, 0.25, -1.3})};
  auto cs = compileOk(src);
  ValueGrad want = valueAndGrad(cs->program.funcs[0], at);
  ASSERT_TRUE(want.error.empty()) << want.error;
  EvalResult jit = jitValueAndGrad(src, at);
  ASSERT_TRUE(jit.ok()) << jit.error;
  EXPECT_TRUE(close(jit.outputs[0].data[0], want.value.data[0], 2e-6));
  for (size_t p = 0; p < 2; ++p)
    for (size_t i = 0; i < 4; ++i)
      EXPECT_TRUE(close(jit.outputs[p + 1].data[i], want.grads[p].data[i], 2e-5)) << p << "[" << i << "]";
}

} // namespace
