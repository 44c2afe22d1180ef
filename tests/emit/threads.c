/* threads.c: emitted code is re-entrant: two threads call m2_mlp2_grad at once, each with
   its own workspace and outputs, and both get exactly the single-threaded result. Built with
   -fsanitize=thread when clang is available. */
#include "mlp2.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 4, D = 3, H = 5, C = 3, CALLS = 200 };

static const double X[N * D] = {0.5, -1.0, 0.25, 1.5, 0.75, -0.5, -0.25, 0.1, 0.9, 1.2, -0.8, 0.3};
static const int32_t y[N] = {2, 0, 1, 2};
static double W1[D * H], b1[H], W2[H * C], b2[C];

typedef struct {
  double value, dW1[D * H], db1[H], dW2[H * C], db2[C];
  int mismatches;
} Result;

static Result reference;

static void once(Result *r, void *ws) {
  r->value = m2_mlp2_grad(N, D, H, C, X, y, W1, b1, W2, b2, 0.1, r->dW1, r->db1, r->dW2, r->db2, ws);
}

static void *worker(void *arg) {
  Result *r = (Result *)arg;
  void *ws = malloc(m2_mlp2_workspace_size(N, D, H, C) + 1);
  int i;
  for (i = 0; i < CALLS; ++i) {
    once(r, ws);
    if (r->value != reference.value || memcmp(r->dW1, reference.dW1, sizeof r->dW1) != 0 ||
        memcmp(r->dW2, reference.dW2, sizeof r->dW2) != 0)
      ++r->mismatches;
  }
  free(ws);
  return NULL;
}

int main(void) {
  pthread_t t[2];
  Result results[2];
  void *ws;
  int i;
  for (i = 0; i < D * H; ++i)
    W1[i] = 0.1 * (double)(i % 7 - 3);
  for (i = 0; i < H * C; ++i)
    W2[i] = 0.05 * (double)(i % 5 - 2);
  ws = malloc(m2_mlp2_workspace_size(N, D, H, C) + 1);
  once(&reference, ws);
  free(ws);
  memset(results, 0, sizeof results);
  for (i = 0; i < 2; ++i)
    pthread_create(&t[i], NULL, worker, &results[i]);
  for (i = 0; i < 2; ++i)
    pthread_join(t[i], NULL);
  printf("threads: %d and %d mismatches in %d calls each\n", results[0].mismatches,
         results[1].mismatches, CALLS);
  return results[0].mismatches || results[1].mismatches;
}
