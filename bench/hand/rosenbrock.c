/* rosenbrock.c: sum over i < n-1 of 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2, and its
   gradient in gather form (each d_x[i] from its two contributions), by hand. */
#include "hand.h"

double hand_rosenbrock(int64_t n, const double *x) {
  double s = 0;
  for (int64_t i = 0; i + 1 < n; ++i) {
    double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
    s += 100 * a * a + b * b;
  }
  return s;
}

double hand_rosenbrock_grad(int64_t n, const double *x, double *d_x) {
  double s = 0;
  for (int64_t i = 0; i + 1 < n; ++i) {
    double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
    s += 100 * a * a + b * b;
  }
  /* d/dx[i] = -400 x[i] (x[i+1] - x[i]^2) - 2 (1 - x[i])   (i < n-1)
             + 200 (x[i] - x[i-1]^2)                         (i > 0) */
  for (int64_t i = 0; i < n; ++i) {
    double g = 0;
    if (i + 1 < n)
      g += -400 * x[i] * (x[i + 1] - x[i] * x[i]) - 2 * (1 - x[i]);
    if (i > 0)
      g += 200 * (x[i] - x[i - 1] * x[i - 1]);
    d_x[i] = g;
  }
  return s;
}
