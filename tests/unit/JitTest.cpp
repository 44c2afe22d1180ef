// JitTest.cpp: the compiled engine against the interpreter (the oracle) on every op, the
// property corpus, chunked code, bound dims, f32, the C ABI's signatures and its NaN
// contract for indices out of range.
#include "ProgramGenerator.h"
#include "TestUtil.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"
#include "kernels/HostGemm.h"
#include "kernels/AheadOfTime.h"
#include "loops/TiledKernel.h"
#include "schedule/Schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <random>
#include <sstream>
#include <tuple>

using namespace gradc;
using namespace gradc::test;

namespace {

std::unique_ptr<CompiledFunction> compileJit(Function &fn, const BuildOptions &opts = {}) {
  std::string error;
  auto cf = compileFunction(fn, opts, error);
  EXPECT_TRUE(cf) << error;
  return cf;
}

// Compiles `src`'s only function and compares value and every gradient with the
// interpreter, elementwise, to `tol` relative (absolute near zero).
void expectEnginesAgree(const std::string &src, const std::vector<Tensor> &at,
                        const std::vector<int64_t> &dims, const BuildOptions &opts = {},
                        double tol = 1e-12) {
  SCOPED_TRACE(src);
  std::ostringstream point; // the scalar inputs, to reproduce a failure
  point << std::setprecision(17) << "at";
  for (const Tensor &t : at)
    if (t.data.size() == 1)
      point << " " << t.data[0];
  SCOPED_TRACE(point.str());
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  std::vector<Tensor> inputs = at;
  Tensor resultShape = valueOf(fn, at, dims);
  if (!fn.graph->type(fn.result).isScalar()) { // d_out: the VJP with a fixed direction
    Tensor u = resultShape;
    for (size_t i = 0; i < u.data.size(); ++i)
      u.data[i] = 0.5 + 0.25 * static_cast<double>(i % 5);
    inputs.push_back(u);
  }
  ValueGrad want = valueAndGrad(fn, inputs, dims);
  ASSERT_TRUE(want.error.empty()) << want.error;
  auto cf = compileJit(fn, opts);
  ASSERT_TRUE(cf);
  std::vector<int64_t> allDims = dims;
  allDims.resize(fn.graph->dims().names.size(), 0);
  EvalResult got = invokeCompiled(*cf, fn, inputs, allDims);
  ASSERT_TRUE(got.ok()) << got.error;
  auto same = [&](const Tensor &w, const Tensor &g, const std::string &what) {
    ASSERT_EQ(w.shape, g.shape) << what;
    ASSERT_EQ(w.data.size(), g.data.size()) << what;
    for (size_t i = 0; i < w.data.size(); ++i) {
      if (std::isnan(w.data[i])) {
        EXPECT_TRUE(std::isnan(g.data[i])) << what << "[" << i << "]";
        continue;
      }
      EXPECT_LE(relError(w.data[i], g.data[i]), tol)
          << what << "[" << i << "]: interpreter " << w.data[i] << ", jit " << g.data[i];
    }
  };
  same(want.value, got.outputs[0], "value");
  for (size_t p = 0; p < fn.params.size(); ++p)
    if (!fn.params[p].isConst)
      same(want.grads[p], got.outputs[p + 1], "d_" + fn.params[p].name);
  // f alone gives the same value as f_grad.
  EvalResult value = invokeCompiled(*cf, fn, inputs, allDims, true);
  ASSERT_TRUE(value.ok());
  same(want.value, value.outputs[0], "value of f");
}

struct TensorCase {
  const char *src;
  std::vector<std::vector<int64_t>> shapes;
  std::vector<int64_t> dims;
};

// Every op, with broadcasting, reductions over each axis, every matmul rank, views of
// views, fan-out of tensors, non-scalar results, unbound dims and mixed dtypes.
const TensorCase kTensorCases[] = {
    {"def f(A: [3, 2], x: [2], b: [3]) = sum(tanh(A @ x + b))\n", {{3, 2}, {2}, {3}}, {}},
    {"def f(A: [2, 3], B: [3, 4]) = (A @ B).T * 2 - sum(A, axis=1)[0]\n", {{2, 3}, {3, 4}}, {}},
    {"dim n\ndef f(x: [n]) = sum(100*(x[1:n]-x[0:n-1]^2)^2 + (1-x[0:n-1])^2)\n", {{7}}, {7}},
    {"dim n\ndef f(x: [n]) = x[1:n] - x[0:n-1]^2 + sqrt(x[0:n-1]^2 + 1)\n", {{5}}, {5}},
    {"def f(x: [4], y: [4]) = where(x > y, max(x, y) * y, min(x, 0.2)) + relu(x) * abs(y)\n",
     {{4}, {4}}, {}},
    {"def f(A: [2, 3], c: [2, 1]) = reshape(mean(exp(-A * c), axis=0), [3, 1]) @ sigmoid(c.T)\n",
     {{2, 3}, {2, 1}}, {}},
    {"def f(x: [3], y: [3]) = log(x^2 + 1) / (y^2 + 1) + pow(x^2 + 0.5, y) + cos(x @ y)\n",
     {{3}, {3}}, {}},
    {"dim n\ndef f(W: [n, n], x: [n]) = sum((W @ x)^2)\n", {{5, 5}, {5}}, {5}},
    {"def f(x: [3], W: [3, 4]) = x @ W\n", {{3}, {3, 4}}, {}},
    // Batched products: broadcast batch axes, a vector on either side, a run-time batch dim.
    {"def f(A: [2, 3, 4], B: [2, 4, 5]) = tanh(A @ B)\n", {{2, 3, 4}, {2, 4, 5}}, {}},
    {"def f(A: [1, 3, 4], B: [2, 4, 5], v: [5]) = sum((A @ B @ v)^2)\n", {{1, 3, 4}, {2, 4, 5}, {5}}, {}},
    {"def f(u: [4], B: [2, 4, 5]) = sum(exp(u @ B))\n", {{4}, {2, 4, 5}}, {}},
    {"dim b\ndef f(A: [b, 3, 4], W: [4, 2]) = sum(relu(A @ W) * (A @ W))\n", {{3, 3, 4}, {4, 2}}, {3}},
    {"def f(X: [2, 3, 4]) = sum(X, axis=1) * mean(X, axis=2)[0:2, 1:2]\n", {{2, 3, 4}}, {}},
    {"def f(X: [2, 3, 4]) = sum(transpose(X) * 2, axis=0) + sum(X.T[1:3, 0, 0:2])\n", {{2, 3, 4}}, {}},
    {"def f(a: [3, 1], b: [4]) = sum(sin(a + b) * cos(a - b), axis=0)\n", {{3, 1}, {4}}, {}},
    {"def f(x: [4]) = reshape(x, [2, 2]) @ reshape(x * x, [2, 2])\n", {{4}}, {}},
    {"def f(x: [5], s) = sum(exp(x) * s) + sum(exp(x) / (1 + s^2)) + s * x[2]\n", {{5}, {}}, {}},
    {"dim n\ndef f(x: [n], y: [n]) = sum(abs(x) * x * y) / n + x[n-1] * y[0]\n", {{6}, {6}}, {6}},
    {"def f(x: [2, 3]) = sum(x == x.T.T) + sum(where(x != 0.5, x, -x) * (x <= 0.1))\n",
     {{2, 3}}, {}},
    {"def f(x: [3], y: [3]) = sum(max(x, 0) + min(y, x) - abs(x - y) + sigmoid(x * 40))\n",
     {{3}, {3}}, {}},
    {"dim m\ndim k\ndef f(A: [m, k], B: [k, m]) = sum(relu(A @ B) @ A)\n", {{3, 4}, {4, 3}}, {3, 4}},
    // Transposed matrices in products (swept along rows), as the gradients of W @ x make them.
    {"def f(W: [4, 3], v: [4], U: [3, 4]) = sum(tanh(W.T @ v)) + sum(W.T @ U.T * 2)\n",
     {{4, 3}, {4}, {3, 4}}, {}},
    // Row-update products (too few columns to tile): the first term writes C; an empty shared
    // axis gives zeros, a one-long one an outer product.
    {"dim k\ndef f(A: [2, k], B: [k, 3], C: [k, 2], v: [k]) = sum(exp(A @ B)) + sum(C.T @ B) + sum(v @ B)\n",
     {{2, 0}, {0, 3}, {0, 2}, {0}}, {0}},
    {"dim k\ndef f(A: [2, k], B: [k, 3], C: [k, 2], v: [k]) = sum(exp(A @ B)) + sum(C.T @ B) + sum(v @ B)\n",
     {{2, 1}, {1, 3}, {1, 2}, {1}}, {1}},
    // Gathered gradients: disjoint, overlapping and two-axis slices; empty middles.
    {"def f(x: [6]) = sum(x[0:2] * x[3:5]) + sum(x[1:4]^2) + x[5]\n", {{6}}, {}},
    {"def f(X: [4, 3]) = sum(X[1:4, 0:2] * X[0:3, 1:3]) + sum(X[2, 0:3] * X[0:3, 1])\n", {{4, 3}}, {}},
    {"dim n\ndef f(x: [n]) = sum(x[1:n] * x[0:n-1])\n", {{1}}, {1}},
    {"dim n\ndef f(x: [n]) = sum(x[1:n] * x[0:n-1]) + sum(exp(x[2:n]))\n", {{2}}, {2}},
};

// The compile-time chain of BENCHMARKS.md: `header { a0 = first; a_{i+1} = a_i + rate*sin(a_i)*by;
// return result }`, `statements` long.
std::string chainSource(const std::string &header, const std::string &first, const std::string &rate,
                        const std::string &by, int statements, const std::string &result) {
  std::string src = header + " {\n  a0 = " + first + "\n";
  for (int i = 0; i < statements; ++i)
    src += "  a" + std::to_string(i + 1) + " = a" + std::to_string(i) + " + " + rate + "*sin(a" +
           std::to_string(i) + ")*" + by + "\n";
  return src + "  return " + result + "\n}\n";
}

std::vector<Tensor> randomInputs(const TensorCase &c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Tensor> at;
  for (const auto &shape : c.shapes)
    at.push_back(randomTensor(shape, rng));
  return at;
}

} // namespace

