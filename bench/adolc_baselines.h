// adolc_baselines.h: ADOL-C baselines (a separate file: ADOL-C's headers define many
// global operator overloads that should not meet the benchmark code).
#pragma once

#include <cstdint>

void adolcTapeNeuron(short tag, const double *wx); // w (3) then x (2)
void adolcTapeRosenbrock(short tag, int64_t n, const double *x);
void adolcGradient(short tag, int n, const double *x, double *g);
double adolcValue(short tag, int n, const double *x);
