/* Each source as its options made it: dims fixed (no dim arguments), prefixes, one function
   of a/model.expr, gradient checks, and the C source of b/model.expr. */
#include "a_model.h"
#include "b_model.h"
#include "relu.h"

#include <stdio.h>

int main(void) {
  double x3[3] = {1, 2, 3}, w3[3] = {4, 5, 6}, dx3[3], dw3[3];
  double x4[4] = {1, 2, 3, 4}, w4[4] = {1, 1, 1, 1}, dx4[4], dw4[4];
  double a = a_dot_grad(x3, w3, dx3, dw3, NULL);
  double b = b_dot_grad(x4, w4, dx4, dw4, NULL);
  printf("a_dot = %g, d/dx = %g %g %g\n", a, dx3[0], dx3[1], dx3[2]);
  printf("b_dot = %g, d/dw = %g %g %g %g\n", b, dw4[0], dw4[1], dw4[2], dw4[3]);
  double dk;
  double k = kink_grad(2, &dk, NULL);
  printf("kink(2) = %g, d = %g\n", k, dk);
  static double ws[4096];
  printf("a_dot_gradcheck %s\n", a_dot_gradcheck_workspace_size() <= sizeof ws && a_dot_gradcheck(x3, w3, ws) < 1e-6 ? "ok" : "FAILED");
  return 0;
}
