/* host.c: a C99 program linking two files emitted by gradc with different prefixes
   (lecture4.expr as l4_, mlp2.expr as m2_). It prints each function's value and gradients
   at fixed inputs, one line each, for test_emit.py to compare with `gradc run --json`. */
#include "lecture4.h"
#include "mlp2.h"
#include "mlp2_inputs.h"

#include <stdio.h>
#include <stdlib.h>

static void print(const char *what, const double *v, size_t n) {
  size_t i;
  printf("%s", what);
  for (i = 0; i < n; ++i)
    printf(" %.17g", v[i]);
  printf("\n");
}

/* Inputs shared with test_emit.py. */
static const double W[9] = {0.1, 0.5, -0.3, 0.8, 0.2, -0.7, 0.4, -0.1, 0.6};
static const double x3[3] = {0.2, 0.4, -0.5};

int main(void) {
  double v, g[64], h[64], k[64], l[64];
  void *ws;
  size_t i;
  double W1[15], b1[5], W2[15], b2[3], Wsvm[9];

  if (l4_gradc_abi_version() != GRADC_ABI_VERSION || m2_gradc_abi_version() != 1)
    return 1;
  v = l4_simple_grad(-2, 5, -4, &g[0], &g[1], &g[2], NULL);
  print("simple", &v, 1);
  print("simple.x", &g[0], 1);
  print("simple.y", &g[1], 1);
  print("simple.z", &g[2], 1);

  {
    const double w[3] = {2, -3, -3}, x[2] = {-1, -2};
    ws = malloc(l4_neuron_workspace_size() + 1);
    v = l4_neuron_grad(w, x, g, h, ws);
    free(ws);
    print("neuron", &v, 1);
    print("neuron.w", g, 3);
    print("neuron.x", h, 2);
  }

  v = l4_gates_grad(3, -1, 2, 5, &g[0], &g[1], &g[2], &g[3], NULL);
  print("gates", &v, 1);
  print("gates.x", &g[0], 1);
  print("gates.y", &g[1], 1);
  print("gates.z", &g[2], 1);
  print("gates.w", &g[3], 1);

  ws = malloc(l4_l2wx_workspace_size(3) + 1);
  v = l4_l2wx_grad(3, W, x3, g, h, ws);
  free(ws);
  print("l2wx", &v, 1);
  print("l2wx.W", g, 9);
  print("l2wx.x", h, 3);

  mlp2Weights(W1, b1, W2, b2, Wsvm);

  ws = malloc(m2_mlp2_workspace_size(4, 3, 5, 3) + 1);
  v = m2_mlp2_grad(4, 3, 5, 3, X, y, W1, b1, W2, b2, 0.1, g, h, k, l, ws);
  free(ws);
  print("mlp2", &v, 1);
  print("mlp2.W1", g, 15);
  print("mlp2.b1", h, 5);
  print("mlp2.W2", k, 15);
  print("mlp2.b2", l, 3);

  { /* the metadata a host can query */
    int a;
    for (a = 0; a < l4_l2wx_grad_arg_count(); ++a)
      printf("meta.l2wx_grad %s|%s|%s\n", l4_l2wx_grad_arg_name(a), l4_l2wx_grad_arg_type(a),
             l4_l2wx_grad_arg_shape(a));
    if (l4_l2wx_grad_arg_name(a) != NULL || l4_l2wx_grad_arg_name(-1) != NULL)
      return 2;
  }

  ws = malloc(m2_scores_workspace_size(4, 3, 5, 3) + 1);
  m2_scores(4, 3, 5, 3, X, W1, b1, W2, b2, g, ws);
  free(ws);
  print("scores", g, 12);

  ws = malloc(m2_svm_workspace_size(4, 3, 3) + 1);
  v = m2_svm_grad(4, 3, 3, X, y, Wsvm, g, ws);
  print("svm", &v, 1);
  print("svm.W", g, 9);
  {
    /* A label out of range (class 3 of 3): the value and every gradient are NaN. */
    const int32_t bad[4] = {2, 0, 3, 2};
    int nans = 0;
    v = m2_svm_grad(4, 3, 3, X, bad, Wsvm, g, ws);
    for (i = 0; i < 9; ++i)
      nans += g[i] != g[i];
    printf("badlabel %d %d\n", v != v, nans);
  }
  free(ws);
  return 0;
}
