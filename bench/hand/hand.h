/* hand.h: hand-written value and gradient functions, the baselines gradc is measured
   against (compiled with gcc -O3 -march=native, as a user would). */
#ifndef GRADC_BENCH_HAND_H
#define GRADC_BENCH_HAND_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
double hand_neuron(const double *w, const double *x);
double hand_neuron_grad(const double *w, const double *x, double *d_w, double *d_x);
double hand_rosenbrock(int64_t n, const double *x);
double hand_rosenbrock_grad(int64_t n, const double *x, double *d_x);
double hand_identity(double x);
double hand_l2wx_grad(int64_t n, const double *W, const double *x, double *d_W, double *d_x,
                      double *q);
double hand_l2wx_grad_fused(int64_t n, const double *W, const double *x, double *d_W,
                            double *d_x);
void hand_stream(int64_t count, const double *src, double *dst);
#ifdef __cplusplus
}
#endif
#endif
