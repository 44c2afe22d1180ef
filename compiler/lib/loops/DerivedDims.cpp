// DerivedDims.cpp: derived dims in generated code.
#include "loops/DerivedDims.h"

#include "ir/DimArith.h"

#include <cmath>

namespace gradc::loops {

namespace {


ExprId valueOf(Func &f, const std::vector<ExprId> &dims, const Dim &d) {
  if (d.isLiteral())
    return f.i64(d.off);
  ExprId v = dims[static_cast<size_t>(d.sym)];
  return v == kNone ? kNone : d.off == 0 ? v : f.add(v, f.i64(d.off));
}

bool available(const std::vector<ExprId> &dims, const Dim &d) {
  return d.isLiteral() || dims[static_cast<size_t>(d.sym)] != kNone;
}

// The numerator of a polynomial dim, in wrapping (u64) arithmetic, and a bound on its
// magnitude in f64 (sum of |terms|), or kNone when an atom has no value.
struct Numerator {
  ExprId exact = kNone, magnitude = kNone;
};

Numerator numerator(Func &f, const DimPoly &p, const std::vector<ExprId> &dims) {
  Numerator n{f.u64(0), f.floatImm(kF64, 0)};
  for (const DimPoly::Term &t : p.terms) {
    ExprId exact = f.u64(static_cast<uint64_t>(t.coef));
    ExprId mag = f.floatImm(kF64, std::fabs(static_cast<double>(t.coef)));
    for (int32_t atom : t.atoms) {
      ExprId a = dims[static_cast<size_t>(atom)];
      if (a == kNone)
        return {};
      exact = f.mul(exact, f.cast(kU64, a));
      ExprId x = f.cast(kF64, a);
      mag = f.mul(mag, f.select(f.compare(Op::Lt, x, f.floatImm(kF64, 0)), f.neg(x), x));
    }
    n.exact = f.add(n.exact, exact);
    n.magnitude = f.add(n.magnitude, mag);
  }
  return n;
}

} // namespace

void deriveDims(Func &f, const DimTable &table, std::vector<ExprId> &dims, const std::vector<int32_t> &needed) {
  // Each derived dim is made of earlier ones: one ascending pass sees its parts first.
  for (int32_t sym : derivedClosure(table, needed)) {
    size_t s = static_cast<size_t>(sym);
    const DimDef &d = table.def(sym);
    if (s >= dims.size() || dims[s] != kNone)
      continue;
    switch (d.kind) {
    case DimDef::Given:
      break;
    case DimDef::Alias:
      dims[s] = valueOf(f, dims, d.alias);
      break;
    case DimDef::Poly:
      if (Numerator n = numerator(f, d.poly, dims); n.exact != kNone)
        dims[s] = f.div(f.cast(kI64, n.exact), f.i64(d.poly.den));
      break;
    case DimDef::Quotient: {
      if (!available(dims, d.num) || !available(dims, d.divisor))
        break;
      // A divisor that is not positive fails derivedDimsOk; 1 stands in so nothing traps.
      ExprId num = valueOf(f, dims, d.num), div = valueOf(f, dims, d.divisor);
      dims[s] = f.div(num, f.select(f.compare(Op::Gt, div, f.i64(0)), div, f.i64(1)));
      break;
    }
    }
  }
}

ExprId derivedDimsOk(Func &f, const DimTable &table, const std::vector<ExprId> &dims,
                     const std::vector<int32_t> &syms) {
  ExprId ok = f.boolImm(true);
  auto both = [&](ExprId c) { ok = f.logic(Op::And, ok, c); };
  const double limit = static_cast<double>(kMaxElements);
  for (int32_t s : derivedClosure(table, syms)) {
    const DimDef &d = table.def(s);
    if (static_cast<size_t>(s) >= dims.size() || dims[static_cast<size_t>(s)] == kNone)
      continue;
    ExprId v = dims[static_cast<size_t>(s)];
    if (f.expr(v).op == Op::Int)
      continue; // bound at compile time, and checked then (completeBoundDims)
    if (d.kind == DimDef::Poly) {
      Numerator n = numerator(f, d.poly, dims);
      // Below 2^60 the wrapped numerator is the true one; then it must divide and fit.
      both(f.compare(Op::Le, n.magnitude, f.floatImm(kF64, 0x1p60)));
      both(f.compare(Op::Eq, f.rem(f.cast(kI64, n.exact), f.i64(d.poly.den)), f.i64(0)));
    } else if (d.kind == DimDef::Quotient) {
      ExprId num = valueOf(f, dims, d.num), div = valueOf(f, dims, d.divisor);
      both(f.compare(Op::Gt, div, f.i64(0))); // a size divided by a positive size
      both(f.compare(Op::Eq, f.rem(num, f.select(f.compare(Op::Gt, div, f.i64(0)), div, f.i64(1))), f.i64(0)));
    } else {
      continue;
    }
    both(f.compare(Op::Le, f.cast(kF64, v), f.floatImm(kF64, limit)));
    both(f.compare(Op::Ge, f.cast(kF64, v), f.floatImm(kF64, -limit)));
  }
  return ok;
}

} // namespace gradc::loops
