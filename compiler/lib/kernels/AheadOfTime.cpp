// AheadOfTime.cpp: picks the copy of the tiled kernels (KernelObjects.cpp, one object per
// x86-64 level) that this machine runs best.
#include "kernels/AheadOfTime.h"

#include <vector>

#if defined(GRADC_AHEAD_OF_TIME_KERNELS)
#define GRADC_KERNELS_OF(level)                                                                   \
  extern "C" void gradc_rt_##level##_gradc_tiled_gemm_f64_nn();                                    \
  extern "C" void gradc_rt_##level##_gradc_tiled_gemm_f64_tn();                                    \
  extern "C" void gradc_rt_##level##_gradc_tiled_gemm_f32_nn();                                    \
  extern "C" void gradc_rt_##level##_gradc_tiled_gemm_f32_tn();
GRADC_KERNELS_OF(v1)
GRADC_KERNELS_OF(v3)
GRADC_KERNELS_OF(v4)
#define GRADC_TABLE_OF(level)                                                                     \
  std::vector<HostGemmSymbol> {                                                                   \
    {"gradc_tiled_gemm_f64_nn", reinterpret_cast<void *>(&gradc_rt_##level##_gradc_tiled_gemm_f64_nn)}, \
        {"gradc_tiled_gemm_f64_tn", reinterpret_cast<void *>(&gradc_rt_##level##_gradc_tiled_gemm_f64_tn)}, \
        {"gradc_tiled_gemm_f32_nn", reinterpret_cast<void *>(&gradc_rt_##level##_gradc_tiled_gemm_f32_nn)}, \
        {"gradc_tiled_gemm_f32_tn", reinterpret_cast<void *>(&gradc_rt_##level##_gradc_tiled_gemm_f32_tn)}, \
  }
#endif

namespace gradc {

std::span<const HostGemmSymbol> aheadOfTimeKernels() {
#if defined(GRADC_AHEAD_OF_TIME_KERNELS)
  static const std::vector<HostGemmSymbol> table = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4"))
      return GRADC_TABLE_OF(v4);
    if (__builtin_cpu_supports("x86-64-v3"))
      return GRADC_TABLE_OF(v3);
    return GRADC_TABLE_OF(v1);
  }();
  return table;
#else
  return {};
#endif
}

} // namespace gradc
