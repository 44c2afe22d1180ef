// CMatMulKernel.h: the tiled matrix kernel of Lowering.cpp (emitTiledMatMul) as a C99
// function, printed once into emitted C source that has a product it can compute.
#pragma once

#include "ir/Type.h"

#include <string>

namespace gradc {

/// The name of the kernel for `dt` (f32 or f64) in C emitted with symbol prefix `prefix`.
std::string cMatMulKernelName(const std::string &prefix, DType dt);

/// Its static definition:
///   void NAME(int64_t m, int64_t n, int64_t k, const T *A, int64_t rsa, int64_t csa,
///             const T *B, int64_t rsb, T *C)
/// computes C = A @ B for A [m, k] read at A[i*rsa + p*csa], B [k, n] read at B[p*rsb + j]
/// and row-major C [m, n], with no allocation (its buffers, 51 KiB, are on the stack).
std::string cMatMulKernelDefinition(const std::string &prefix, DType dt);

} // namespace gradc
