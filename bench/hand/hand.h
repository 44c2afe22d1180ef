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
/* ADBench's bundle adjustment objective (examples/gradbench/ba.expr's `ba`): n cameras
   [n][11], m points [m][3], p observations; the gradient by hand (hand/ba.c). */
double hand_ba(int64_t n, int64_t m, int64_t p, const double *cams, const double *X,
               const double *w, const int32_t *obs_cam, const int32_t *obs_pt,
               const double *feats);
double hand_ba_grad(int64_t n, int64_t m, int64_t p, const double *cams, const double *X,
                    const double *w, const int32_t *obs_cam, const int32_t *obs_pt,
                    const double *feats, double *d_cams, double *d_X, double *d_w);
#ifdef __cplusplus
}
#endif
#endif
