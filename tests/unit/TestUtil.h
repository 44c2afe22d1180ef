// TestUtil.h: compiling source text and evaluating values and gradients in tests.
#pragma once

#include "autodiff/ReverseMode.h"
#include "abi/Abi.h"
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

/// `src`'s only function compiled afresh by the JIT and called at `at` (dim values `dims`):
/// value, then gradients. A compile error comes back as the result's error.
EvalResult jitValueAndGrad(const std::string &src, const std::vector<Tensor> &at,
                           const std::vector<int64_t> &dims = {});

/// |a - b| / max(1, |a|, |b|): relative for large values, absolute near zero.
double relError(double a, double b);

/// Forward mode against reverse mode: <J v, u> and <v, J^T u> for random u and v at `at`
/// (the interpreter on the tangent and gradient graphs), equal to 1e-10 or a test failure.
void expectDotProductIdentity(Function &fn, const std::vector<Tensor> &at,
                              const std::vector<int64_t> &dims, uint64_t seed, const std::string &src);

// C drivers for emitted code (gradc emit --c): DifferentialTest and tests/fuzz/EmitFuzzer.cpp.

/// `v` as "%.17g", which reads back exactly (as C source and from a driver's output).
std::string cNumber(double v);
/// "  static TYPE NAME[N] = {...};\n" with t's elements (N at least 1).
std::string cArray(const std::string &type, const std::string &name, const Tensor &t);
/// The number of elements of shape `s`, with `dims` the dim values by symbol.
int64_t elementCount(const Shape &s, const std::vector<int64_t> &dims);

/// A C function `static void run<k>(void)` that calls abi.grad (P_f_grad) with the inputs
/// `at` (the parameters, then d_out for a non-scalar result) and the dim values `dims` (by
/// symbol) and prints the value and every gradient, one number per line ("%.17g"). The
/// driver that includes it needs <stdio.h> and defines the workspace `ws`
/// (`static double ws[...];`); when that is smaller than P_f_workspace_size, run<k> prints
/// "ws" and returns. With `exactWorkspace` run<k> instead mallocs exactly the size asked
/// for (16-byte aligned, what the ABI requires; so a sanitizer sees every overrun) and
/// frees it: the driver then needs <stdlib.h> and no `ws`.
std::string driverFor(size_t k, const Function &fn, const AbiSet &abi, const std::vector<Tensor> &at,
                      const std::vector<int64_t> &dims, bool exactWorkspace = false);

/// `count` doubles that end where an inaccessible page begins: compiled code that reads one
/// element past them crashes the test instead of reading a neighbour (JIT code is not
/// instrumented by ASan).
class GuardedDoubles {
public:
  explicit GuardedDoubles(size_t count);
  ~GuardedDoubles();
  GuardedDoubles(const GuardedDoubles &) = delete;
  GuardedDoubles &operator=(const GuardedDoubles &) = delete;
  double *data() { return data_; }

private:
  void *map_ = nullptr;
  size_t bytes_ = 0;
  double *data_ = nullptr;
};

} // namespace gradc::test
