// TensorWalk.h: multi-index iteration for the reference evaluators of tensor ops.
#pragma once

#include <cstdint>
#include <vector>

namespace gradc {

inline int64_t elementCount(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

inline std::vector<int64_t> rowMajorStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    s[i - 1] = s[i] * shape[i];
  return s;
}

/// Calls fn(index, linear) for every element of `shape` in row-major order.
template <typename F> void forEachIndex(const std::vector<int64_t> &shape, F fn) {
  int64_t n = elementCount(shape);
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t lin = 0; lin < n; ++lin) {
    fn(idx, lin);
    for (size_t k = shape.size(); k-- > 0;) {
      if (++idx[k] < shape[k])
        break;
      idx[k] = 0;
    }
  }
}

} // namespace gradc