TEST(Jit, LectureExamplesMatchTheInterpreter) {
  expectEnginesAgree("def simple(x, y, z) = (x + y) * z\n", {scalar(-2), scalar(5), scalar(-4)}, {});
  expectEnginesAgree("def neuron(w: [3], x: [2]) {\n  s = w[0]*x[0] + w[1]*x[1] + w[2]\n"
                     "  return 1 / (1 + exp(-s))\n}\n",
                     {vec({2, -3, -3}), vec({-1, -2})}, {});
  expectEnginesAgree("def gates(x, y, z, w) = 2 * (x*y + max(z, w))\n",
                     {scalar(3), scalar(-4), scalar(2), scalar(-1)}, {});
}

TEST(Jit, EveryTensorOpMatchesTheInterpreter) {
  uint64_t seed = 7;
  for (const TensorCase &c : kTensorCases)
    expectEnginesAgree(c.src, randomInputs(c, ++seed), c.dims);
}

TEST(Jit, ChunkedCodeMatchesTheInterpreter) {
  // Every step in its own noinline function, values exchanged through the tape; the chunks
  // in modules of their own, compiled on one thread and on three.
  for (unsigned threads : {1u, 3u}) {
    SCOPED_TRACE(threads);
    BuildOptions chunked;
    chunked.lowering.chunkThreshold = 0;
    chunked.lowering.chunkSteps = 2;
    chunked.threads = threads;
    uint64_t seed = 70;
    for (const TensorCase &c : kTensorCases)
      expectEnginesAgree(c.src, randomInputs(c, ++seed), c.dims, chunked);
    ProgramGenerator gen(99);
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> point(-1.5, 1.5);
    for (int program = 0; program < 20; ++program) {
      std::string src = gen.generate(3, 40);
      expectEnginesAgree(src, {scalar(point(rng)), scalar(point(rng)), scalar(point(rng))}, {},
                         chunked);
    }
  }
}

TEST(Jit, LongCodeIsCompiledInPiecesOnSeveralThreads) {
  // The compile-time case of BENCHMARKS.md (a chain of 12,000 nodes): its chunks go into
  // modules of their own, which threads lower and compile in turn; the exported functions
  // call them across modules. Every thread count gives the same numbers.
  std::string src = chainSource("def chain(x, y)", "x", "1e-3", "y", 3000, "a3000");
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  std::vector<Tensor> at{scalar(0.3), scalar(-0.7)};
  ValueGrad want = valueAndGrad(fn, at, {});
  ASSERT_TRUE(want.error.empty()) << want.error;
  std::vector<double> first;
  for (unsigned threads : {1u, 2u, 5u}) {
    SCOPED_TRACE(threads);
    BuildOptions opts;
    opts.threads = threads;
    auto cf = compileJit(fn, opts);
    ASSERT_TRUE(cf);
    EXPECT_GT(cf->stats.llvmModules, 4u);
    EXPECT_EQ(cf->stats.backendThreads, threads);
    EvalResult got = invokeCompiled(*cf, fn, at, {});
    ASSERT_TRUE(got.ok()) << got.error;
    std::vector<double> numbers{got.outputs[0].data[0], got.outputs[1].data[0], got.outputs[2].data[0]};
    EXPECT_LE(relError(want.value.data[0], numbers[0]), 1e-12);
    EXPECT_LE(relError(want.grads[0].data[0], numbers[1]), 1e-12);
    EXPECT_LE(relError(want.grads[1].data[0], numbers[2]), 1e-12);
    EvalResult value = invokeCompiled(*cf, fn, at, {}, true); // f alone
    ASSERT_TRUE(value.ok()) << value.error;
    EXPECT_EQ(value.outputs[0].data[0], numbers[0]);
    if (first.empty())
      first = numbers;
    EXPECT_EQ(numbers, first); // the same machine code, however it was shared out
  }
  // A dump of the IR is one module, in order.
  std::string ir, error;
  auto dumped = compileFunction(fn, {}, error, &ir);
  ASSERT_TRUE(dumped) << error;
  EXPECT_EQ(dumped->stats.llvmModules, 1u);
  EXPECT_NE(ir.find("define internal void @chain_grad.chunk0("), std::string::npos);
}

TEST(Jit, FusedElementLoopsAreNotRuntimeUnrolled) {
  // A fused element loop is kRolled in the loop IR: its LLVM loop carries
  // llvm.loop.unroll.runtime.disable, which survives O3 (the vectorizer still widens it). The
  // tiled kernel's loops do not: their trip counts are short and known per block.
  auto cs = compileOk("dim n\ndef f(x: [n], A: [10, 30], B: [30, 20]) = sum(exp(x) * x) + sum(tanh(A @ B))\n");
  ASSERT_TRUE(cs);
  BuildOptions own;
  own.blas = false;
  std::string ir, loops, error;
  ASSERT_TRUE(compileFunction(cs->program.funcs[0], own, error, nullptr, &loops)) << error;
  EXPECT_NE(loops.find("for i0 in 0 .. n rolled {"), std::string::npos) << loops;
  // The product's extents are known: the module defines the kernel to inline it.
  ASSERT_NE(loops.find("func gradc_tiled_gemm_f64_nn("), std::string::npos) << loops;
  std::string kernel = loops.substr(loops.find("func gradc_tiled_gemm_f64_nn("));
  kernel = kernel.substr(0, kernel.find("\nfunc ", 1)); // (A^T's copy in the _tn kernel is rolled)
  EXPECT_EQ(kernel.find(" rolled "), std::string::npos) << kernel;
  ASSERT_TRUE(compileFunction(cs->program.funcs[0], own, error, &ir)) << error;
  EXPECT_NE(ir.find("!{!\"llvm.loop.unroll.runtime.disable\"}"), std::string::npos) << ir;
}

