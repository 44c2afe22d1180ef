// COperationHelpers.cpp: the C helpers of operations (CHelpers.h): lane-wise operations of
// vectors, math functions, casts, splats, ramps and lane sums, and integer min/max.
#include "codegen/c/CHelpers.h"
#include "codegen/c/CVectorSpelling.h"

#include "gradc/Diagnostics.h"

#include <string>
#include <vector>

namespace gradc::cgen {

using loops::Kind;
using loops::Op;
using loops::Ty;

namespace {

std::string replaceAll(std::string s, const std::string &from, const std::string &to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

const char *opName(Op op) {
  switch (op) {
  case Op::Add: return "add";
  case Op::Sub: return "sub";
  case Op::Mul: return "mul";
  case Op::Div: return "div";
  case Op::Rem: return "rem";
  case Op::Min: return "min";
  case Op::Max: return "max";
  case Op::Neg: return "neg";
  case Op::Lt: return "lt";
  case Op::Le: return "le";
  case Op::Gt: return "gt";
  case Op::Ge: return "ge";
  case Op::Eq: return "eq";
  case Op::Ne: return "ne";
  case Op::And: return "and";
  case Op::Or: return "or";
  case Op::Not: return "not";
  case Op::IsNaN: return "isnan";
  default: internalError("no C helper for this operation");
  }
}

} // namespace

// static inline R name(A0 a0, ...): each lane of the result is `laneExpr`, where $0, $1, $2
// stand for the arguments' lanes (or the scalar argument itself) and $k for the lane number:
// a loop over the lanes, or under GCC and Clang (`form`) laneExpr applied to whole vectors,
// or a vector literal of the lanes; for a split vector, the same piece by piece.
std::string CHelpers::lanewise(const std::string &name, Ty result, const std::vector<Ty> &args,
                               const std::string &laneExpr, GnuForm form) {
  if (defined_.count(name))
    return name;
  std::string r = type(result), lane = laneExpr;
  std::vector<Param> params;
  bool anySplit = splits(result);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = "a" + std::to_string(i);
    params.push_back({type(args[i]), a, args[i].isVector()});
    anySplit = anySplit || splits(args[i]);
    lane = replaceAll(lane, "$" + std::to_string(i), args[i].isVector() ? this->lane(args[i], a, "k") : a);
  }
  lane = replaceAll(lane, "$k", "k");
  std::string loop = "  " + r + " r = {0};\n  int k;\n  for (k = 0; k < " + std::to_string(result.lanes) +
                     "; ++k)\n    " + this->lane(result, "r", "k") + " = " + lane + ";\n  return r;\n";
  // laneExpr with each argument a whole vector, a piece `.h[j]` of one, or lane k (a literal's).
  auto instance = [&](const std::string &piece, int k) {
    std::string e = replaceAll(laneExpr, "$k", std::to_string(k));
    for (size_t i = 0; i < args.size(); ++i)
      e = replaceAll(e, "$" + std::to_string(i), "a" + std::to_string(i) + (args[i].isVector() ? piece : ""));
    return e;
  };
  auto literal = [&](const std::string &type, int first, int count) {
    std::string s = "(" + type + "){";
    for (int k = first; k < first + count; ++k)
      s += (k > first ? ", " : "") + instance("", k);
    return s + "}";
  };
  std::string gnu = form == GnuForm::Whole     ? "  return " + instance("", 0) + ";\n"
                    : form == GnuForm::Literal ? "  return " + literal(r, 0, result.lanes) + ";\n"
                                               : loop;
  std::string pieces = loop;
  if (form != GnuForm::Loop && splits(result)) { // Whole: every argument is of the result's type
    int n = splitLanes(result);
    pieces = "  " + r + " r;\n";
    for (int j = 0; j < result.lanes / n; ++j) {
      std::string h = ".h[" + std::to_string(j) + "]";
      pieces += "  r" + h + " = " + (form == GnuForm::Whole ? instance(h, 0) : literal(r + "_piece", j * n, n)) + ";\n";
    }
    pieces += "  return r;\n";
  }
  std::string body = loop;
  if (gnu != loop)
    body = "#if defined(__GNUC__)\n" + gnu + "#else\n" + loop + "#endif\n";
  if (anySplit && pieces != body)
    body = "#if defined(GRADC_SPLIT_VECTORS)\n" + pieces + (gnu != loop ? "#elif" + body.substr(3) : "#else\n" + loop + "#endif\n");
  define(name);
  addFunction(name, r, params, body);
  return name;
}

std::string CHelpers::binary(Op op, Ty t) {
  std::string name = "gradc_" + std::string(opName(op)) + "_" + suffix(t);
  if (op == Op::Min || op == Op::Max)
    return lanewise(name, t, {t, t}, std::string("($0") + (op == Op::Min ? " < " : " > ") + "$1 ? $0 : $1)");
  bool arith = op == Op::Add || op == Op::Sub || op == Op::Mul || op == Op::Div;
  return lanewise(name, t, {t, t}, std::string("$0") + cInfix(op) + "$1", arith ? GnuForm::Whole : GnuForm::Loop);
}

std::string CHelpers::compare(Op op, Ty t) {
  return lanewise("gradc_" + std::string(opName(op)) + "_" + suffix(t), loops::kBool.withLanes(t.lanes), {t, t},
                  std::string("$0") + cInfix(op) + "$1");
}

std::string CHelpers::unary(Op op, Ty t) {
  std::string name = "gradc_" + std::string(opName(op)) + "_" + suffix(t);
  if (op == Op::IsNaN)
    return lanewise(name, loops::kBool.withLanes(t.lanes), {t}, "$0 != $0");
  return lanewise(name, t, {t}, op == Op::Neg ? "-$0" : "!$0", op == Op::Neg ? GnuForm::Whole : GnuForm::Loop);
}

std::string CHelpers::select(Ty t) {
  return lanewise("gradc_select_" + suffix(t), t, {loops::kBool.withLanes(t.lanes), t, t}, "$0 ? $1 : $2");
}

std::string CHelpers::fma(Ty t) { return lanewise("gradc_fma_" + suffix(t), t, {t, t, t}, "$0 * $1 + $2", GnuForm::Whole); }

std::string CHelpers::math(loops::Math fn, Ty t) {
  using loops::Math;
  Ty s = t.scalar();
  bool f32 = t.kind == Kind::F32;
  std::string scalar;
  switch (fn) {
  case Math::Maximum:
  case Math::Minimum: {
    // NaN-propagating, and +0 above -0 (LLVM's maximum and minimum).
    bool max = fn == Math::Maximum;
    scalar = std::string("gradc_") + (max ? "maximum_" : "minimum_") + suffix(s);
    if (define(scalar)) {
      std::string ty = memoryType(s.kind);
      add(scalar, "GRADC_INLINE " + ty + " " + scalar + "(" + ty + " a, " + ty + " b) {\n" +
                       "  if (a != a || b != b)\n    return a + b;\n  if (a == b)\n    return signbit(a) ? " +
                       (max ? "b : a" : "a : b") + ";\n  return a " + (max ? ">" : "<") + " b ? a : b;\n}\n");
    }
    break;
  }
  default:
    scalar = std::string(mathFnInfo(fn).name) + (f32 ? "f" : "");
  }
  if (!t.isVector())
    return scalar;
  bool two = mathFnInfo(fn).arity == 2;
  return lanewise("gradc_" + scalar + "_" + suffix(t), t, two ? std::vector<Ty>{t, t} : std::vector<Ty>{t},
                  scalar + (two ? "($0, $1)" : "($0)"));
}

std::string CHelpers::cast(Ty from, Ty to) {
  return lanewise("gradc_cast_" + suffix(from) + "_" + suffix(to), to, {from},
                  "(" + std::string(laneType(to.kind)) + ")$0");
}

std::string CHelpers::splat(Ty t) { return lanewise("gradc_splat_" + suffix(t), t, {t.scalar()}, "$0", GnuForm::Literal); }

std::string CHelpers::ramp(Ty t) {
  return lanewise("gradc_ramp_" + suffix(t), t, {t.scalar()}, "$0 + $k", GnuForm::Literal);
}

// The lanes added in halves (lane k and k + n/2, then again), as LLVM expands a reassociable
// vector reduction, then to the start value 0 as its reduction intrinsic does.
std::string CHelpers::reduceAdd(Ty t) {
  std::string name = "gradc_sum_" + suffix(t);
  if (defined_.count(name))
    return name;
  std::string v = type(t), e = memoryType(t.kind), n = std::to_string(t.lanes);
  define(name);
  addFunction(name, e, {{v, "a", true}}, "  " + e + " s[" + n + "];\n  int k, w;\n" +
                   "  for (k = 0; k < " + n + "; ++k)\n    s[k] = " + lane(t, "a", "k") + ";\n" +
                   "  for (w = " + std::to_string(t.lanes / 2) +
                   "; w >= 1; w /= 2)\n    for (k = 0; k < w; ++k)\n      s[k] += s[k + w];\n" +
                   "  return (" + e + ")0 + s[0];\n");
  return name;
}

std::string CHelpers::intMinMax(Op op, Ty t) {
  std::string name = "gradc_" + std::string(opName(op)) + "_" + suffix(t);
  if (define(name)) {
    std::string ty = memoryType(t.kind);
    add(name, "GRADC_INLINE " + ty + " " + name + "(" + ty + " a, " + ty + " b) {\n  return a " +
                     (op == Op::Min ? "<" : ">") + " b ? a : b;\n}\n");
  }
  return name;
}

} // namespace gradc::cgen
