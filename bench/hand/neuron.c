/* neuron.c: the lecture's sigmoid neuron f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), by hand. */
#include "hand.h"

#include <math.h>

double hand_neuron(const double *w, const double *x) {
  double s = w[0] * x[0] + w[1] * x[1] + w[2];
  return 1.0 / (1.0 + exp(-s));
}

/* df/ds = e / (1 + e)^2 with e = exp(-s); then the chain rule through s. */
double hand_neuron_grad(const double *w, const double *x, double *d_w, double *d_x) {
  double s = w[0] * x[0] + w[1] * x[1] + w[2];
  double e = exp(-s);
  double f = 1.0 / (1.0 + e);
  double ds = f * f * e;
  d_w[0] = ds * x[0];
  d_w[1] = ds * x[1];
  d_w[2] = ds;
  d_x[0] = ds * w[0];
  d_x[1] = ds * w[1];
  return f;
}

/* The cheapest function: what a call costs. */
__attribute__((noinline)) double hand_identity(double x) { return x; }
