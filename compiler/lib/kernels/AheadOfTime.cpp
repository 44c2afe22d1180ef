// AheadOfTime.cpp: picks the copy of the tiled kernels (KernelObjects.cpp, one object per
// x86-64 level) that this machine runs best.
#include "kernels/AheadOfTime.h"

#include <vector>

#if defined(GRADC_AHEAD_OF_TIME_KERNELS)
// Written at the build by gradc_kernel_objects: declarations and GRADC_KERNELS_gradc_rt_<level>_.
#include "kernels_v1.inc"
#include "kernels_v3.inc"
#include "kernels_v4.inc"
#endif

namespace gradc {

std::span<const HostSymbol> aheadOfTimeKernels() {
#if defined(GRADC_AHEAD_OF_TIME_KERNELS)
  static const std::vector<HostSymbol> table = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4"))
      return std::vector<HostSymbol> GRADC_KERNELS_gradc_rt_v4_;
    if (__builtin_cpu_supports("x86-64-v3"))
      return std::vector<HostSymbol> GRADC_KERNELS_gradc_rt_v3_;
    return std::vector<HostSymbol> GRADC_KERNELS_gradc_rt_v1_;
  }();
  return table;
#else
  return {};
#endif
}

} // namespace gradc
