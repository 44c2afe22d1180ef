#!/usr/bin/env python3
"""Writes tests/numerics/math_reference.h: the value and both partial derivatives of each
math library function at a few points, computed by mpmath at 40 digits (an oracle
independent of gradc, the C library and PyTorch). Run it again after changing the points:
    python3 tests/numerics/math_reference.py > tests/numerics/math_reference.h
"""
import mpmath as mp

mp.mp.dps = 40

# gradc's f(x, y), mpmath's form, and the points (x, y).
CASES = [
    ("log1p(x)", lambda x, y: mp.log1p(x), [(0.3, 0), (-0.7, 0), (1e-10, 0)]),
    ("expm1(x)", lambda x, y: mp.expm1(x), [(1e-10, 0), (-2, 0), (3, 0)]),
    ("erf(x)", lambda x, y: mp.erf(x), [(0.5, 0), (-1.7, 0)]),
    ("erfc(x)", lambda x, y: mp.erfc(x), [(0.5, 0), (3, 0)]),
    ("lgamma(x)", lambda x, y: mp.log(abs(mp.gamma(x))), [(0.3, 0), (4.5, 0), (-2.5, 0)]),
    ("digamma(x)", lambda x, y: mp.digamma(x), [(0.3, 0), (4.5, 0), (-2.5, 0), (12, 0), (1e-3, 0), (1, 0)]),
    ("tan(x)", lambda x, y: mp.tan(x), [(0.7, 0), (-1.2, 0)]),
    ("asin(x)", lambda x, y: mp.asin(x), [(0.3, 0), (-0.9, 0)]),
    ("acos(x)", lambda x, y: mp.acos(x), [(0.3, 0)]),
    ("atan(x)", lambda x, y: mp.atan(x), [(2, 0), (-0.5, 0)]),
    ("sinh(x)", lambda x, y: mp.sinh(x), [(1.5, 0)]),
    ("cosh(x)", lambda x, y: mp.cosh(x), [(-0.8, 0)]),
    ("log2(x)", lambda x, y: mp.log(x, 2), [(3, 0)]),
    ("log10(x)", lambda x, y: mp.log10(x), [(0.02, 0)]),
    ("exp2(x)", lambda x, y: mp.power(2, x), [(2.5, 0)]),
    ("softplus(x)", lambda x, y: x if x > 20 else mp.log1p(mp.exp(x)), [(0.3, 0), (-5, 0), (25, 0)]),
    ("atan2(x, y)", lambda x, y: mp.atan2(x, y), [(0.3, -0.8), (-1, 2)]),
    ("hypot(x, y)", lambda x, y: mp.hypot(x, y), [(3, 4), (-0.5, 1e-3)]),
    ("square(x)", lambda x, y: x * x, [(1.7, 0)]),
    ("clamp(x, -1, y)", lambda x, y: min(max(x, -1), y), [(0.4, 2), (-1.3, 2), (1.5, 0.5)]),
    ("floor(x) + ceil(y)", lambda x, y: mp.floor(x) + mp.ceil(y), [(-1.5, 2.25)]),
    ("round(x)", lambda x, y: mp.nint(x), [(2.5, 0), (3.5, 0), (-0.5, 0), (-1.7, 0)]),
    ("sign(x)", lambda x, y: mp.sign(x), [(-3, 0), (0.25, 0)]),
]

PIECEWISE_CONSTANT = {"floor(x) + ceil(y)", "round(x)", "sign(x)"}


def c(v):
    v = float(v)
    return repr(v) if v == v else "kNaN"


print("/* math_reference.h: written by math_reference.py (mpmath at 40 digits); do not edit. */")
print("#pragma once")
print()
print("namespace gradc::numerics {")
print()
print("struct ReferenceCase {")
print("  const char *expr; // gradc's f(x, y)")
print("  double x, y, f, dx, dy;")
print("};")
print()
print("inline const ReferenceCase kMathReference[] = {")
for expr, fn, points in CASES:
    for x, y in points:
        x, y = mp.mpf(x), mp.mpf(y)
        f = fn(x, y)
        if expr in PIECEWISE_CONSTANT:  # 0 (as PyTorch), also at the jumps the points sit on
            dx = dy = 0
        else:
            dx = mp.diff(lambda t: fn(t, y), x)
            dy = mp.diff(lambda t: fn(x, t), y)
        print(f'    {{"{expr}", {c(x)}, {c(y)}, {c(f)}, {c(dx)}, {c(dy)}}},')
print("};")
print()
print("} // namespace gradc::numerics")
