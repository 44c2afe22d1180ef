/* gradcheck.c: calls the F_gradcheck functions `gradc emit --check` adds (mlp2.expr as k_,
   kink.expr unprefixed) and prints each worst error for test_emit.py. */
#include "kink.h"
#include "mlp2_check.h"
#include "mlp2_inputs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>


/* The tiled kernel at sizes with rows and columns left over and three blocks of the shared
   axis: its value against a plain triple loop, its gradient against central differences. */
static void tilesCheck(void) {
  enum { M = 13, K = 300, N = 20 };
  static double A[M * K], B[K * N];
  double want = 0, got, err;
  int i, j, p;
  void *ws;
  for (i = 0; i < M * K; ++i)
    A[i] = 0.2 * sin(0.37 * i);
  for (i = 0; i < K * N; ++i)
    B[i] = 0.2 * cos(0.11 * i);
  for (i = 0; i < M; ++i)
    for (j = 0; j < N; ++j) {
      double s = 0;
      for (p = 0; p < K; ++p)
        s += A[i * K + p] * B[p * N + j];
      want += sin(s);
    }
  ws = malloc(tiles_gradcheck_workspace_size(M, K, N) + tiles_workspace_size(M, K, N) + 1);
  got = tiles(M, K, N, A, B, ws);
  err = fabs(got - want) / fabs(want);
  printf("tiles_value %.3g\n", err);
  printf("tiles %.3g\n", tiles_gradcheck(M, K, N, A, B, ws));
  free(ws);
}

int main(void) {
  double W1[15], b1[5], W2[15], b2[3], Wsvm[9], e;
  const double W[6] = {0.3, -0.2, 0.5, 0.1, -0.4, 0.6}, x[2] = {0.7, -1.1}, u[3] = {1.0, -0.5, 2.0};
  void *ws;
  mlp2Weights(W1, b1, W2, b2, Wsvm);

  ws = malloc(k_mlp2_gradcheck_workspace_size(4, 3, 5, 3));
  printf("mlp2 %.3g\n", k_mlp2_gradcheck(4, 3, 5, 3, X, y, W1, b1, W2, b2, 0.1, ws));
  free(ws);
  ws = malloc(k_svm_gradcheck_workspace_size(4, 3, 3));
  printf("svm %.3g\n", k_svm_gradcheck(4, 3, 3, X, y, Wsvm, ws));
  free(ws);
  ws = malloc(layer_gradcheck_workspace_size() + 1);
  printf("layer %.3g\n", layer_gradcheck(W, x, u, ws));
  free(ws);
  ws = malloc(relu0_gradcheck_workspace_size() + 1);
  printf("relu_at_1 %.3g\n", relu0_gradcheck(1.0, ws));
  e = relu0_gradcheck(0.0, ws);
  printf("relu_at_0 %.17g\n", e);
  free(ws);
  tilesCheck();
  return 0;
}
