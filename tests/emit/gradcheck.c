/* gradcheck.c: calls the F_gradcheck functions `gradc emit --check` adds (mlp2.expr as k_,
   kink.expr unprefixed) and prints each worst error for test_emit.py. */
#include "kink.h"
#include "mlp2_check.h"
#include "mlp2_inputs.h"

#include <stdio.h>
#include <stdlib.h>


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
  return 0;
}
