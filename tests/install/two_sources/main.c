/* Calls functions of three emitted files linked into one program. */
#include "lecture.h"
#include "other.h"
#include "powers.h"

#include <math.h>
#include <stdio.h>

int headers_compile_as_cpp(void);

int main(void) {
  double dx, dy, dz;
  double f = simple_grad(-2, 5, -4, &dx, &dy, &dz, NULL);
  printf("simple = %g, grad = %g %g %g\n", f, dx, dy, dz);
  printf("h(3) = %g\n", h(3, NULL));
  printf("cbrt_(3) = %g\n", cbrt_(3, NULL));
  volatile double twentyseven = 27;
  printf("C library cbrt(27) = %g\n", cbrt(twentyseven));
  printf("other(2) = %g\n", other(2, NULL));
  printf("ABI version %d, from C++ %d\n", gradc_abi_version(), headers_compile_as_cpp());
  return 0;
}