// ODE's steps: every shift by one splits its loop into an edge part of at most one index,
// a branch-free middle and another edge, where the slices do not all start at 0 or all reach
// the end. An edge part of one index is a branch, not a loop; a shift by two keeps its loop.
// The branches are not long straight-line code (which gets no IR passes): the module stays
// at O3 and vectorized, and the values agree with the interpreter at n = 1, 2 and 7.
std::string shiftedStepsSource(int shift, int steps) {
  std::string k = std::to_string(shift);
  auto rhs = [&](const std::string &y) { return "concat(x[0:" + k + "], x[" + k + ":n] * (" + y + ")[0:n-" + k + "])"; };
  std::string src = "dim n\ndef f(x: [n]) {\n  y0 = x\n";
  for (int s = 1; s <= steps; ++s) {
    std::string y = "y" + std::to_string(s - 1);
    src += "  y" + std::to_string(s) + " = " + y + " + 0.1 * " + rhs(y + " + 0.05 * " + rhs(y)) + "\n";
  }
  return src + "  return sum(y" + std::to_string(steps) + " * y" + std::to_string(steps) + ")\n}\n";
}

TEST(Jit, AnEdgePartOfOneIndexIsABranchAndTheModuleStaysOptimized) {
  auto one = compileOk(shiftedStepsSource(1, 24));
  ASSERT_TRUE(one);
  std::string loops, ir, error;
  ASSERT_TRUE(compileFunction(one->program.funcs[0], {}, error, nullptr, &loops)) << error;
  EXPECT_NE(loops.find("  if (0 < lo) {"), std::string::npos) << loops;
  EXPECT_NE(loops.find("  if ((n - 1) < n) {"), std::string::npos) << loops;
  EXPECT_NE(loops.find(" in lo .. n rolled {"), std::string::npos) << loops; // y[0:n-1] at i - 1: no end part
  EXPECT_EQ(loops.find(" in 0 .. lo "), std::string::npos) << loops;
  auto cf = compileFunction(one->program.funcs[0], {}, error, &ir);
  ASSERT_TRUE(cf) << error;
  EXPECT_NE(ir.find("x double>"), std::string::npos); // vectorized: O3, not the level of giant code
  // The default level is the level asked for: 3 here, and 0 for long straight-line code
  // that is not chunked.
  auto chain = compileOk(chainSource("def chain(x, y)", "x", "1e-3", "y", 600, "a600"));
  ASSERT_TRUE(chain);
  for (auto [fn, level] : {std::pair{&one->program.funcs[0], 3}, std::pair{&chain->program.funcs[0], 0}}) {
    BuildOptions unchunked, asked;
    unchunked.lowering.chunkThreshold = asked.lowering.chunkThreshold = 1 << 20;
    asked.codegen.optLevel = level;
    std::string byDefault, byLevel;
    ASSERT_TRUE(compileFunction(*fn, unchunked, error, &byDefault)) << error;
    ASSERT_TRUE(compileFunction(*fn, asked, error, &byLevel)) << error;
    EXPECT_TRUE(byDefault == byLevel) << "level " << level;
  }
  auto two = compileOk(shiftedStepsSource(2, 1));
  ASSERT_TRUE(two);
  ASSERT_TRUE(compileFunction(two->program.funcs[0], {}, error, nullptr, &loops)) << error;
  EXPECT_NE(loops.find(" in 0 .. lo rolled {"), std::string::npos) << loops;
  for (int64_t n : {1, 2, 7}) {
    std::vector<double> x;
    for (int64_t i = 0; i < n; ++i)
      x.push_back(0.3 + 0.1 * static_cast<double>(i));
    expectEnginesAgree(shiftedStepsSource(1, 3), {vec(x)}, {n});
    if (n >= 2) // (x[2:n] needs n >= 2)
      expectEnginesAgree(shiftedStepsSource(2, 3), {vec(x)}, {n});
  }
}

TEST(Jit, AFunctionOfManyLoopsIsCompiledInTwoHalves) {
  // On two threads, f_grad's loops are cut in two modules (loops/SplitTail.h), compiled at
  // the same time; on one, or for a dump, it stays whole. The halves compute what the whole
  // does: the interpreter's values and gradients.
  std::string src = shiftedStepsSource(1, 16);
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  for (unsigned threads : {1u, 2u}) {
    BuildOptions opts;
    opts.threads = threads;
    std::string error;
    auto cf = compileFunction(cs->program.funcs[0], opts, error);
    ASSERT_TRUE(cf) << error;
    EXPECT_EQ(cf->stats.llvmModules, threads) << threads;
    for (int64_t n : {1, 2, 7})
      expectEnginesAgree(src, {vec(std::vector<double>(static_cast<size_t>(n), 0.4))}, {n}, opts);
  }
  BuildOptions two;
  two.threads = 2;
  std::string ir, error;
  auto dumped = compileFunction(cs->program.funcs[0], two, error, &ir);
  ASSERT_TRUE(dumped) << error;
  EXPECT_EQ(dumped->stats.llvmModules, 1u);
  EXPECT_EQ(ir.find(".tail"), std::string::npos);
}

TEST(Jit, AFunctionOfManyLoopsIsCompiledCompactly) {
  // loops/CompactLoops.h: f_grad of 40 shifted steps has more than kCompactLoops loops, so its
  // long loops are vectorized one vector at a time with a masked tail, and its module has no
  // SLP vectorizer (the module flag says so); f's fewer loops, and a short program, are not.
  std::string src = shiftedStepsSource(1, 40);
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  std::string loops, ir, error;
  ASSERT_TRUE(compileFunction(cs->program.funcs[0], {}, error, nullptr, &loops)) << error;
  size_t grad = loops.find("func f_grad(");
  ASSERT_NE(grad, std::string::npos) << loops;
  EXPECT_EQ(loops.substr(0, grad).find(" compact {"), std::string::npos) << loops;
  EXPECT_NE(loops.find(" in lo .. n rolled compact {", grad), std::string::npos) << loops;
  ASSERT_TRUE(compileFunction(cs->program.funcs[0], {}, error, &ir)) << error;
  EXPECT_NE(ir.find("!\"gradc.compact\""), std::string::npos);
  auto few = compileOk(shiftedStepsSource(1, 4));
  ASSERT_TRUE(few);
  ir.clear();
  loops.clear();
  ASSERT_TRUE(compileFunction(few->program.funcs[0], {}, error, &ir, &loops)) << error;
  EXPECT_EQ(loops.find(" compact"), std::string::npos) << loops;
  EXPECT_EQ(ir.find("gradc.compact"), std::string::npos);
  // For a CPU without masked loads and stores the tail is not masked (LLVM would emulate
  // them a lane at a time): no per-lane branches, and the loops are still vectorized.
  BuildOptions generic;
  generic.codegen.targetCpu = "x86-64";
  ir.clear();
  ASSERT_TRUE(compileFunction(cs->program.funcs[0], generic, error, &ir)) << error;
  EXPECT_EQ(ir.find("pred.load"), std::string::npos);
  EXPECT_EQ(ir.find("pred.store"), std::string::npos);
  EXPECT_NE(ir.find("vector.body"), std::string::npos);
  // Lengths around the vector widths, on the host and the generic CPU, in halves (two
  // threads): the interpreter's values and gradients.
  BuildOptions halves;
  halves.threads = generic.threads = 2;
  for (int64_t n : {1, 2, 7, 17, 37}) {
    std::vector<double> x;
    for (int64_t i = 0; i < n; ++i)
      x.push_back(0.2 + 0.01 * static_cast<double>(i));
    expectEnginesAgree(src, {vec(x)}, {n}, halves);
    expectEnginesAgree(src, {vec(x)}, {n}, generic);
  }
}

