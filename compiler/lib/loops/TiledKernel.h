// TiledKernel.h: gradc's matrix-product kernel as one function of the module, which every
// tiled product calls. One copy per module instead of one per product: LLVM optimizes and
// compiles it once (mlp2's gradient has five products).
#pragma once

#include "loops/LoopIR.h"

#include <memory>

namespace gradc::loops {

/// Whether A is stored transposed (BLAS's T; N: by rows): the stride that is 1 is part of the
/// kernel. B is always stored by rows: the schedule copies a transposed right operand.
struct Form {
  bool aTransposed = false;
  auto operator<=>(const Form &) const = default;
};

/// The kernel for `dt` (F64 or F32) and `form`, `gradc_tiled_gemm_f64_tn` say: C = A @ B for
/// A [m, k] and B [k, n] read through strides into row-major C [m, n], with the host gemm's
/// signature (LoweringInput.h):
///   void kernel(int64_t m, int64_t n, int64_t k, const T *A, int64_t rsa, int64_t csa,
///               const T *B, int64_t rsb, int64_t csb, T *C)
/// The form's unit strides (csa of an A in rows, rsa of a transposed A, csb) are not read.
Callee tiledKernelCallee(DType dt, Form form);
/// A function of that signature by its symbol (the host's gemm).
Callee gemmCallee(const std::string &symbol);
/// Its definition: internal, noinline, `shared` (printed once per module).
std::unique_ptr<Func> tiledKernel(DType dt, Form form);

} // namespace gradc::loops
