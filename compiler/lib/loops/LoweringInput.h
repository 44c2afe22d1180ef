// LoweringInput.h: what is lowered to loops for one source function, and the options that
// shape the generated code.
#pragma once

#include "abi/Abi.h"
#include "ir/Function.h"

#include <map>
#include <memory>
#include <vector>

namespace gradc {

/// What to compile for one source function: its optimized graph and the roots of
/// `f` (the value) and `f_grad` (value, then one gradient per parameter, kNoNode for
/// const parameters). `dOutParam` is the Param index of the upstream gradient.
struct LoweringInput {
  const Function *fn = nullptr; // for names and parameter types
  const Graph *graph = nullptr;
  NodeId value = kNoNode;
  std::vector<NodeId> gradRoots; // value, then gradients
  std::map<int32_t, int64_t> boundDims;
};

struct LoweringOptions {
  /// Straight-line code longer than this many steps is split into noinline chunks
  /// that exchange values through a tape in the workspace (docs/CLI.md, "What the compiler does").
  size_t chunkSteps = 256;
  size_t chunkThreshold = 2048;
  /// Also emit `f__packed` entries (for callers that know the ABI only at run time).
  bool packedEntries = true;
  /// Calls of the tiled kernel whose extents are not all known go to a copy compiled ahead
  /// of time (kernels/AheadOfTime.h: the JIT binds its symbols); a module defines the
  /// kernel only for calls it inlines. Emitted code never sets it: it needs no gradc.
  bool runtimeKernels = false;
  /// Also emit f (and its chunks): `gradc run` and `check` call only f_grad, which returns
  /// the value too, and skip compiling f (a third of mlp2's compile time).
  bool valueEntry = true;
  /// Large matrix products call the JIT's host functions (kHostGemmF64, kHostGemmF32; bound
  /// by kernels/HostGemm.h to CBLAS) when the host has them. Only the JIT sets it;
  /// emitted code never calls a library for them.
  bool hostGemm = false;
  /// Whether the host has them, and its threshold in multiply-adds: asked only at the first
  /// product that could call them, since asking loads the library (and starts its threads).
  bool (*hostGemmAvailable)() = nullptr;
  int64_t (*hostGemmDefaultMinWork)() = nullptr;
  /// Multiply-adds from which a product calls the host; -1: hostGemmDefaultMinWork().
  int64_t hostGemmMinWork = -1;
  /// Prepended to every exported symbol (`gradc emit --prefix`).
  std::string prefix;
};

/// The host functions a product calls when LoweringOptions::hostGemm: C = A @ B for A [m, k]
/// and B [k, n] read through strides (element (i, p) of A at A[i*rsa + p*csa]) into
/// row-major C [m, n]:
///   void gemm(int64_t m, int64_t n, int64_t k, const T *A, int64_t rsa, int64_t csa,
///             const T *B, int64_t rsb, int64_t csb, T *C)
constexpr const char *kHostGemmF64 = "gradc.host.gemm.f64";
constexpr const char *kHostGemmF32 = "gradc.host.gemm.f32";

} // namespace gradc