TEST(Jit, ChunkedValueRunsTheGradientsForwardChunks) {
  // Long straight-line code: f runs the first chunks of f_grad (which compute the value
  // into the tape and write no output) instead of compiling the forward pass again.
  std::string src = chainSource("dim n\ndef f(x: [n])", "x[0]", "0.1", "x[3]", 40, "a40 * x[1]");
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  BuildOptions chunked;
  chunked.lowering.chunkThreshold = 0;
  chunked.lowering.chunkSteps = 8;
  std::string ir, error;
  BuildOptions unoptimized = chunked; // IR as lowered
  unoptimized.codegen.optLevel = 0;
  auto dumped = compileFunction(fn, unoptimized, error, &ir);
  ASSERT_TRUE(dumped) << error;
  EXPECT_EQ(ir.find("@f.chunk0("), std::string::npos) << ir;
  EXPECT_NE(ir.find("call void @f_grad.chunk0(i64 %n, ptr %x, ptr null, ptr %ws)"), std::string::npos) << ir;
  expectEnginesAgree(src, {vec({0.3, -1.2, 0.5, 0.8})}, {4}, chunked);
  for (unsigned threads : {1u, 2u}) {
    chunked.threads = threads;
    auto cf = compileJit(fn, chunked);
    ASSERT_TRUE(cf);
    using Value = double (*)(int64_t, const double *, void *);
    using Size = size_t (*)(int64_t);
    std::vector<unsigned char> ws(reinterpret_cast<Size>(cf->workspaceSize)(4));
    double x[4] = {0.3, -1.2, 0.5, 0.8};
    Tensor want = valueOf(fn, {vec({0.3, -1.2, 0.5, 0.8})}, {4});
    EXPECT_LE(relError(want.data[0], reinterpret_cast<Value>(cf->value)(4, x, ws.data())), 1e-12);
    // Index 3 out of range: f's own check gives NaN before any chunk reads x (ASan sees
    // a read past this block of two).
    double *shortX = static_cast<double *>(std::malloc(2 * sizeof(double)));
    shortX[0] = 1;
    shortX[1] = 2;
    EXPECT_TRUE(std::isnan(reinterpret_cast<Value>(cf->value)(2, shortX, ws.data())));
    std::free(shortX);
  }
  // A function whose chunks before the value write a buffer keeps chunks of its own.
  auto tensor = compileOk("def g(x: [6]) = sum(exp(x) * x[0:6]) + sum(sin(x))\n");
  ASSERT_TRUE(tensor);
  std::string tensorIr;
  auto tcf = compileFunction(tensor->program.funcs[0], unoptimized, error, &tensorIr);
  ASSERT_TRUE(tcf) << error;
  EXPECT_NE(tensorIr.find("@g.chunk0("), std::string::npos) << tensorIr;
}

// A value shifted again and again (y[k] reads y[k-1] of the step before, the ODE benchmark's
// pattern): the adjoint reads the same shifted gather at several offsets, and only the offset
// its split loop was made for is known to be inside. x ends at a guard page and the workspace
// starts as NaN bytes, so a read past x crashes and a read of a slot never written shows.
TEST(Jit, NestedShiftsReadOnlyInsideTheirArrays) {
  const char *src = "dim n\n"
                    "def f(x: [n]) {\n"
                    "  y1 = x + concat(x[0:1], x[1:n] * x[0:n-1])\n"
                    "  y2 = y1 + concat(x[0:1], x[1:n] * y1[0:n-1])\n"
                    "  y3 = y2 + concat(x[0:1], x[1:n] * y2[0:n-1])\n"
                    "  y4 = y3 + concat(x[0:1], x[1:n] * y3[0:n-1])\n"
                    "  return y4[n-1]\n"
                    "}\n";
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  const std::vector<double> at{0.3, 0.6, 0.9, 1.2, 1.5};
  ValueGrad want = valueAndGrad(fn, {vec(at)}, {5});
  ASSERT_TRUE(want.error.empty()) << want.error;
  EXPECT_NEAR(want.value.data[0], 22.5996, 1e-12);
  auto cf = compileJit(fn, BuildOptions{});
  ASSERT_TRUE(cf);
  using Grad = double (*)(int64_t, const double *, double *, void *);
  using Size = size_t (*)(int64_t);
  GuardedDoubles x(5);
  std::copy(at.begin(), at.end(), x.data());
  std::vector<unsigned char> ws(reinterpret_cast<Size>(cf->workspaceSize)(5) + 64, 0xff);
  double dx[5];
  void *aligned = ws.data() + (64 - reinterpret_cast<uintptr_t>(ws.data()) % 64) % 64;
  EXPECT_LE(relError(reinterpret_cast<Grad>(cf->grad)(5, x.data(), dx, aligned), want.value.data[0]), 1e-14);
  for (size_t k = 0; k < 5; ++k)
    EXPECT_LE(relError(dx[k], want.grads[0].data[k]), 1e-14) << k;
}

TEST(Jit, OptimizationLevelZeroMatchesTheInterpreter) {
  // What big programs get: no IR passes, fast instruction selection, math library calls
  // under the JIT's private names.
  BuildOptions fast;
  fast.codegen.optLevel = 0;
  uint64_t seed = 700;
  for (const TensorCase &c : kTensorCases)
    expectEnginesAgree(c.src, randomInputs(c, ++seed), c.dims, fast);
  expectEnginesAgree("def f(x, y: f32) = sin(x) * cos(x) + exp(-x) * log(x * x + 1) + tanh(x) + "
                     "pow(x * x + 1, 0.3) + sigmoid(x) + sqrt(abs(x)) + sin(y) * exp(y)\n",
                     {scalar(0.7), scalar(-0.4)}, {}, fast, 1e-6);
}

TEST(Jit, MaxReductionGradientFindsItsTieWhenTheOperandMayContract) {
  // Found by the differential suite: at level 0 on an FMA machine, M.T * A + b was contracted
  // in the min-reduction's loop and not in the gradient's equality test, so no element equaled
  // the minimum and the gradient was 0/0. The operand of a max/min reduction is now stored once.
  const char *src = "dim n\ndef f(A: [3, n], b: [n], M: [n, 3]) = max(min(M.T * A + b, axis=0))\n";
  for (int level : {0, 3}) {
    BuildOptions opts;
    opts.codegen.optLevel = level;
    expectEnginesAgree(src,
                       {mat(3, 5, {1.288, 1.449, 0.066, -0.765, -1.092, 0.031, -1.022, -1.437, 0.199, 0.133,
                                   0.546, -0.914, 0.005, -0.065, -1.506}),
                        vec({0.538, 0.321, 2.389, 0.203, -0.145}),
                        mat(5, 3, {1.233, 0.199, 0.909, -0.366, 0.218, 1.024, 0.696, 0.128, -1.082, 0.445,
                                   0.077, 0.72, 0.216, 1.088, -0.052})},
                       {5}, opts, 1e-9);
  }
}

// The two-layer net's products, forward and in the gradient (X^T @ dH, dS @ W2^T).
const char *kNetProducts = "dim N, D, H\ndef f(X: const [N, D], W1: [D, H], W2: [H, 3]) =\n"
                           "  sum(tanh(relu(X @ W1) @ W2))\n";

