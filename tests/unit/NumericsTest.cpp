// NumericsTest.cpp: the numerical edge cases of docs/NUMERICS.md (division by zero, log(0),
// sqrt(0)'s gradient, overflow in exp, NaN inputs, kinks and ties) on the interpreter and on
// the JIT: IEEE results equal to what PyTorch returns, which bench/torch_numerics checks
// against PyTorch itself.
#include "../numerics/cases.h"
#include "TestUtil.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace gradc;
using namespace gradc::test;
using numerics::kEdgeCases;

namespace {

// Equal as IEEE values: NaN matches NaN (any sign), infinities by sign, numbers to 1e-15.
::testing::AssertionResult same(double got, double want) {
  bool ok = std::isnan(want) ? std::isnan(got)
            : std::isinf(want) ? got == want
                               : std::fabs(got - want) <= 1e-15 * std::max(1.0, std::fabs(want));
  if (ok)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << got << " (expected " << want << ")";
}

} // namespace

TEST(Numerics, EdgeCasesFollowIeeeAndPyTorchOnBothEngines) {
  for (const numerics::EdgeCase &c : kEdgeCases) {
    std::string src = std::string("def f(x, y) = ") + c.expr + "\n";
    SCOPED_TRACE(src + "at x = " + std::to_string(c.x) + ", y = " + std::to_string(c.y));
    auto cs = compileOk(src);
    ASSERT_TRUE(cs);
    Function &fn = cs->program.funcs[0];
    std::vector<Tensor> at{scalar(c.x), scalar(c.y)};
    ValueGrad interp = valueAndGrad(fn, at);
    ASSERT_TRUE(interp.error.empty()) << interp.error;
    EXPECT_TRUE(same(interp.value.data[0], c.f)) << "interpreter value";
    EXPECT_TRUE(same(interp.grads[0].data[0], c.dx)) << "interpreter df/dx";
    EXPECT_TRUE(same(interp.grads[1].data[0], c.dy)) << "interpreter df/dy";

    EvalResult jit = jitValueAndGrad(src, at);
    ASSERT_TRUE(jit.ok()) << jit.error;
    EXPECT_TRUE(same(jit.outputs[0].data[0], c.f)) << "JIT value";
    EXPECT_TRUE(same(jit.outputs[1].data[0], c.dx)) << "JIT df/dx";
    EXPECT_TRUE(same(jit.outputs[2].data[0], c.dy)) << "JIT df/dy";
  }
}
