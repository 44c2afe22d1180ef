/* c_host: trains the two-layer net of mlp2.expr (ReLU hidden layer, softmax cross-entropy,
   L2 regularization) with plain SGD on a 3-class spiral it generates itself, then reports
   the training accuracy. The loss and its gradient come from mlp2.o, emitted by gradc. */
#include "mlp2.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define N 300
#define D 2
#define H 100
#define C 3

static unsigned long long rng_state = 42;

static double uniform(void) { /* in (0, 1) */
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static double gaussian(void) { /* Box-Muller */
  return sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform());
}

static double X[N * D], W1[D * H], b1[H], W2[H * C], b2[C];
static double dW1[D * H], db1[H], dW2[H * C], db2[C], s[N * C];
static int32_t y[N];

static void step(double *w, const double *g, int n, double rate) {
  int i;
  for (i = 0; i < n; ++i)
    w[i] -= rate * g[i];
}

int main(void) {
  const double reg = 1e-3, rate = 1.0;
  void *ws;
  int i, j, it, correct = 0;
  double loss = 0;

  /* The spiral: class j winds from the centre along angle 4j..4(j+1), with noise. */
  for (j = 0; j < C; ++j)
    for (i = 0; i < N / C; ++i) {
      int k = j * (N / C) + i;
      double r = (double)i / (N / C - 1);
      double t = 4.0 * j + 4.0 * i / (N / C - 1) + 0.2 * gaussian();
      X[k * D] = r * sin(t);
      X[k * D + 1] = r * cos(t);
      y[k] = j;
    }
  for (i = 0; i < D * H; ++i)
    W1[i] = 0.01 * gaussian();
  for (i = 0; i < H * C; ++i)
    W2[i] = 0.01 * gaussian();

  ws = malloc(mlp2_workspace_size() > scores_workspace_size() ? mlp2_workspace_size()
                                                               : scores_workspace_size());
  for (it = 0; it <= 3000; ++it) {
    loss = mlp2_grad(X, y, W1, b1, W2, b2, reg, dW1, db1, dW2, db2, ws);
    if (it % 100 == 0)
      printf("step %4d  loss %.6f\n", it, loss);
    step(W1, dW1, D * H, rate);
    step(b1, db1, H, rate);
    step(W2, dW2, H * C, rate);
    step(b2, db2, C, rate);
  }
  scores(X, W1, b1, W2, b2, s, ws);
  free(ws);
  for (i = 0; i < N; ++i) {
    int best = 0;
    for (j = 1; j < C; ++j)
      if (s[i * C + j] > s[i * C + best])
        best = j;
    correct += best == y[i];
  }
  printf("training accuracy: %.1f%%\n", 100.0 * correct / N);
  return correct * 10 > N * 9 ? 0 : 1; /* above 90% */
}