TEST(Jit, LargeProductsCallTheHostGemmAndMatchTheInterpreter) {
  // Products of at least hostGemmMinWork multiply-adds call CBLAS when gradc is built with it
  // (GRADC_USE_CBLAS); the threshold is lowered here so the interpreter can check them. The
  // optimized IR shows which products call it; all agree with the interpreter.
  BuildOptions opts;
  opts.lowering.hostGemmMinWork = 32 * 32 * 32;
  for (int64_t n : {40, 4}) {
    SCOPED_TRACE(n);
    auto cs = compileOk(kNetProducts);
    ASSERT_TRUE(cs);
    opts.boundDims = {{0, n}, {1, 50}, {2, 30}};
    std::string error, ir;
    ASSERT_TRUE(compileFunction(cs->program.funcs[0], opts, error, &ir)) << error;
    // X @ W1 and X^T @ dH are n*50*30 multiply-adds: 60000 for n = 40, 6000 for n = 4.
    bool large = n * 50 * 30 >= opts.lowering.hostGemmMinWork;
    EXPECT_EQ(ir.find(kHostGemmF64) != std::string::npos, large && hostGemmAvailable());
    expectEnginesAgree(kNetProducts, {randomTensor({n, 50}, 1), randomTensor({50, 30}, 2), randomTensor({30, 3}, 3)},
                       {n, 50, 30}, opts, 1e-11);
  }
  // Unbound dims: the size is tested at run time, with gradc's kernel for small products.
  opts.boundDims.clear();
  expectEnginesAgree(kNetProducts, {randomTensor({3, 5}, 4), randomTensor({5, 2}, 5), randomTensor({2, 3}, 6)},
                     {3, 5, 2}, opts, 1e-12);
  expectEnginesAgree(kNetProducts, {randomTensor({64, 70}, 7), randomTensor({70, 20}, 8), randomTensor({20, 3}, 9)},
                     {64, 70, 20}, opts, 1e-11);
  // blas = false (CompileOptions::blas, `gradc run --no-blas`): never a call.
  opts.blas = false;
  auto cs = compileOk(kNetProducts);
  ASSERT_TRUE(cs);
  std::string error, ir;
  ASSERT_TRUE(compileFunction(cs->program.funcs[0], opts, error, &ir)) << error;
  EXPECT_EQ(ir.find(kHostGemmF64), std::string::npos);
}

TEST(Jit, TiledMatMulKernelMatchesTheInterpreter) {
  // gradc's own kernel (what emitted code runs): whole tiles of 6 rows by one vector, rows
  // and columns left over (masked), several blocks of the shared axis (128) and of rows (42),
  // a transposed left operand (X^T @ dH, packed), an empty shared axis, f64 and f32.
  BuildOptions own;
  own.blas = false;
  std::string error, ir;
  auto cs = compileOk(kNetProducts);
  ASSERT_TRUE(cs);
  ASSERT_TRUE(compileFunction(cs->program.funcs[0], own, error, &ir)) << error;
  EXPECT_NE(ir.find("<8 x double>"), std::string::npos) << "no vector tile in the kernel";
  for (auto [n, d, h] : {std::tuple{13, 70, 20}, {130, 300, 37}, {6, 8, 8}, {5, 3, 7}, {50, 0, 9}, {1, 1, 1}}) {
    SCOPED_TRACE(std::to_string(n) + "x" + std::to_string(d) + "x" + std::to_string(h));
    int64_t nn = n, dd = d, hh = h;
    expectEnginesAgree(kNetProducts, {randomTensor({nn, dd}, 10), randomTensor({dd, hh}, 11), randomTensor({hh, 3}, 12)},
                       {nn, dd, hh}, own, 1e-11);
  }
  const char *f32 = "dim N, D, H\ndef f(X: const f32[N, D], W1: f32[D, H], W2: f32[H, 3]) =\n"
                    "  sum(tanh(relu(X @ W1) @ W2))\n";
  expectEnginesAgree(f32, {randomTensor({130, 300}, 16), randomTensor({300, 37}, 17), randomTensor({37, 3}, 18)},
                     {130, 300, 37}, own, 2e-4);
  // Bound dims: the same kernel with constant extents.
  own.boundDims = {{0, 47}, {1, 129}, {2, 17}};
  expectEnginesAgree(kNetProducts, {randomTensor({47, 129}, 19), randomTensor({129, 17}, 20), randomTensor({17, 3}, 21)},
                     {47, 129, 17}, own, 1e-11);
}

TEST(Jit, EveryTransposeOfAProductRunsTheTiledKernel) {
  // A @ B.T and A.T @ B.T: a transposed right operand is first copied by rows, in blocks
  // (the kernel reads B's panels along memory); a transposed A is packed as it is. The
  // gradients add G @ B and G.T @ A. The loop IR shows f's products as calls of the kernels.
  BuildOptions own;
  own.blas = false;
  const char *src = "dim M, K, N\ndef f(A: [M, K], B: [N, K], C: [K, M]) = sum((A @ B.T)^2) + sum(tanh(C.T @ B.T))\n";
  std::string error, loops;
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  ASSERT_TRUE(compileFunction(cs->program.funcs[0], own, error, nullptr, &loops)) << error;
  // f itself has only products with a transposed right operand: B.T is copied once, in
  // blocks of 16 by 16, and both products read the copy.
  std::string value = loops.substr(0, loops.find("\nfunc f_grad("));
  EXPECT_NE(value.find("let row_hi: i64 = min((row_lo + 16), K)"), std::string::npos) << value;
  EXPECT_NE(value.find("let col_hi: i64 = min((col_lo + 16), N)"), std::string::npos) << value;
  EXPECT_NE(value.find("for i2 in row_lo .. row_hi {\n        for i3 in col_lo .. col_hi {\n"
                       "          w0[((i2 * N) + i3)] = B[((i3 * K) + i2)]"),
            std::string::npos)
      << value;
  EXPECT_NE(value.find("gradc_tiled_gemm_f64_nn(M, N, K, &A[0], K, 1, &w0[0], N, 1, &w1[0])"), std::string::npos)
      << value;
  EXPECT_NE(value.find("gradc_tiled_gemm_f64_tn(M, N, K, &C[0], 1, M, &w0[0], N, 1, &w"), std::string::npos) << value;
  // With the extents at run time, the calls go to the kernels compiled ahead of time into
  // gradc (kernels/AheadOfTime.h), which the module does not define; elsewhere it defines them.
  for (const char *form : {"nn", "tn"}) {
    bool defined = loops.find(std::string("func gradc_tiled_gemm_f64_") + form + "(") != std::string::npos;
    EXPECT_EQ(defined, aheadOfTimeKernels().empty()) << form;
  }
  EXPECT_EQ(loops.find("gradc_tiled_gemm_f64_nt"), std::string::npos);
  for (auto [m, k, n] : {std::tuple{13, 70, 20}, {130, 300, 37}, {6, 8, 8}, {5, 3, 7}, {12, 0, 9}}) {
    SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n));
    int64_t mm = m, kk = k, nn = n;
    expectEnginesAgree(src, {randomTensor({mm, kk}, 40), randomTensor({nn, kk}, 41), randomTensor({kk, mm}, 42)},
                       {mm, kk, nn}, own, 1e-11);
  }
}

