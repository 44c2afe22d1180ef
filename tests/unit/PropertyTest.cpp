// PropertyTest.cpp: 1,000 random scalar programs (every scalar op, fan-out, deep chains):
// the interpreter's reverse-mode gradient against central finite differences.
#include "ProgramGenerator.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace gradc;
using namespace gradc::test;

TEST(Property, RandomScalarProgramsMatchFiniteDifferences) {
  ProgramGenerator gen(20261126);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> point(-1.5, 1.5);
  int checked = 0;
  for (int program = 0; program < 1000; ++program) {
    int params = 1 + program % 4;
    int statements = program % 10 == 0 ? 200 : 1 + program % 25; // some deep chains
    std::string src = gen.generate(params, statements);
    auto cs = compileOk(src);
    ASSERT_TRUE(cs) << src;
    Function &fn = cs->program.funcs[0];
    std::vector<Tensor> at;
    for (int p = 0; p < params; ++p)
      at.push_back(scalar(point(rng)));
    ValueGrad r = valueAndGrad(fn, at);
    ASSERT_TRUE(r.error.empty());
    if (!std::isfinite(r.value.data[0]))
      continue;
    for (int p = 0; p < params; ++p) {
      double fd = centralDifference(fn, at, static_cast<size_t>(p), 0);
      double err = relError(r.grads[static_cast<size_t>(p)].data[0], fd);
      ASSERT_LE(err, 1e-5) << "program " << program << ", d/dx" << p << ": reverse mode "
                           << r.grads[static_cast<size_t>(p)].data[0] << ", finite differences "
                           << fd << "\n" << src;
      ++checked;
    }
  }
  EXPECT_GT(checked, 2000);
}
