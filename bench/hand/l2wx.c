/* l2wx.c: f = ||W x||^2 and its gradient, by hand: the natural three sweeps over W (q = W x,
   dW = 2 q x^T, dx = 2 W^T q), the one-sweep version, and the memory
   traffic bound (read W once, write dW once). */
#include "hand.h"

#include <stdlib.h>

double hand_l2wx_grad(int64_t n, const double *W, const double *x, double *d_W, double *d_x,
                      double *q) {
  double f = 0;
  int64_t i, j;
  for (i = 0; i < n; ++i) {
    double s = 0;
    for (j = 0; j < n; ++j)
      s += W[i * n + j] * x[j];
    q[i] = s;
    f += s * s;
  }
  for (i = 0; i < n; ++i)
    for (j = 0; j < n; ++j)
      d_W[i * n + j] = 2 * q[i] * x[j];
  for (j = 0; j < n; ++j)
    d_x[j] = 0;
  for (i = 0; i < n; ++i)
    for (j = 0; j < n; ++j)
      d_x[j] += 2 * q[i] * W[i * n + j];
  return f;
}

double hand_l2wx_grad_fused(int64_t n, const double *W, const double *x, double *d_W,
                            double *d_x) {
  double f = 0;
  int64_t i, j;
  for (j = 0; j < n; ++j)
    d_x[j] = 0;
  for (i = 0; i < n; ++i) {
    const double *row = W + i * n;
    double s = 0, g;
    for (j = 0; j < n; ++j)
      s += row[j] * x[j];
    f += s * s;
    g = 2 * s;
    for (j = 0; j < n; ++j) {
      d_W[i * n + j] = g * x[j];
      d_x[j] += g * row[j];
    }
  }
  return f;
}

void hand_stream(int64_t count, const double *src, double *dst) {
  int64_t i;
  for (i = 0; i < count; ++i)
    dst[i] = 2 * src[i];
}
