/* mlp2_inputs.h: the inputs host.c and gradcheck.c give examples/mlp2.expr (N=4, D=3, H=5,
   C=3), shared with test_emit.py's expectations. */
#ifndef GRADC_TEST_MLP2_INPUTS_H
#define GRADC_TEST_MLP2_INPUTS_H

#include <stddef.h>
#include <stdint.h>

static const double X[12] = {0.5, -1.0, 0.25, 1.5, 0.75, -0.5, -0.25, 0.1, 0.9, 1.2, -0.8, 0.3};
static const int32_t y[4] = {2, 0, 1, 2};

/* The weights of the net and of the SVM. */
static void mlp2Weights(double W1[15], double b1[5], double W2[15], double b2[3], double Wsvm[9]) {
  size_t i;
  for (i = 0; i < 15; ++i) {
    W1[i] = 0.1 * (double)((int)(i % 7) - 3);
    W2[i] = 0.05 * (double)((int)(i % 5) - 2);
  }
  for (i = 0; i < 5; ++i)
    b1[i] = 0.01 * (double)i;
  for (i = 0; i < 3; ++i)
    b2[i] = -0.02 * (double)i;
  for (i = 0; i < 9; ++i)
    Wsvm[i] = 0.1 * (double)((int)(i % 4) - 1);
}

#endif