TEST(Jit, TheKernelsCompiledAheadOfTimeMultiply) {
  // kernels/AheadOfTime.h: on x86-64 every form of the kernel for this machine's level, under
  // the symbol the loop IR calls; each computes C = A @ B through its strides (a row-major A,
  // or the transpose of one stored [k, m]).
#if defined(__x86_64__)
  ASSERT_EQ(aheadOfTimeKernels().size(), 4u);
#endif
  using Gemm = void (*)(int64_t, int64_t, int64_t, const double *, int64_t, int64_t, const double *, int64_t,
                        int64_t, double *);
  const int64_t m = 13, k = 9, n = 21;
  std::vector<double> a(m * k), b(k * n), want(m * n, 0.0);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = std::sin(0.3 * static_cast<double>(i));
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = std::cos(0.7 * static_cast<double>(i));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p)
        want[i * n + j] += a[i * k + p] * b[p * n + j];
  std::vector<double> at(k * m); // A stored transposed: at[p, i] = A[i, p]
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p)
      at[p * m + i] = a[i * k + p];
  for (const HostSymbol &kernel : aheadOfTimeKernels()) {
    std::string name = kernel.name;
    if (name.find("_f64_") == std::string::npos)
      continue;
    SCOPED_TRACE(name);
    bool transposed = name.ends_with("_tn");
    EXPECT_EQ(name, loops::tiledKernelCallee(DType::F64, loops::Form{transposed}).symbol);
    std::vector<double> c(m * n, -1.0);
    reinterpret_cast<Gemm>(kernel.address)(m, n, k, transposed ? at.data() : a.data(), transposed ? 1 : k,
                                           transposed ? m : 1, b.data(), n, 1, c.data());
    for (size_t i = 0; i < c.size(); ++i)
      EXPECT_NEAR(c[i], want[i], 1e-12) << i;
  }
}

TEST(Jit, BatchedProductsCallTheTiledKernelPerBatch) {
  // A @ B over a batch axis (run-time b): one kernel call per batch at offsets into A, B and
  // the result; a matrix broadcast to every batch (W) is read in place, a transposed one (V.T)
  // copied once; P's batch axis of length 1 repeats against Q's. The gradients transpose
  // matrix by matrix and sum W's (and P's) over the batch.
  BuildOptions own;
  own.blas = false;
  const char *src = "dim b\ndef f(A: [b, 13, 20], B: [b, 20, 9], W: [20, 9], V: [9, 20], P: [3, 1, 13, 20], "
                    "Q: [2, 20, 9]) = sum(tanh(A @ B)) + sum((A @ W)^2) + sum(sin(A @ V.T)) + sum(cos(P @ Q))\n";
  std::string error, loops;
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  ASSERT_TRUE(compileFunction(cs->program.funcs[0], own, error, nullptr, &loops)) << error;
  std::string value = loops.substr(0, loops.find("\nfunc f_grad("));
  for (const char *call :
       {"gradc_tiled_gemm_f64_nn(13, 9, 20, &A[(i0 * 260)], 20, 1, &B[(i0 * 180)], 9, 1, &w0[(i0 * 117)])",
        "gradc_tiled_gemm_f64_nn(13, 9, 20, &A[(i4 * 260)], 20, 1, &W[0], 9, 1, &w0[(i4 * 117)])",
        "gradc_tiled_gemm_f64_nn(13, 9, 20, &A[(i12 * 260)], 20, 1, &w1[0], 9, 1, &w0[(i12 * 117)])",
        "gradc_tiled_gemm_f64_nn(13, 9, 20, &P[(i16 * 260)], 20, 1, &Q[(i17 * 180)], 9, 1, &w2[(((i16 * 2) + i17) * 117)])"})
    EXPECT_NE(value.find(call), std::string::npos) << call << "\n" << value;
  EXPECT_NE(value.find("= V[((i"), std::string::npos) << value; // V.T copied by rows
  EXPECT_EQ(value.find("dot"), std::string::npos) << value;    // no product left as dot loops
  for (int64_t batches : {3, 0}) {
    SCOPED_TRACE(batches);
    expectEnginesAgree(src,
                       {randomTensor({batches, 13, 20}, 50), randomTensor({batches, 20, 9}, 51),
                        randomTensor({20, 9}, 52), randomTensor({9, 20}, 53), randomTensor({3, 1, 13, 20}, 54),
                        randomTensor({2, 20, 9}, 55)},
                       {batches}, own, 1e-11);
  }
}

TEST(Jit, ProductsOfF32AndF64ComputeInF64) {
  // As elementwise arithmetic does, whichever side the f64 operand is on and whatever the rank.
  for (const char *src : {"def f(A: f32[3, 9], B: [9, 5]) = A @ B\n", "def f(A: [3, 9], B: f32[9, 5]) = A @ B\n",
                          "def f(A: f32[2, 3, 9], B: [9, 5]) = A @ B\n", "def f(A: const i32[3, 9], B: f32[9, 5]) = A @ B\n"}) {
    SCOPED_TRACE(src);
    auto cs = compileOk(src);
    ASSERT_TRUE(cs);
    const Function &fn = cs->program.funcs[0];
    bool f32Only = std::string(src).find("i32") != std::string::npos;
    EXPECT_EQ(fn.graph->type(fn.result).dtype, f32Only ? DType::F32 : DType::F64);
  }
}

TEST(Jit, RowSweepMatchesTheInterpreter) {
  // q = W @ x with an elementwise adjoint: one sweep over W's rows computes q, dW's rows and
  // dx (Schedule.h's RowSweep): blocks of 4 rows and rows left over, whole vectors of
  // columns and a masked tail, and non-temporal stores of dW from 16 MiB (n * 8 a multiple
  // of 64; a head of columns aligns dW's rows).
  const char *layer = "dim m, n\ndef f(W: [m, n], x: [n], y: [m]) = sum(tanh(W @ x) * y)\n";
  BuildOptions opts;
  for (auto [m, n] : {std::pair{2051, 1024}, {37, 1027}, {4, 8}, {3, 5}, {1, 1}, {9, 17}}) {
    SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(n));
    int64_t mm = m, nn = n;
    expectEnginesAgree(layer, {randomTensor({mm, nn}, 30), randomTensor({nn}, 31), randomTensor({mm}, 32)}, {mm, nn},
                       opts, 1e-11);
  }
  // Outer products as wide as W (fused) and of another width (not), in the forward pass.
  const char *outer = "dim m, n, k\ndef f(W: [m, n], x: [n], u: [k]) =\n"
                      "  reshape(W @ x, [m, 1]) @ reshape(x, [1, n]) + sum(reshape(W @ x, [m, 1]) @ reshape(u, [1, k]))\n";
  expectEnginesAgree(outer, {randomTensor({37, 21}, 38), randomTensor({21}, 39), randomTensor({5}, 40)}, {37, 21, 5},
                     opts, 1e-11);
  const char *f32 = "dim m, n\ndef f(W: f32[m, n], x: f32[n], y: f32[m]) = sum(tanh(W @ x) * y)\n";
  expectEnginesAgree(f32, {randomTensor({70, 300}, 33), randomTensor({300}, 34), randomTensor({70}, 35)}, {70, 300},
                     opts, 2e-4);
  // The non-temporal stores are the sweep's: a gradient whose adjoint needs all of q first
  // (a scalar of q scales it) sweeps three times, with ordinary stores, and agrees too.
  const char *whole = "dim m, n\ndef f(W: [m, n], x: [n]) = log(sum((W @ x)^2))\n";
  opts.boundDims = {{0, 2051}, {1, 1024}};
  for (auto [src, sweeps] : {std::pair{layer, true}, {whole, false}}) {
    auto cs = compileOk(src);
    ASSERT_TRUE(cs);
    std::string error, ir;
    ASSERT_TRUE(compileFunction(cs->program.funcs[0], opts, error, &ir)) << error;
    EXPECT_EQ(ir.find("!nontemporal") != std::string::npos, sweeps) << src;
  }
  expectEnginesAgree(whole, {randomTensor({2051, 1024}, 36), randomTensor({1024}, 37)}, {2051, 1024}, opts, 1e-11);
}

// The row sweeps the schedule of f_grad finds (Schedule.h's RowSweep).
// f_grad's schedule for `src`'s only function (value, then gradients), and its graph.
struct GradSchedule {
  RewriteResult opt;
  Schedule s;
};
GradSchedule gradScheduleOf(const std::string &src) {
  auto cs = compileOk(src);
  if (!cs)
    return {};
  Function &fn = cs->program.funcs[0];
  GradientGraph gg = differentiate(fn);
  std::vector<NodeId> roots{gg.value};
  roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
  GradSchedule out;
  out.opt = optimizeGraph(*fn.graph, roots, {});
  out.s = scheduleFunction(*out.opt.graph, out.opt.roots, std::vector<DType>(out.opt.roots.size(), DType::F64));
  return out;
}

