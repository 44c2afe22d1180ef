// TestUtil.h: compiling source text and evaluating values and gradients in tests.
#pragma once

#include "autodiff/ReverseMode.h"
#include "interp/Interpreter.h"
#include "pipeline/Pipeline.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace gradc::test {

/// Compiles `text`; a compile error fails the calling test and returns nullptr.
std::unique_ptr<CompiledSource> compileOk(const std::string &text);
/// Compiles `text`, which must fail; returns the rendered diagnostics.
std::string compileErrors(const std::string &text, const std::string &name = "t.expr");

Tensor scalar(double v);
Tensor vec(std::vector<double> v);
Tensor mat(int64_t rows, int64_t cols, std::vector<double> v);
/// A tensor of the shape with N(0, 1) entries.
Tensor randomTensor(const std::vector<int64_t> &shape, std::mt19937_64 &rng);
Tensor randomTensor(const std::vector<int64_t> &shape, uint64_t seed);

struct ValueGrad {
  Tensor value;
  std::vector<Tensor> grads; // one per parameter (empty tensor for const ones)
  std::string error;
};

/// Differentiates `fn` and evaluates value and gradients.
ValueGrad valueAndGrad(Function &fn, const std::vector<Tensor> &params,
                       const std::vector<int64_t> &dimValues = {});
/// The value alone, from the forward graph.
Tensor valueOf(const Function &fn, const std::vector<Tensor> &params,
               const std::vector<int64_t> &dimValues = {});

/// Central difference of sum(f) (a scalar function) in parameter p, element i, with step
/// `step` * max(1, |x|).
double centralDifference(const Function &fn, std::vector<Tensor> params, size_t p, size_t i,
                         const std::vector<int64_t> &dimValues = {}, double step = 1e-6);

/// |a - b| / max(1, |a|, |b|): relative for large values, absolute near zero.
double relError(double a, double b);

/// Forward mode against reverse mode: <J v, u> and <v, J^T u> for random u and v at `at`
/// (the interpreter on the tangent and gradient graphs), equal to 1e-10 or a test failure.
void expectDotProductIdentity(Function &fn, const std::vector<Tensor> &at,
                              const std::vector<int64_t> &dims, uint64_t seed, const std::string &src);

} // namespace gradc::test
