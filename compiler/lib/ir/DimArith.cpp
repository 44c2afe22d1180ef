// DimArith.cpp: derived dims, kept as canonical polynomials with exact rational coefficients.
#include "ir/DimArith.h"

#include "ir/DimPolynomial.h"

#include <algorithm>
#include <numeric>

namespace gradc {

namespace {

using namespace dimpoly;

std::string atomText(const DimTable &dims, int32_t sym) {
  const std::string &n = dims.names[static_cast<size_t>(sym)];
  return n.find_first_of("+-*/") == std::string::npos ? n : "(" + n + ")";
}

std::string polyText(const DimTable &dims, const Poly &p) {
  std::string s;
  for (size_t i = p.terms.size(); i-- > 0;) { // highest degree first: D*D+D
    const Poly::Term &t = p.terms[i];
    int64_t c = t.coef;
    if (!s.empty())
      s += c < 0 ? "-" : "+";
    else if (c < 0)
      s += "-";
    uint64_t mag = c < 0 ? 0 - static_cast<uint64_t>(c) : static_cast<uint64_t>(c);
    std::string body;
    for (int32_t a : t.atoms)
      body += (body.empty() ? "" : "*") + atomText(dims, a);
    if (body.empty())
      s += std::to_string(mag);
    else
      s += (mag == 1 ? "" : std::to_string(mag) + "*") + body;
  }
  if (p.den == 1)
    return s;
  return (p.terms.size() > 1 ? "(" + s + ")" : s) + "/" + std::to_string(p.den);
}

// The canonical text of a definition: equal texts, equal definitions.
std::string definitionKey(const DimDef &d) {
  std::string k;
  auto num = [&](int64_t v) { k += std::to_string(v) + ","; };
  if (d.kind == DimDef::Poly) {
    k = "p";
    num(d.poly.den);
    for (const Poly::Term &t : d.poly.terms) {
      num(t.coef);
      for (int32_t a : t.atoms)
        num(a);
      k += ";";
    }
  } else {
    k = "q";
    for (int64_t v : {int64_t(d.num.sym), d.num.off, int64_t(d.divisor.sym), d.divisor.off})
      num(v);
  }
  return k;
}

// The dim defined by `def`: found, or derived now under `name`.
int32_t derived(const DimTable &dims, DimDef def, std::string name) {
  std::string key = definitionKey(def);
  if (auto it = dims.derivedIndex.find(key); it != dims.derivedIndex.end())
    return it->second;
  dims.defs.resize(dims.names.size());
  dims.names.push_back(std::move(name));
  dims.defs.push_back(std::move(def));
  int32_t sym = static_cast<int32_t>(dims.names.size() - 1);
  dims.derivedIndex.emplace(std::move(key), sym);
  return sym;
}

// The Dim of polynomial `p`: its whole constant part as the offset, the rest a dim (found, or
// derived now).
Dim internPoly(const DimTable &dims, Poly p) {
  int64_t c = constantTerm(p);
  int64_t off = c / p.den - ((c % p.den) < 0 ? 1 : 0); // floor: the rest of the constant is in [0, den)
  if (off > kMaxElements || off < -kMaxElements)
    return Dim{kDimTooLarge, 0};
  int64_t whole;
  for (Poly::Term &t : p.terms)
    if (t.atoms.empty() && (__builtin_mul_overflow(off, p.den, &whole) || __builtin_sub_overflow(t.coef, whole, &t.coef)))
      return Dim{kDimTooLarge, 0};
  normalize(p); // cannot fail: it only removes or shrinks a term
  if (isConstant(p))
    return constantTerm(p) == 0 ? Dim::lit(off) : Dim{kNotASize, 0}; // a fraction
  if (p.den == 1 && p.terms.size() == 1 && p.terms[0].coef == 1 && p.terms[0].atoms.size() == 1)
    return Dim{p.terms[0].atoms[0], off};
  DimDef def;
  def.kind = DimDef::Poly;
  def.poly = std::move(p);
  std::string name = polyText(dims, def.poly);
  return Dim{derived(dims, std::move(def), std::move(name)), off};
}

bool isSize(const Dim &d) { return d.sym >= -1; }

Dim quotient(const DimTable &dims, const Dim &a, const Dim &b) {
  DimDef def;
  def.kind = DimDef::Quotient;
  def.num = a;
  def.divisor = b;
  auto text = [&](const Dim &d) {
    std::string t = dims.str(d);
    return t.find_first_of("+-*/") == std::string::npos ? t : "(" + t + ")";
  };
  return Dim{derived(dims, std::move(def), text(a) + "/" + text(b)), 0};
}

} // namespace

const DimDef &DimTable::def(int32_t sym) const {
  static const DimDef given;
  return sym >= 0 && static_cast<size_t>(sym) < defs.size() ? defs[static_cast<size_t>(sym)] : given;
}

Dim foldDims(const DimTable &dims, char op, const Dim &a, const Dim &b) {
  if (a.sym == kDimTooLarge || b.sym == kDimTooLarge)
    return Dim{kDimTooLarge, 0};
  if (!isSize(a) || !isSize(b))
    return Dim{kNotASize, 0};
  std::optional<Poly> pa = polyOf(dims, a), pb = polyOf(dims, b);
  if (!pa || !pb)
    return Dim{kNotASize, 0};
  std::optional<Poly> r;
  switch (op) {
  case '+':
    r = add(*pa, *pb, 1);
    break;
  case '-':
    r = add(*pa, *pb, -1);
    break;
  case '*':
    // (N/B)*B is N: what a reshape of [N] to [B, N/B] counts.
    for (auto [q, k] : {std::pair{a, b}, std::pair{b, a}})
      if (!q.isLiteral() && q.off == 0 && dims.def(q.sym).kind == DimDef::Quotient && dims.def(q.sym).divisor == k)
        return dims.def(q.sym).num;
    r = mul(*pa, *pb);
    break;
  case '/': {
    if (isConstant(*pb)) {
      int64_t c = constantTerm(*pb);
      if (c == 0 || (isConstant(*pa) && constantTerm(*pa) % c != 0))
        return Dim{kNotASize, 0}; // 1/0 and 1/3 are numbers, not sizes
      r = *pa;
      if (__builtin_mul_overflow(r->den, c, &r->den) || !normalize(*r))
        r.reset();
      break;
    }
    // A quotient that is a polynomial (2*K*D / (K*D), N*B / B) is that polynomial; another
    // is an atom.
    if (std::optional<Poly> q = exactQuotient(*pa, *pb)) {
      r = std::move(q);
      break;
    }
    cancelCommonFactor(*pa, *pb);
    Dim na = internPoly(dims, *pa), nb = internPoly(dims, *pb);
    if (!isSize(na) || !isSize(nb))
      return Dim{kNotASize, 0};
    return quotient(dims, na, nb);
  }
  default:
    return Dim{kNotASize, 0};
  }
  if (!r)
    return Dim{kNotASize, 0}; // too large a polynomial to keep
  return internPoly(dims, std::move(*r));
}

Dim negateDim(const DimTable &dims, const Dim &a) {
  return foldDims(dims, '-', Dim::lit(0), a);
}

Dim elementCountDim(const DimTable &dims, const Shape &shape) {
  Dim count = Dim::lit(1);
  for (const Dim &d : shape)
    count = foldDims(dims, '*', count, d);
  return count;
}

void declareDerivedDim(const DimTable &dims, int32_t declared, const Dim &value, size_t firstNew) {
  dims.defs.resize(dims.names.size());
  // A size derived for this declaration alone gets its name: shapes then read `[K, M]`.
  bool fresh = !value.isLiteral() && value.off == 0 && dims.def(value.sym).kind == DimDef::Poly &&
               static_cast<size_t>(value.sym) >= firstNew &&
               dims.names[static_cast<size_t>(value.sym)].find_first_of("+-*/") != std::string::npos;
  if (fresh)
    dims.names[static_cast<size_t>(value.sym)] = dims.names[static_cast<size_t>(declared)];
  DimDef &d = dims.defs[static_cast<size_t>(declared)];
  d.kind = DimDef::Alias;
  d.alias = value;
}

Dim resolveDim(const DimTable &dims, int32_t sym) {
  const DimDef &d = dims.def(sym);
  return d.kind == DimDef::Alias ? d.alias : Dim{sym, 0};
}

std::vector<int32_t> derivedClosure(const DimTable &dims, const std::vector<int32_t> &syms) {
  std::vector<bool> in(dims.names.size(), false);
  std::vector<int32_t> stack(syms.begin(), syms.end()), out;
  while (!stack.empty()) {
    int32_t s = stack.back();
    stack.pop_back();
    if (s < 0 || static_cast<size_t>(s) >= in.size() || in[static_cast<size_t>(s)] || !dims.isDerived(s))
      continue;
    in[static_cast<size_t>(s)] = true;
    out.push_back(s);
    const DimDef &d = dims.def(s);
    if (d.kind == DimDef::Poly)
      for (const Poly::Term &t : d.poly.terms)
        stack.insert(stack.end(), t.atoms.begin(), t.atoms.end());
    else if (d.kind == DimDef::Quotient)
      stack.insert(stack.end(), {d.num.sym, d.divisor.sym});
    else if (d.kind == DimDef::Alias)
      stack.push_back(d.alias.sym);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void givenDimsOf(const DimTable &dims, int32_t sym, std::vector<int32_t> &out) {
  std::vector<int32_t> stack{sym};
  while (!stack.empty()) {
    int32_t s = stack.back();
    stack.pop_back();
    if (s < 0)
      continue;
    const DimDef &d = dims.def(s);
    switch (d.kind) {
    case DimDef::Given:
      if (std::find(out.begin(), out.end(), s) == out.end())
        out.push_back(s);
      break;
    case DimDef::Poly:
      for (const Poly::Term &t : d.poly.terms)
        stack.insert(stack.end(), t.atoms.begin(), t.atoms.end());
      break;
    case DimDef::Quotient:
      stack.push_back(d.num.sym);
      stack.push_back(d.divisor.sym);
      break;
    case DimDef::Alias:
      stack.push_back(d.alias.sym);
      break;
    }
  }
}

std::string derivedDimText(const DimTable &dims, int32_t sym) {
  const DimDef &d = dims.def(sym);
  switch (d.kind) {
  case DimDef::Poly:
    return polyText(dims, d.poly);
  case DimDef::Alias:
    return dims.str(d.alias);
  default:
    return dims.names[static_cast<size_t>(sym)];
  }
}

std::string derivedDimNotGiven(const DimTable &dims, int32_t sym) {
  std::string name = "dim '" + dims.names[static_cast<size_t>(sym)] + "'";
  const DimDef &d = dims.def(sym);
  if (d.kind == DimDef::Alias && d.alias.isLiteral())
    return name + " is declared as " + std::to_string(d.alias.off) + ", not given";
  return name + " is " + derivedDimText(dims, sym) + ", computed from the dims it is made of; give those";
}

std::string completeDimValues(const DimTable &dims, std::vector<int64_t> &values, const std::vector<int32_t> &needed,
                              std::vector<bool> *known) {
  size_t n = dims.names.size();
  values.resize(n, 0);
  std::vector<std::string> why(n);
  std::vector<bool> have(n, true);
  if (known)
    for (size_t s = 0; s < n; ++s)
      have[s] = s < known->size() && (*known)[s];
  // The given dims each derived one is computed from, for the message.
  auto inputs = [&](int32_t s) {
    std::vector<int32_t> given;
    givenDimsOf(dims, s, given);
    std::sort(given.begin(), given.end());
    std::string t;
    for (int32_t g : given)
      t += (t.empty() ? "" : ", ") + dims.names[static_cast<size_t>(g)] + " = " + std::to_string(values[static_cast<size_t>(g)]);
    return t;
  };
  auto valueOf = [&](const Dim &d, bool &ok, std::string &err) -> __int128 {
    if (d.isLiteral())
      return d.off;
    size_t s = static_cast<size_t>(d.sym);
    if (!have[s])
      ok = false;
    else if (!why[s].empty())
      err = why[s];
    return static_cast<__int128>(values[s]) + d.off;
  };
  constexpr __int128 kLimit = kMaxElements;
  // A term beyond 2^69 makes the dim beyond 2^56 (for any denominator that matters); checked
  // after each product, it keeps every product within 128 bits (values are below 2^58).
  constexpr __int128 kTermLimit = static_cast<__int128>(1) << 69;
  for (size_t s = 0; s < n; ++s) {
    const DimDef &d = dims.def(static_cast<int32_t>(s));
    if (d.kind == DimDef::Given)
      continue;
    bool ok = true;
    std::string err;
    __int128 v = 0;
    if (d.kind == DimDef::Alias) {
      v = valueOf(d.alias, ok, err);
    } else if (d.kind == DimDef::Quotient) {
      __int128 a = valueOf(d.num, ok, err), b = valueOf(d.divisor, ok, err);
      if (ok && err.empty()) {
        if (b <= 0 || a % b != 0)
          err = dims.names[s] + " is " + std::to_string(static_cast<int64_t>(a)) + "/" +
                std::to_string(static_cast<int64_t>(b)) + ", not a whole number, for " + inputs(static_cast<int32_t>(s));
        else
          v = a / b;
      }
    } else {
      __int128 num = 0;
      bool big = false;
      for (const Poly::Term &t : d.poly.terms) {
        __int128 term = t.coef;
        for (int32_t atom : t.atoms) {
          term *= valueOf(Dim{atom, 0}, ok, err);
          if (term > kTermLimit || term < -kTermLimit) {
            big = true;
            term = 0;
          }
        }
        num += term;
      }
      if (ok && err.empty()) {
        if (big)
          err = dims.names[s] + " is beyond 2^56 for " + inputs(static_cast<int32_t>(s));
        else if (num % d.poly.den != 0)
          err = (dims.names[s] == polyText(dims, d.poly) ? dims.names[s] : dims.names[s] + " = " + polyText(dims, d.poly)) +
                " is not a whole number for " + inputs(static_cast<int32_t>(s));
        else
          v = num / d.poly.den;
      }
    }
    if (ok && err.empty() && (v > kLimit || v < -kLimit))
      err = dims.names[s] + " is beyond 2^56 for " + inputs(static_cast<int32_t>(s));
    have[s] = ok;
    why[s] = err;
    values[s] = err.empty() && ok ? static_cast<int64_t>(v) : 0;
  }
  if (known)
    *known = have;
  for (int32_t s : needed)
    if (s >= 0 && static_cast<size_t>(s) < n && have[static_cast<size_t>(s)] && !why[static_cast<size_t>(s)].empty())
      return why[static_cast<size_t>(s)];
  return "";
}

std::string completeBoundDims(const DimTable &dims, std::map<int32_t, int64_t> &bound, const std::vector<int32_t> &needed) {
  std::vector<int64_t> values(dims.names.size(), 0);
  std::vector<bool> known(dims.names.size(), false);
  for (auto [s, v] : bound) {
    values[static_cast<size_t>(s)] = v;
    known[static_cast<size_t>(s)] = true;
  }
  std::string error = completeDimValues(dims, values, needed, &known);
  for (size_t s = 0; s < values.size(); ++s)
    if (known[s] && dims.isDerived(static_cast<int32_t>(s)))
      bound[static_cast<int32_t>(s)] = values[s];
  return error;
}

} // namespace gradc
