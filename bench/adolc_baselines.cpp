// adolc_baselines.cpp: the same functions taped with ADOL-C (operator overloading). The
// tape is recorded once; each gradient() replays it (a forward and a reverse sweep).
#include "adolc_baselines.h"

#include <adolc/adolc.h>

#include <vector>

namespace {

template <typename T> T neuron(const T *w, const T *x) {
  T s = w[0] * x[0] + w[1] * x[1] + w[2];
  return 1.0 / (1.0 + exp(-s));
}

template <typename T> T rosenbrock(int64_t n, const T *x) {
  T s = 0;
  for (int64_t i = 0; i + 1 < n; ++i) {
    T a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
    s += 100 * a * a + b * b;
  }
  return s;
}

} // namespace

void adolcTapeNeuron(short tag, const double *wx) {
  trace_on(tag);
  std::vector<adouble> a(5);
  for (int i = 0; i < 5; ++i)
    a[static_cast<size_t>(i)] <<= wx[i];
  adouble y = neuron(a.data(), a.data() + 3);
  double out;
  y >>= out;
  trace_off();
}

void adolcTapeRosenbrock(short tag, int64_t n, const double *x) {
  trace_on(tag);
  std::vector<adouble> a(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    a[static_cast<size_t>(i)] <<= x[i];
  adouble y = rosenbrock(n, a.data());
  double out;
  y >>= out;
  trace_off();
}

void adolcGradient(short tag, int n, const double *x, double *g) {
  gradient(tag, n, const_cast<double *>(x), g);
}

double adolcValue(short tag, int n, const double *x) {
  double y;
  function(tag, 1, n, const_cast<double *>(x), &y);
  return y;
}
