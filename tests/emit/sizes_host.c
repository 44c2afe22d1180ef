/* Emitted code at its limits: sizes too large to index, a missing workspace, a NaN maximum.
   Prints one fact per line; test_limits.py compares the lines. */
#include "sizes.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static double ws[1 << 12];

int main(void) {
  double W[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, x[3] = {1, 2, 3}, dW[9] = {0}, dx[3] = {0};
  const int64_t huge = (int64_t)1 << 32; /* n * n = 2^64: wraps to 0 without the checks */
  printf("ws(3) fits: %d\n", f_workspace_size(3) > 0 && f_workspace_size(3) <= sizeof ws);
  printf("ws(2^32) is SIZE_MAX: %d\n", f_workspace_size(huge) == SIZE_MAX);
  printf("ws(-1) is SIZE_MAX: %d\n", f_workspace_size(-1) == SIZE_MAX);
  printf("gradcheck ws(2^32) is SIZE_MAX: %d\n", f_gradcheck_workspace_size(huge) == SIZE_MAX);
  double value = f(3, W, x, ws);
  printf("f(3) is finite: %d\n", isfinite(value) != 0);
  value = f(3, W, x, NULL);
  printf("f(3) without its workspace is NaN: %d\n", isnan(value) != 0);
  value = f_grad(huge, W, x, dW, dx, ws);
  printf("f_grad(2^32) is NaN and writes nothing: %d %d\n", isnan(value) != 0, dW[8] == 0 && dx[2] == 0);
  value = f_gradcheck(huge, W, x, ws);
  printf("f_gradcheck(2^32) is NaN: %d\n", isnan(value) != 0);
  value = f_gradcheck(3, W, x, NULL);
  printf("f_gradcheck without its workspace is NaN: %d\n", isnan(value) != 0);
  static double gws[1 << 14];
  value = f_gradcheck(3, W, x, f_gradcheck_workspace_size(3) <= sizeof gws ? gws : NULL);
  printf("f_gradcheck(3) passes: %d\n", value < 1e-6);
  /* Dims at the ends of int64: checked before any offset is added to them. */
  printf("ws(INT64_MIN) and ws(INT64_MAX) are SIZE_MAX: %d %d\n", f_workspace_size(INT64_MIN) == SIZE_MAX,
         f_workspace_size(INT64_MAX) == SIZE_MAX);
  value = f(INT64_MIN, W, x, ws);
  printf("f(INT64_MIN) is NaN: %d\n", isnan(value) != 0);
  /* A workspace of [n] buffers: a negative dim is out of range too. */
  printf("k: ws(3) > 0, ws(-1) is SIZE_MAX: %d %d\n", k_workspace_size(3) > 0, k_workspace_size(-1) == SIZE_MAX);
  /* x[1:] of an empty x: the slice is out of range, the check fails (NaN), not passes. */
  value = s_gradcheck(0, x, gws);
  printf("s_gradcheck(0) is NaN: %d\n", isnan(value) != 0);
  double nanx[3] = {1, NAN, 2}, dg[3] = {7, 7, 7};
  value = g_grad(3, nanx, dg, NULL);
  printf("max with a NaN: value and every gradient NaN: %d %d %d %d\n", isnan(value) != 0, isnan(dg[0]) != 0,
         isnan(dg[1]) != 0, isnan(dg[2]) != 0);
  return 0;
}
