// gradbench_data.h: the problems bench_gradbench times, drawn by a fixed generator (the same
// numbers on every machine): bundle adjustment at ADBench ba1's size and GMM at GradBench's
// sizes, shrunk when GRADC_BENCH_N is set (the smoke test).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace gradbench {

inline bool smoke() { return std::getenv("GRADC_BENCH_N") != nullptr; }

// A deterministic generator (splitmix64), the same numbers on every machine.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

struct BA {
  int64_t n = 49, m = 7776, p = 31843; // ADBench ba1 (ba1_n49_m7776_p31843)
  std::vector<double> cams, X, w, feats, dcams, dX, dw;
  std::vector<int32_t> obsCam, obsPt;
  BA() {
    if (smoke())
      n = 4, m = 10, p = 32;
    Rng rng(16);
    for (int64_t c = 0; c < n; ++c) { // as tests/gradbench/check_gradbench.py draws them
      for (int j = 0; j < 3; ++j)
        cams.push_back(rng.uniform(-0.3, 0.3)); // rotation (never exactly 0)
      for (int j = 0; j < 3; ++j)
        cams.push_back(rng.uniform(-0.5, 0.5)); // center
      cams.push_back(rng.uniform(0.8, 1.2));    // focal length
      for (int j = 0; j < 2; ++j)
        cams.push_back(rng.uniform(-0.1, 0.1)); // principal point
      for (int j = 0; j < 2; ++j)
        cams.push_back(rng.uniform(-0.05, 0.05)); // radial distortion
    }
    for (int64_t i = 0; i < m; ++i) { // in front of every camera
      X.push_back(rng.uniform(-1, 1));
      X.push_back(rng.uniform(-1, 1));
      X.push_back(rng.uniform(4, 6));
    }
    // Every point seen (p >= m), about p / m times, from cameras scattered over all n.
    for (int64_t i = 0; i < p; ++i) {
      obsPt.push_back(static_cast<int32_t>((i * 7919) % m)); // 7919 is prime, m is not a multiple
      obsCam.push_back(static_cast<int32_t>(rng.next() % static_cast<uint64_t>(n)));
      w.push_back(rng.uniform(0.5, 1.5));
      feats.push_back(rng.uniform(-0.3, 0.3));
      feats.push_back(rng.uniform(-0.3, 0.3));
    }
    dcams.resize(cams.size());
    dX.resize(X.size());
    dw.resize(w.size());
  }
};

struct GMM {
  int64_t d, k, n, icfCols;
  double gamma = 1, wishartM = 0; // ADBench's and GradBench's Wishart parameters
  std::vector<double> alphas, means, icf, x, dalphas, dmeans, dicf;
  std::vector<int32_t> lidx;
  GMM(int64_t d_, int64_t k_, int64_t n_) : d(d_), k(k_), n(n_), icfCols(d_ * (d_ + 1) / 2) {
    if (smoke())
      d = std::min<int64_t>(d, 4), k = std::min<int64_t>(k, 3), n = 16, icfCols = d * (d + 1) / 2;
    Rng rng(static_cast<uint64_t>(d * 1000 + k));
    for (int64_t i = 0; i < k; ++i)
      alphas.push_back(rng.uniform(-1, 1));
    for (int64_t i = 0; i < k * d; ++i)
      means.push_back(rng.uniform(-1, 1));
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < icfCols; ++j) // log-diagonal, then the strictly lower part
        icf.push_back(j < d ? rng.uniform(-0.5, 0.5) : rng.uniform(-0.1, 0.1));
    for (int64_t i = 0; i < n * d; ++i)
      x.push_back(rng.uniform(-1, 1));
    // lidx[j, i]: D plus L[j, i]'s place in the column-by-column packing (j > i), 0 elsewhere.
    lidx.assign(static_cast<size_t>(d * d), 0);
    int32_t idx = static_cast<int32_t>(d);
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = i + 1; j < d; ++j)
        lidx[static_cast<size_t>(j * d + i)] = idx++;
    dalphas.resize(alphas.size());
    dmeans.resize(means.size());
    dicf.resize(icf.size());
  }
};

} // namespace gradbench
