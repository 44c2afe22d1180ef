// TensorPropertyTest.cpp: random tensor programs (broadcasting, every reduction, matmul of
// each rank, indexing and slices, pick, where, softmax, fan-out) on both engines: the
// compiled value and gradients against the interpreter's, and the interpreter's gradients
// against central differences.
#include "TestUtil.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace gradc;
using namespace gradc::test;

namespace {

// Expressions of a requested shape, built from smaller ones. Values stay moderate (every
// log, sqrt, division and pow is of a positive, bounded argument), so that central
// differences are accurate.
class TensorProgramGenerator {
public:
  explicit TensorProgramGenerator(uint64_t seed) : rng_(seed) {}

  std::string program() {
    names_ = {{"A", "34"}, {"b", "4"}, {"c", "31"}, {"s", ""}, {"M", "43"}, {"v", "3"}};
    std::string body;
    for (int i = 0; i < 3; ++i) { // statements: fan-out of tensors
      static const char *shapes[] = {"34", "4", "3", ""};
      std::string shape = shapes[rng_() % 4];
      std::string name = "t" + std::to_string(i);
      body += "  " + name + " = " + expr(shape, 3) + "\n";
      names_.push_back({name, shape});
    }
    bool vectorResult = rng_() % 4 == 0;
    body += "  return " + (vectorResult ? expr("34", 2) : expr("", 3)) + "\n";
    return "def f(A: [3, 4], b: [4], c: [3, 1], s, M: [4, 3], v: [3], y: const i32[3]) {\n" +
           body + "}\n";
  }

private:
  std::string pick(std::initializer_list<const char *> options) {
    return *(options.begin() + rng_() % options.size());
  }
  std::string leaf(const std::string &shape) {
    std::vector<std::string> fits;
    for (auto &[name, sh] : names_)
      if (sh == shape)
        fits.push_back(name);
    if (fits.empty())
      return shape == "" ? "0.5" : expr(shape, 0);
    return fits[rng_() % fits.size()];
  }
  std::string unary(const std::string &x) {
    switch (rng_() % 9) {
    case 0: return "tanh(" + x + ")";
    case 1: return "exp(tanh(" + x + "))";
    case 2: return "log(" + x + " * " + x + " + 1)";
    case 3: return "sqrt(" + x + " * " + x + " + 0.25)";
    case 4: return "sin(" + x + ")";
    case 5: return "sigmoid(" + x + ")";
    case 6: return "relu(" + x + ")";
    case 7: return "abs(" + x + ")";
    default: return "-" + x;
    }
  }
  std::string binary(const std::string &x, const std::string &y) {
    switch (rng_() % 7) {
    case 0: return "(" + x + " + " + y + ")";
    case 1: return "(" + x + " - " + y + ")";
    case 2: return "(" + x + " * " + y + ")";
    case 3: return "(" + x + " / (" + y + " * " + y + " + 1))";
    case 4: return "max(" + x + ", " + y + ")";
    case 5: return "where(" + x + " > " + y + ", " + x + ", " + y + " * 0.5)";
    default: return "pow(" + x + " * " + x + " + 0.5, tanh(" + y + "))";
    }
  }
  // Something of `shape` ("34", "4", "3", "31", "" for a scalar), parenthesized.
  std::string expr(const std::string &shape, int depth) {
    std::string e = build(shape, depth);
    bool name = e.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.") ==
                std::string::npos;
    return name ? e : "(" + e + ")";
  }
  std::string build(const std::string &shape, int depth) {
    if (depth == 0)
      return leaf(shape);
    int d = depth - 1;
    int r = static_cast<int>(rng_() % 10);
    if (r < 2)
      return leaf(shape);
    if (r < 4)
      return unary(expr(shape, d));
    if (r < 6) { // binary, the second operand broadcast from a smaller shape
      std::string other = shape;
      if (shape == "34")
        other = pick({"34", "4", "31", ""});
      else if (shape != "")
        other = pick({"", shape.c_str()});
      return binary(expr(shape, d), expr(other, d));
    }
    // Shape-changing constructions.
    if (shape == "34")
      return special34(d);
    if (shape == "4")
      return pick({"sum(", "max(", "mean(", "logsumexp(", "min("}) + expr("34", d) + ", axis=0)";
    if (shape == "3")
      switch (rng_() % 5) {
      case 0: return expr("34", d) + " @ " + expr("4", d);
      case 1: return "pick(" + expr("34", d) + ", y)";
      case 2: return "logsumexp(" + expr("34", d) + ", axis=1)";
      case 3: return expr("34", d) + "[0:3, 2]";
      default: return "max(" + expr("34", d) + ", axis=-1)";
      }
    if (shape == "31")
      return "reshape(" + expr("3", d) + ", [3, 1])";
    switch (rng_() % 6) { // a scalar
    case 0: return "sum(" + expr("34", d) + ")";
    case 1: return "mean(" + expr("4", d) + ")";
    case 2: return expr("3", d) + " @ " + expr("3", d);
    case 3: return "logsumexp(" + expr("34", d) + ")";
    case 4: return "max(" + expr("4", d) + ")";
    default: return expr("34", d) + "[1, 2] + " + expr("4", d) + "[1:3][0]";
    }
  }
  std::string special34(int d) {
    switch (rng_() % 4) {
    case 0: return "softmax(" + expr("34", d) + ", axis=1)";
    case 1: return "(" + expr("3", d) + " @ " + expr("34", d) + ") * " + expr("34", d) + ".T.T";
    case 2: return "reshape(M, [3, 4]) * " + expr("34", d);
    default: return "(" + pick({"M", "tanh(M)", "M * 2"}) + ").T";
    }
  }

  std::mt19937_64 rng_;
  std::vector<std::pair<std::string, std::string>> names_;
};

} // namespace

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
