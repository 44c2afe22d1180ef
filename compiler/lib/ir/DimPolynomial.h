// DimPolynomial.h: the canonical polynomials derived dims are kept as (exact rational
// coefficients, sorted terms) and their arithmetic, every step checked for overflow and size.
// Used by ir/DimArith.cpp, which names and interns them.
#pragma once

#include "ir/Type.h"

#include <optional>

namespace gradc::dimpoly {

// Bounds that keep hostile sizes (`(a+b+c)^40`) cheap: beyond them an expression is a number,
// not a size.
constexpr size_t kMaxTerms = 32;
constexpr size_t kMaxDegree = 8;

using Poly = DimPoly;

bool isConstant(const Poly &p);
int64_t constantTerm(const Poly &p);
/// Sorted terms, equal monomials merged, no zero coefficients, den > 0 and coprime with them.
/// False on overflow or when the polynomial is too large to keep.
bool normalize(Poly &p);
/// Every coefficient times k; false on overflow.
bool scale(Poly &p, int64_t k);
/// The polynomial a dim stands for (a given dim is an atom); nullopt when too large.
std::optional<Poly> polyOf(const DimTable &dims, const Dim &d);
/// a + sign * b, a * b; nullopt on overflow or when too large.
std::optional<Poly> add(Poly a, Poly b, int64_t sign);
std::optional<Poly> mul(const Poly &a, const Poly &b);
/// a / b when b divides a exactly as polynomials, checked by multiplying back.
std::optional<Poly> exactQuotient(const Poly &a, const Poly &b);
/// Both sides divided by the integer factor they share: (2*N)/(2*B) is N/B.
void cancelCommonFactor(Poly &a, Poly &b);

} // namespace gradc::dimpoly
