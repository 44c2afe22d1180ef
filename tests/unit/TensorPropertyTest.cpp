// TensorPropertyTest.cpp: random tensor programs (broadcasting, every reduction, matmul of
// each rank, indexing and slices, pick, where, softmax, fan-out) on both engines: the
// compiled value and gradients against the interpreter's, and the interpreter's gradients
// against central differences.
#include "TestUtil.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"
#include "TensorProgramGenerator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace gradc;
using namespace gradc::test;

TEST(TensorProperty, RandomTensorProgramsOnBothEnginesAndFiniteDifferences) {
  TensorProgramGenerator gen(2026);
  int checked = 0;
  for (int program = 0; program < 150; ++program) {
    std::string src = gen.program();
    SCOPED_TRACE(src);
    auto cs = compileOk(src);
    ASSERT_TRUE(cs);
    Function &fn = cs->program.funcs[0];
    std::mt19937_64 rng(static_cast<uint64_t>(program));
    std::vector<Tensor> at;
    for (const ParamInfo &p : fn.params) {
      std::vector<int64_t> shape;
      for (const Dim &d : p.type.shape)
        shape.push_back(d.off);
      at.push_back(randomTensor(shape, rng));
    }
    at[6].data = {3, 0, 2}; // labels
    Tensor value = valueOf(fn, at);
    if (!fn.graph->type(fn.result).isScalar()) {
      Tensor u = value;
      for (size_t i = 0; i < u.data.size(); ++i)
        u.data[i] = 0.25 * static_cast<double>(i % 4) - 0.3;
      at.push_back(u);
    }
    ValueGrad want = valueAndGrad(fn, at);
    ASSERT_TRUE(want.error.empty()) << want.error;
    bool finite = true;
    for (double v : want.value.data)
      finite = finite && std::isfinite(v);
    if (!finite)
      continue;
    std::string error;
    auto cf = compileFunction(fn, {}, error);
    ASSERT_TRUE(cf) << error;
    EvalResult got = invokeCompiled(*cf, fn, at, {});
    ASSERT_TRUE(got.ok()) << got.error;
    for (size_t i = 0; i < want.value.data.size(); ++i)
      ASSERT_LE(relError(got.outputs[0].data[i], want.value.data[i]), 1e-9) << "value " << i;
    for (size_t p = 0; p + 1 < fn.params.size(); ++p) {
      ASSERT_EQ(got.outputs[p + 1].shape, at[p].shape) << "d" << fn.params[p].name;
      for (size_t i = 0; i < at[p].data.size(); ++i) {
        double g = want.grads[p].data[i];
        ASSERT_LE(relError(got.outputs[p + 1].data[i], g), 1e-9) << "d" << fn.params[p].name << i;
        double fd = centralDifference(fn, std::vector<Tensor>(at.begin(), at.begin() + 7), p, i);
        if (fn.graph->type(fn.result).isScalar())
          ASSERT_LE(relError(g, fd), 1e-5) << "d" << fn.params[p].name << "[" << i << "]";
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 3000);
}
