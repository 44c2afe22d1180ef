// ModelTest.cpp: the two-layer net and the multiclass SVM of examples/mlp2.expr on both
// engines: gradients against central differences and the interpreter, every gradient of its
// parameter's shape, and the NaN contract for a label out of range.
#include "TestUtil.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace gradc;
using namespace gradc::test;

namespace {

std::string mlp2Source() {
  std::ifstream in(std::string(GRADC_EXAMPLES_DIR) + "/mlp2.expr");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Random data, labels in [0, C), and parameters for `fn` at dims N=6, D=4, H=5, C=3.
std::vector<Tensor> inputsFor(const Function &fn, const std::vector<int64_t> &dims, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Tensor> at;
  for (const ParamInfo &p : fn.params) {
    std::vector<int64_t> shape;
    for (const Dim &d : p.type.shape)
      shape.push_back(d.isLiteral() ? d.off : dims[static_cast<size_t>(d.sym)] + d.off);
    Tensor t = randomTensor(shape, rng);
    if (isInteger(p.type.dtype))
      for (double &v : t.data)
        v = static_cast<double>(rng() % 3);
    if (p.name == "reg")
      t.data = {0.1};
    at.push_back(t);
  }
  return at;
}

} // namespace

TEST(Models, Mlp2AndSvmGradientsMatchFiniteDifferencesAndTheInterpreter) {
  for (const char *name : {"mlp2", "svm"}) {
    SCOPED_TRACE(name);
    auto cs = compileOk(mlp2Source());
    ASSERT_TRUE(cs);
    Function &fn = *const_cast<Function *>(cs->program.find(name));
    std::vector<int64_t> dims = {6, 4, 5, 3}; // N, D, H, C
    std::vector<Tensor> at = inputsFor(fn, dims, 11);
    ValueGrad want = valueAndGrad(fn, at, dims);
    ASSERT_TRUE(want.error.empty()) << want.error;
    std::string error;
    auto cf = compileFunction(fn, {}, error);
    ASSERT_TRUE(cf) << error;
    EvalResult got = invokeCompiled(*cf, fn, at, dims);
    ASSERT_TRUE(got.ok()) << got.error;
    EXPECT_LE(relError(got.outputs[0].data[0], want.value.data[0]), 1e-12);
    for (size_t p = 0; p < fn.params.size(); ++p) {
      if (fn.params[p].isConst)
        continue;
      const Tensor &g = got.outputs[p + 1];
      // A gradient has its parameter's shape.
      EXPECT_EQ(g.shape, at[p].shape) << fn.params[p].name;
      for (size_t i = 0; i < g.data.size(); ++i) {
        EXPECT_LE(relError(g.data[i], want.grads[p].data[i]), 1e-9) << fn.params[p].name << i;
        EXPECT_LE(relError(g.data[i], centralDifference(fn, at, p, i, dims)), 1e-6)
            << fn.params[p].name << "[" << i << "]";
      }
    }
  }
}

TEST(Models, ALabelOutOfRangeGivesNaNNotARead) {
  auto cs = compileOk("def f(s: [2, 3], y: const i32[2]) = sum(pick(s, y))\n");
  std::string error;
  auto cf = compileFunction(cs->program.funcs[0], {}, error);
  ASSERT_TRUE(cf) << error;
  EXPECT_EQ(cf->abi.grad.prototype(),
            "double f_grad(const double *s, const int32_t *y, double *d_s, void *ws)");
  using Grad = double (*)(const double *, const int32_t *, double *, void *);
  double s[6] = {1, 2, 3, 4, 5, 6}, ds[6];
  int32_t good[2] = {2, 0}, bad[2] = {2, 3};
  std::vector<unsigned char> ws(reinterpret_cast<size_t (*)()>(cf->workspaceSize)() + 1);
  EXPECT_EQ(reinterpret_cast<Grad>(cf->grad)(s, good, ds, ws.data()), 7.0);
  EXPECT_EQ(std::vector<double>(ds, ds + 6), (std::vector<double>{0, 0, 1, 1, 0, 0}));
  EXPECT_TRUE(std::isnan(reinterpret_cast<Grad>(cf->grad)(s, bad, ds, ws.data())));
  for (double d : ds)
    EXPECT_TRUE(std::isnan(d));
}

TEST(Models, BatchedMatMulGradientsMatchFiniteDifferences) {
  // NumPy's batched '@': broadcast batch axes, a vector on the left, a run-time batch dim.
  auto cs = compileOk("dim b\ndef f(A: [b, 3, 4], B: [1, 4, 2], u: [3]) = sum(sigmoid(u @ (A @ B)))\n");
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  std::mt19937_64 rng(5);
  std::vector<Tensor> at{randomTensor({2, 3, 4}, rng), randomTensor({1, 4, 2}, rng), randomTensor({3}, rng)};
  ValueGrad vg = valueAndGrad(fn, at, {2});
  ASSERT_TRUE(vg.error.empty()) << vg.error;
  for (size_t p = 0; p < at.size(); ++p) {
    ASSERT_EQ(vg.grads[p].shape, at[p].shape);
    for (size_t i = 0; i < at[p].data.size(); ++i)
      EXPECT_LE(relError(vg.grads[p].data[i], centralDifference(fn, at, p, i, {2})), 1e-7) << p << "[" << i << "]";
  }
}
