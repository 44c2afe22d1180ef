// DimPolynomial.cpp: arithmetic on the canonical polynomials of dims (ir/DimPolynomial.h).
#include "ir/DimPolynomial.h"

#include <algorithm>
#include <numeric>

namespace gradc::dimpoly {

bool isConstant(const Poly &p) { return p.terms.empty() || (p.terms.size() == 1 && p.terms[0].atoms.empty()); }
int64_t constantTerm(const Poly &p) { return !p.terms.empty() && p.terms[0].atoms.empty() ? p.terms[0].coef : 0; }

// Sorted terms, equal monomials merged, no zero coefficients, den > 0 and coprime with them.
// False on overflow or when the polynomial is too large to keep.
bool normalize(Poly &p) {
  std::sort(p.terms.begin(), p.terms.end(), [](const Poly::Term &a, const Poly::Term &b) { return a.atoms < b.atoms; });
  std::vector<Poly::Term> merged;
  for (Poly::Term &t : p.terms) {
    if (!merged.empty() && merged.back().atoms == t.atoms) {
      if (__builtin_add_overflow(merged.back().coef, t.coef, &merged.back().coef))
        return false;
    } else {
      merged.push_back(std::move(t));
    }
  }
  std::erase_if(merged, [](const Poly::Term &t) { return t.coef == 0; });
  p.terms = std::move(merged);
  // INT64_MIN has no negation (gcd and a negative denominator need one): not kept.
  for (const Poly::Term &t : p.terms)
    if (t.coef == INT64_MIN)
      return false;
  if (p.den < 0) {
    if (p.den == INT64_MIN)
      return false;
    p.den = -p.den;
    for (Poly::Term &t : p.terms)
      if (t.coef == INT64_MIN || (t.coef = -t.coef, false))
        return false;
  }
  int64_t g = p.den;
  for (const Poly::Term &t : p.terms)
    g = std::gcd(g, t.coef);
  if (g > 1) {
    p.den /= g;
    for (Poly::Term &t : p.terms)
      t.coef /= g;
  }
  if (p.terms.empty())
    p.den = 1;
  if (p.terms.size() > kMaxTerms)
    return false;
  for (const Poly::Term &t : p.terms)
    if (t.atoms.size() > kMaxDegree)
      return false;
  return true;
}

bool scale(Poly &p, int64_t k) {
  for (Poly::Term &t : p.terms)
    if (__builtin_mul_overflow(t.coef, k, &t.coef))
      return false;
  return true;
}

std::optional<Poly> polyOf(const DimTable &dims, const Dim &d) {
  Poly p;
  if (d.isLiteral()) {
    p.terms.push_back({{}, d.off});
  } else {
    const DimDef &def = dims.def(d.sym);
    if (def.kind == DimDef::Alias) {
      std::optional<Poly> a = polyOf(dims, def.alias); // aliases name sizes, never aliases
      if (!a)
        return std::nullopt;
      p = *a;
    } else if (def.kind == DimDef::Poly) {
      p = def.poly;
    } else {
      p.terms.push_back({{d.sym}, 1});
    }
    int64_t off;
    if (__builtin_mul_overflow(d.off, p.den, &off))
      return std::nullopt;
    p.terms.push_back({{}, off});
  }
  if (!normalize(p))
    return std::nullopt;
  return p;
}

std::optional<Poly> add(Poly a, Poly b, int64_t sign) {
  Poly r;
  if (!scale(a, b.den) || !scale(b, a.den) || !scale(b, sign) || __builtin_mul_overflow(a.den, b.den, &r.den))
    return std::nullopt;
  r.terms = std::move(a.terms);
  r.terms.insert(r.terms.end(), b.terms.begin(), b.terms.end());
  if (!normalize(r))
    return std::nullopt;
  return r;
}

std::optional<Poly> mul(const Poly &a, const Poly &b) {
  Poly r;
  if (__builtin_mul_overflow(a.den, b.den, &r.den) || a.terms.size() * b.terms.size() > kMaxTerms * kMaxTerms)
    return std::nullopt;
  for (const Poly::Term &x : a.terms)
    for (const Poly::Term &y : b.terms) {
      Poly::Term t;
      std::merge(x.atoms.begin(), x.atoms.end(), y.atoms.begin(), y.atoms.end(), std::back_inserter(t.atoms));
      if (__builtin_mul_overflow(x.coef, y.coef, &t.coef))
        return std::nullopt;
      r.terms.push_back(std::move(t));
    }
  if (!normalize(r))
    return std::nullopt;
  return r;
}

namespace {

// The monomial x / y when y's atoms are among x's and the coefficients divide exactly.
std::optional<Poly::Term> divideTerm(const Poly::Term &x, const Poly::Term &y) {
  if (y.coef == 0 || (x.coef == INT64_MIN && y.coef == -1) || x.coef % y.coef != 0 ||
      !std::includes(x.atoms.begin(), x.atoms.end(), y.atoms.begin(), y.atoms.end()))
    return std::nullopt;
  Poly::Term t;
  t.coef = x.coef / y.coef;
  std::set_difference(x.atoms.begin(), x.atoms.end(), y.atoms.begin(), y.atoms.end(), std::back_inserter(t.atoms));
  return t;
}

} // namespace

// a / b as a polynomial where b divides a exactly ((N*B)/B is N, (2*N*B + 4*B)/(2*B) is N + 2,
// 2*K*D/(K*D) is 2): division by leading terms (highest degree first), checked by multiplying
// back, so that an order that does not suit the two can only miss a quotient, never make one.
std::optional<Poly> exactQuotient(const Poly &a, const Poly &b) {
  if (a.den != 1 || b.den != 1 || b.terms.empty())
    return std::nullopt;
  auto lead = [](const Poly &p) -> const Poly::Term & {
    return *std::max_element(p.terms.begin(), p.terms.end(), [](const Poly::Term &x, const Poly::Term &y) {
      return x.atoms.size() != y.atoms.size() ? x.atoms.size() < y.atoms.size() : x.atoms < y.atoms;
    });
  };
  Poly q, r = a;
  for (size_t step = 0; !r.terms.empty(); ++step) {
    std::optional<Poly::Term> t = step <= kMaxTerms ? divideTerm(lead(r), lead(b)) : std::nullopt;
    if (!t)
      return std::nullopt;
    Poly term;
    term.terms.push_back(*t);
    std::optional<Poly> part = mul(term, b);
    std::optional<Poly> rest = part ? add(r, *part, -1) : std::nullopt;
    if (!rest)
      return std::nullopt;
    r = std::move(*rest);
    q.terms.push_back(std::move(*t));
  }
  if (!normalize(q))
    return std::nullopt;
  std::optional<Poly> back = mul(q, b);
  if (!back || !(*back == a))
    return std::nullopt;
  return q;
}

// A quotient that is no polynomial without the integer factor its two sides share, so that
// equal quotients are one atom: (2*N)/(2*B) is N/B. (A common atom is kept: it may be 0.)
void cancelCommonFactor(Poly &a, Poly &b) {
  if (a.den != 1 || b.den != 1)
    return;
  int64_t g = 0;
  for (const Poly *p : {&a, &b})
    for (const Poly::Term &t : p->terms)
      g = std::gcd(g, t.coef); // normalize() keeps INT64_MIN out
  if (g > 1)
    for (Poly *p : {&a, &b})
      for (Poly::Term &t : p->terms)
        t.coef /= g;
}

} // namespace gradc::dimpoly