std::vector<RowSweep> rowSweepsOf(const std::string &src) { return gradScheduleOf(src).s.rowSweeps; }

TEST(Jit, RowSweepsTakeTheStepsElementwiseInTheMatvec) {
  // l2wx: g = 2q, dW = g x^T and dx = W^T g all join the sweep of q = W @ x.
  std::vector<RowSweep> l2 = rowSweepsOf("dim n\ndef l2wx(W: [n, n], x: [n]) = sum((W @ x)^2)\n");
  ASSERT_EQ(l2.size(), 1u);
  EXPECT_EQ(l2[0].rowValues.size(), 1u);
  EXPECT_EQ(l2[0].outers.size(), 1u);
  EXPECT_EQ(l2[0].transposed.size(), 1u);
  // A const x has no gradient: the sweep writes dW only.
  std::vector<RowSweep> layer = rowSweepsOf("dim m, n\ndef f(W: [m, n], x: const [n]) = sum(tanh(W @ x))\n");
  ASSERT_EQ(layer.size(), 1u);
  EXPECT_EQ(layer[0].outers.size(), 1u);
  EXPECT_EQ(layer[0].transposed.size(), 0u);
  // An adjoint scaled by a scalar of all of q is known only after the matvec: no sweep.
  EXPECT_TRUE(rowSweepsOf("dim n\ndef f(W: [n, n], x: [n]) = log(sum((W @ x)^2))\n").empty());
  // Nor for a transposed matrix (its rows are W's columns).
  EXPECT_TRUE(rowSweepsOf("dim n\ndef f(W: [n, n], x: [n]) = sum((W.T @ x)^2)\n").empty());
}

TEST(Jit, SumsRideOnTheLoopThatGathersTheirTerms) {
  // Rosenbrock: the value's sum and d_x's loop read the same terms; the sum is computed in
  // that loop (one sweep over x) and follows it in the steps.
  const char *rosenbrock = "dim n\ndef f(x: [n]) = sum(100*(x[1:n]-x[0:n-1]^2)^2 + (1-x[0:n-1])^2)\n";
  GradSchedule r = gradScheduleOf(rosenbrock);
  ASSERT_EQ(r.s.riders.size(), 1u);
  const SumRider &rider = r.s.riders[0];
  EXPECT_EQ(rider.sum, r.opt.roots[0]);
  EXPECT_EQ(rider.loop, r.opt.roots[1]);
  auto at = std::find(r.s.steps.begin(), r.s.steps.end(), rider.loop);
  ASSERT_NE(at, r.s.steps.end());
  ASSERT_NE(at + 1, r.s.steps.end());
  EXPECT_EQ(at[1], rider.sum);
  EXPECT_EQ(r.s.riderOfSum(rider.sum), &rider);
  // A gradient that needs the sum (1 / sum) must come after it: nothing rides.
  EXPECT_TRUE(gradScheduleOf("dim n\ndef f(x: [n]) = log(sum(100*(x[1:n]-x[0:n-1]^2)^2 + (1-x[0:n-1])^2))\n")
                  .s.riders.empty());
  // The value adds two sums in a scalar step before d_x's loop: both sums ride on the loop,
  // and the add follows them.
  GradSchedule two = gradScheduleOf("dim n\ndef f(x: [n]) = sum(x[1:n] * x[0:n-1]) + sum(exp(x[0:n-1]) * x[1:n])\n");
  ASSERT_EQ(two.s.riders.size(), 2u);
  auto loopAt = std::find(two.s.steps.begin(), two.s.steps.end(), two.s.riders[0].loop);
  ASSERT_LE(loopAt + 4, two.s.steps.end());
  EXPECT_EQ(two.s.riders[1].loop, two.s.riders[0].loop);
  EXPECT_EQ(loopAt[1], two.s.riders[0].sum);
  EXPECT_EQ(loopAt[2], two.s.riders[1].sum);
  EXPECT_EQ(loopAt[3], two.opt.roots[0]); // the value: their sum
  // No loop gathers the terms of sum(exp(x)): nothing rides.
  EXPECT_TRUE(gradScheduleOf("dim n\ndef f(x: [n]) = sum(exp(x))\n").s.riders.empty());

  // The fused sweep gives the interpreter's numbers: the loop's head, middle and tail (any
  // of them empty), chunked code, f32; and without it.
  for (int64_t n : {1, 2, 3, 4, 9, 33, 100}) {
    SCOPED_TRACE(n);
    std::vector<double> x;
    for (int64_t i = 0; i < n; ++i)
      x.push_back(0.37 * static_cast<double>(i % 7) - 0.9);
    expectEnginesAgree(rosenbrock, {vec(x)}, {n}, {}, 1e-12);
    BuildOptions chunked;
    chunked.lowering.chunkThreshold = 0;
    chunked.lowering.chunkSteps = 1;
    expectEnginesAgree(rosenbrock, {vec(x)}, {n}, chunked, 1e-12);
    const char *twoSums = "dim n\ndef f(x: [n]) = sum(x[1:n] * x[0:n-1]) + sum(exp(x[0:n-1]) * x[1:n])\n";
    expectEnginesAgree(twoSums, {vec(x)}, {n}, {}, 1e-12);
    expectEnginesAgree(twoSums, {vec(x)}, {n}, chunked, 1e-12);
  }
  expectEnginesAgree("dim n\ndef f(x: f32[n]) = sum(100*(x[1:n]-x[0:n-1]^2)^2 + (1-x[0:n-1])^2)\n",
                     {vec({0.5, -0.25, 1.5, 0.75, -1})}, {5}, {}, 1e-5);
}

TEST(Jit, BoundDimsSpecializeAndDropTheArgument) {
  auto cs = compileOk("dim n\ndef l2wx(W: [n, n], x: [n]) = sum((W @ x)^2)\n");
  ASSERT_TRUE(cs);
  BuildOptions opts;
  opts.boundDims[0] = 2;
  auto cf = compileJit(cs->program.funcs[0], opts);
  ASSERT_TRUE(cf);
  EXPECT_EQ(cf->abi.grad.prototype(),
            "double l2wx_grad(const double *W, const double *x, double *d_W, double *d_x, void *ws)");
  using Grad = double (*)(const double *, const double *, double *, double *, void *);
  double W[] = {1, 2, 3, 4}, x[] = {1, -1}, dW[4], dx[2];
  std::vector<unsigned char> ws(reinterpret_cast<size_t (*)()>(cf->workspaceSize)() + 64);
  double v = reinterpret_cast<Grad>(cf->grad)(W, x, dW, dx, ws.data());
  // W x = (-1, -1): f = 2, dW = 2 (W x) x^T, dx = 2 W^T (W x)
  EXPECT_EQ(v, 2.0);
  EXPECT_EQ(std::vector<double>(dW, dW + 4), (std::vector<double>{-2, 2, -2, 2}));
  EXPECT_EQ(std::vector<double>(dx, dx + 2), (std::vector<double>{-8, -12}));
  // Unbound, n is the first argument.
  auto cs2 = compileOk("dim n\ndef l2wx(W: [n, n], x: [n]) = sum((W @ x)^2)\n");
  auto cf2 = compileJit(cs2->program.funcs[0]);
  EXPECT_EQ(cf2->abi.value.prototype(),
            "double l2wx(int64_t n, const double *W, const double *x, void *ws)");
  EXPECT_EQ(cf2->abi.grad.prototype(), "double l2wx_grad(int64_t n, const double *W, const "
                                       "double *x, double *d_W, double *d_x, void *ws)");
}

TEST(Jit, ScalarFunctionsFollowTheCAbiAndNeedNoWorkspace) {
  auto cs = compileOk("def simple(x, y, z) = (x + y) * z\n");
  auto cf = compileJit(cs->program.funcs[0]);
  ASSERT_TRUE(cf);
  EXPECT_EQ(cf->abi.value.prototype(), "double simple(double x, double y, double z, void *ws)");
  EXPECT_EQ(cf->abi.grad.prototype(), "double simple_grad(double x, double y, double z, double "
                                      "*d_x, double *d_y, double *d_z, void *ws)");
  EXPECT_EQ(reinterpret_cast<size_t (*)()>(cf->workspaceSize)(), 0u);
  using Grad = double (*)(double, double, double, double *, double *, double *, void *);
  double dx, dy, dz;
  double v = reinterpret_cast<Grad>(cf->grad)(-2, 5, -4, &dx, &dy, &dz, nullptr);
  EXPECT_EQ(v, -12.0);
  EXPECT_EQ(dx, -4.0);
  EXPECT_EQ(dy, -4.0);
  EXPECT_EQ(dz, 3.0);
  using Value = double (*)(double, double, double, void *);
  EXPECT_EQ(reinterpret_cast<Value>(cf->value)(-2, 5, -4, nullptr), -12.0);
}

TEST(Jit, NonScalarResultsTakeDOutAndWriteOut) {
  auto cs = compileOk("dim n\ndef g(x: [n]) = x * x\n");
  auto cf = compileJit(cs->program.funcs[0]);
  ASSERT_TRUE(cf);
  EXPECT_EQ(cf->abi.grad.prototype(),
            "void g_grad(int64_t n, const double *x, const double *d_out, double *out, double "
            "*d_x, void *ws)");
  using Grad = void (*)(int64_t, const double *, const double *, double *, double *, void *);
  double x[] = {1, 2, 3}, dOut[] = {1, 10, 100}, out[3], dx[3];
  reinterpret_cast<Grad>(cf->grad)(3, x, dOut, out, dx, nullptr);
  EXPECT_EQ(std::vector<double>(out, out + 3), (std::vector<double>{1, 4, 9}));
  EXPECT_EQ(std::vector<double>(dx, dx + 3), (std::vector<double>{2, 40, 600}));
}

TEST(Jit, IndexOutOfRangeGivesNaNAndReadsNothing) {
  auto cs = compileOk("dim n\ndef f(x: [n]) = x[3] * x[0]\n");
  auto cf = compileJit(cs->program.funcs[0]);
  ASSERT_TRUE(cf);
  using Grad = double (*)(int64_t, const double *, double *, void *);
  // A heap block of exactly two doubles: ASan reports any read past it.
  double *x = static_cast<double *>(std::malloc(2 * sizeof(double)));
  x[0] = 1;
  x[1] = 2;
  double dx[2] = {7, 7};
  using Size = size_t (*)(int64_t);
  std::vector<unsigned char> ws(reinterpret_cast<Size>(cf->workspaceSize)(4));
  EXPECT_EQ(ws.size(), 0u); // the gradient is gathered straight into d_x
  double v = reinterpret_cast<Grad>(cf->grad)(2, x, dx, nullptr);
  EXPECT_TRUE(std::isnan(v));
  EXPECT_TRUE(std::isnan(dx[0]) && std::isnan(dx[1]));
  // In range, the same function works.
  double y[4] = {2, 0, 0, 5}, dy[4];
  EXPECT_EQ(reinterpret_cast<Grad>(cf->grad)(4, y, dy, nullptr), 10.0);
  EXPECT_EQ(std::vector<double>(dy, dy + 4), (std::vector<double>{5, 0, 0, 2}));
  std::free(x);
  // The caller's check names the failing index, as the interpreter does.
  std::string error;
  SourceLoc loc;
  EXPECT_FALSE(checkIndexBounds(*cf->graph, cf->roots, {2}, error, loc));
  EXPECT_EQ(error, "index 3 is out of range for axis 0 of size 2");
  EXPECT_EQ(loc.line, 2u);
}

TEST(Jit, F32AndIntegerParameters) {
  auto cs = compileOk("def f(x: f32[3], y: const i32[3], s: f32) = sum(sqrt(x * x + 1) * y) * s\n");
  auto cf = compileJit(cs->program.funcs[0]);
  ASSERT_TRUE(cf);
  EXPECT_EQ(cf->abi.grad.prototype(), "float f_grad(const float *x, const int32_t *y, float s, "
                                      "float *d_x, float *d_s, void *ws)");
  expectEnginesAgree("def f(x: f32[3], y: const i32[3], s: f32) = sum(sqrt(x * x + 1) * y) * s\n",
                     {vec({0.5, -1.25, 2}), vec({1, 2, 3}), scalar(1.5)}, {}, {}, 1e-6);
}

TEST(Jit, RandomScalarProgramsMatchTheInterpreter) {
  // The property corpus of the foundation (PropertyTest) on the compiled engine.
  ProgramGenerator gen(20261126);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> point(-1.5, 1.5);
  for (int program = 0; program < 1000; ++program) {
    int params = 1 + program % 4;
    int statements = program % 10 == 0 ? 200 : 1 + program % 25;
    std::string src = gen.generate(params, statements);
    std::vector<Tensor> at;
    for (int p = 0; p < params; ++p)
      at.push_back(scalar(point(rng)));
    expectEnginesAgree(src, at, {});
    if (HasFailure())
      return;
  }
}

TEST(Jit, AValueReadAtAFewElementsIsComputedAtEachRead) {
  // det's minors: M is read at six of its twelve elements by scalar indices, so each read
  // computes its element (an element of A) and M is never stored. Read whole as well (by
  // sum), M is stored once; so is exp(A) read at five elements (through two slices) of four.
  const std::string minor = "def f(A: [4, 4]) {\n  M = concat(A[:, 0:1], A[:, 2:4], axis=1)\n"
                            "  return M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0] + M[2, 2] * M[3, 0]";
  const std::string costly = "def f(A: [2, 2]) {\n  E = exp(A)\n  F = E[0:1, :]\n  G = E[:, 0:1]\n"
                             "  return F[0, 0] * F[0, 1] - G[0, 0] * G[1, 0] + E[1, 1]\n}\n";
  for (auto [src, want] : {std::pair{minor + "\n}\n", 0u}, std::pair{minor + " + sum(M)\n}\n", 1u},
                           std::pair{costly, 1u}}) {
    SCOPED_TRACE(src);
    auto cs = compileOk(src);
    ASSERT_TRUE(cs);
    Function &fn = cs->program.funcs[0];
    Schedule s = scheduleFunction(*fn.graph, {fn.result}, {DType::F64});
    EXPECT_EQ(std::count(s.storage.begin(), s.storage.end(), Storage::Workspace), want);
    expectEnginesAgree(src, {randomTensor({src == costly ? 2 : 4, src == costly ? 2 : 4}, 3)}, {});
  }
}

TEST(Jit, WorkspaceBuffersAreReusedWhenLifetimesDoNotOverlap) {
  // a and b are each stored once (two consumers each, exp is costly to recompute); a is
  // dead before b is computed, so they share one buffer.
  const char *src = "def f(x: [16]) {\n  a = exp(x)\n  u = sum(a) * sum(a * x)\n"
                    "  b = exp(x * u)\n  return sum(b) + sum(b * x)\n}\n";
  auto cs = compileOk(src);
  Function &fn = cs->program.funcs[0];
  Schedule s = scheduleFunction(*fn.graph, {fn.result}, {DType::F64});
  size_t stored = 0;
  for (Storage st : s.storage)
    stored += st == Storage::Workspace;
  EXPECT_EQ(stored, 2u);
  EXPECT_EQ(s.buffers.size(), 1u);
  expectEnginesAgree(src, {randomTensor({16}, 5)}, {});
}
