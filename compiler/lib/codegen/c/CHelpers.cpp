// CHelpers.cpp: the C text of vector types and helpers (CHelpers.h).
#include "codegen/c/CHelpers.h"

#include "gradc/Diagnostics.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace gradc::cgen {

using loops::Kind;
using loops::Op;
using loops::Ty;

namespace {

const char *shortName(Kind k) {
  switch (k) {
  case Kind::Bool:
    return "b1";
  case Kind::I8:
    return "u8";
  case Kind::I32:
    return "i32";
  case Kind::I64:
    return "i64";
  case Kind::U64:
    return "u64";
  case Kind::F32:
    return "f32";
  case Kind::F64:
    return "f64";
  default:
    internalError("no C vector of this kind");
  }
}

// The type of one lane in registers (a mask lane is an int32_t: vector extensions need an
// integer type, and 0/1 fit).
const char *laneType(Kind k) { return k == Kind::Bool ? "int32_t" : CHelpers::memoryType(k); }

std::string suffix(Ty t) {
  return std::string(shortName(t.kind)) + (t.isVector() ? "x" + std::to_string(t.lanes) : "");
}

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

const char *infix(Op op) {
  switch (op) {
  case Op::Add: return " + ";
  case Op::Sub: return " - ";
  case Op::Mul: return " * ";
  case Op::Div: return " / ";
  case Op::Rem: return " % ";
  case Op::Lt: return " < ";
  case Op::Le: return " <= ";
  case Op::Gt: return " > ";
  case Op::Ge: return " >= ";
  case Op::Eq: return " == ";
  case Op::Ne: return " != ";
  case Op::And: return " && ";
  case Op::Or: return " || ";
  default: return nullptr;
  }
}

} // namespace

std::string cLiteral(const loops::Expr &x) {
  Kind k = x.type.kind;
  if (x.op == Op::Int) {
    switch (k) {
    case Kind::Bool:
      return x.i ? "1" : "0";
    case Kind::Ptr:
      return "((void *)0)";
    case Kind::U64:
      return "UINT64_C(" + std::to_string(static_cast<uint64_t>(x.i)) + ")";
    default:
      if (x.i == INT64_MIN)
        return "(-INT64_C(9223372036854775807) - 1)";
      return x.i < 0 ? "(" + std::to_string(x.i) + ")" : std::to_string(x.i);
    }
  }
  GRADC_ASSERT(x.op == Op::Float, "not a constant");
  double v = x.f();
  bool f32 = k == Kind::F32;
  if (std::isnan(v))
    return f32 ? "((float)NAN)" : "((double)NAN)";
  if (std::isinf(v))
    return std::string(v < 0 ? "(-" : "(") + (f32 ? "HUGE_VALF" : "HUGE_VAL") + ")";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  if (v < 0 || (v == 0 && std::signbit(v)))
    s = "(" + s + ")";
  // Rounded as LLVM rounds a float constant: the double, then to float.
  return f32 ? "((float)" + s + ")" : s;
}

const char *CHelpers::memoryType(Kind k) {
  switch (k) {
  case Kind::Void:
    return "void";
  case Kind::Bool:
    return "int";
  case Kind::I8:
    return "uint8_t";
  case Kind::I32:
    return "int32_t";
  case Kind::I64:
    return "int64_t";
  case Kind::U64:
    return "uint64_t";
  case Kind::F32:
    return "float";
  case Kind::F64:
    return "double";
  case Kind::Ptr:
    return "void *";
  }
  return "void";
}

bool CHelpers::define(const std::string &name) { return defined_.insert(name).second; }

// Each definition under a guard of its own, so that several generated files can be compiled
// as one translation unit (a unity build) without redefining a helper they share.
void CHelpers::add(const std::string &name, const std::string &text) {
  if (name.rfind("GRADC_", 0) == 0) { // a macro guards itself
    order_.push_back("#ifndef " + name + "\n" + text + "#endif\n");
    return;
  }
  std::string guard = "GRADC_HAVE_" + name;
  order_.push_back("#ifndef " + guard + "\n#define " + guard + "\n" + text + "#endif\n");
}

// Under GCC and Clang a vector argument reaches the helper by address, through a macro that
// names it: passed by value, a vector wider than the target's registers makes GCC note that
// its ABI changed in GCC 4.6 (a note no pragma silences), although the helper is inlined.
void CHelpers::addFunction(const std::string &name, const std::string &result, const std::vector<Param> &params,
                           const std::string &body) {
  std::string byValue, byAddress, copies, macroArgs, macroTemps, forward;
  bool anyVector = false;
  for (size_t i = 0; i < params.size(); ++i) {
    const Param &p = params[i];
    std::string sep = i ? ", " : "", x = "x" + std::to_string(i);
    byValue += sep + p.type + (p.type.back() == '*' ? "" : " ") + p.name;
    macroArgs += sep + x;
    if (p.vector) {
      anyVector = true;
      byAddress += sep + "const " + p.type + " *" + p.name + "_at";
      copies += "  " + p.type + " " + p.name + " = *" + p.name + "_at;\n";
      macroTemps += p.type + " gradc_" + x + "_ = (" + x + "); ";
      forward += sep + "&gradc_" + x + "_";
    } else {
      byAddress += sep + p.type + (p.type.back() == '*' ? "" : " ") + p.name;
      forward += sep + "(" + x + ")";
    }
  }
  if (!anyVector) {
    add(name, "GRADC_INLINE " + result + " " + name + "(" + byValue + ") {\n" + body + "}\n");
    return;
  }
  std::string inner = name + "_at", ret = result == "void" ? "" : "return ", fallbackArgs;
  for (size_t i = 0; i < params.size(); ++i)
    fallbackArgs += (i ? ", " : "") + std::string(params[i].vector ? "&" : "") + params[i].name;
  add(name, "GRADC_INLINE " + result + " " + inner + "(" + byAddress + ") {\n" + copies + body + "}\n" +
                "#if defined(__GNUC__)\n#define " + name + "(" + macroArgs + ") __extension__({ " + macroTemps + inner +
                "(" + forward + "); })\n#else\nGRADC_INLINE " + result + " " + name + "(" + byValue + ") {\n  " + ret +
                inner + "(" + fallbackArgs + ");\n}\n#endif\n");
}

namespace {

// Where GCC has AVX but not AVX-512, a vector type wider than this is spelled as a struct of
// vectors of this size: GCC lowers wider generic vectors there through memory (a 6x8 tile of
// the matrix kernel ran 7.6x slower), while it keeps pairs of halves in registers, as LLVM
// splits the object's wide vectors. Elsewhere the vector extension's own type is used.
constexpr int kSplitBytes = 32;

bool splits(Ty t) { return t.isVector() && t.lanes * loops::kindBytes(t.kind == Kind::Bool ? Kind::I32 : t.kind) > kSplitBytes; }

int splitLanes(Ty t) { return kSplitBytes / static_cast<int>(loops::kindBytes(t.kind == Kind::Bool ? Kind::I32 : t.kind)); }

} // namespace

std::string CHelpers::lane(Ty t, const std::string &v, const std::string &k) {
  return vectorTypedef(t) + "_lane(" + v + ", " + k + ")";
}

std::string CHelpers::vectorTypedef(Ty t) {
  std::string name = "gradc_" + suffix(t);
  if (define(name)) {
    lanes_ = true;
    std::string lane = laneType(t.kind), n = std::to_string(t.lanes);
    std::string text;
    if (splits(t)) {
      split_ = true;
      std::string half = std::to_string(splitLanes(t)), pieces = std::to_string(t.lanes / splitLanes(t));
      text += "#if defined(GRADC_SPLIT_VECTORS)\ntypedef " + lane + " " + name + "_piece __attribute__((vector_size(" +
              half + " * sizeof(" + lane + "))));\ntypedef struct {\n  " + name + "_piece h[" + pieces + "];\n} " + name +
              ";\n#define " + name + "_lane(v, k) ((v).h[(k) / " + half + "][(k) % " + half + "])\n#elif";
    } else {
      text += "#if";
    }
    text += " defined(__GNUC__)\ntypedef " + lane + " " + name + " __attribute__((vector_size(" + n + " * sizeof(" + lane +
            "))));\n#define " + name + "_lane(v, k) ((v)[k])\n#else\ntypedef struct {\n  " + lane + " lane[" + n +
            "];\n} " + name + ";\n#define " + name + "_lane(v, k) ((v).lane[k])\n#endif\n";
    add(name, text);
  }
  return name;
}

std::string CHelpers::type(Ty t) { return t.isVector() ? vectorTypedef(t) : memoryType(t.kind); }

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
  return lanewise(name, t, {t, t}, std::string("$0") + infix(op) + "$1", arith ? GnuForm::Whole : GnuForm::Loop);
}

std::string CHelpers::compare(Op op, Ty t) {
  return lanewise("gradc_" + std::string(opName(op)) + "_" + suffix(t), loops::kBool.withLanes(t.lanes), {t, t},
                  std::string("$0") + infix(op) + "$1");
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
  default: {
    static const char *const names[] = {"exp", "log", "sqrt", "sin", "cos", "tanh", "fabs", "pow"};
    scalar = std::string(names[static_cast<int>(fn)]) + (f32 ? "f" : "");
  }
  }
  if (!t.isVector())
    return scalar;
  bool two = fn == Math::Pow || fn == Math::Maximum || fn == Math::Minimum;
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

std::string CHelpers::load(Ty t, bool masked) {
  std::string name = std::string("gradc_") + (masked ? "mload_" : "load_") + suffix(t);
  if (defined_.count(name))
    return name;
  std::string v = type(t), e = memoryType(t.kind), m = masked ? type(loops::kBool.withLanes(t.lanes)) : "";
  define(name);
  memcpy_ = true;
  if (!masked) {
    // A split vector piece by piece: copied whole, GCC moves it through the stack in 16-byte
    // parts and reads it back as pieces, a store-forwarding stall per load.
    std::string whole = "  " + v + " r;\n  memcpy(&r, p, sizeof r);\n  return r;\n";
    std::string body = !splits(t) ? whole
                                  : "#if defined(GRADC_SPLIT_VECTORS)\n  " + v + " r;\n  int j;\n  for (j = 0; j < " +
                                        std::to_string(t.lanes / splitLanes(t)) +
                                        "; ++j)\n    memcpy(&r.h[j], (const char *)p + j * sizeof r.h[0], sizeof r.h[0]);\n"
                                        "  return r;\n#else\n" + whole + "#endif\n";
    add(name, "GRADC_INLINE " + v + " " + name + "(const void *p) {\n" + body + "}\n");
  } else { // only the lanes under the mask are read: the others may be past the end of an array
    addFunction(name, v, {{"const void *", "p", false}, {m, "m", true}}, "  const " + e +
                     " *q = (const " + e + " *)p;\n  " + v + " r = {0};\n  int k;\n  for (k = 0; k < " +
                     std::to_string(t.lanes) + "; ++k)\n    " + lane(t, "r", "k") + " = " + lane(loops::kBool.withLanes(t.lanes), "m", "k") + " ? q[k] : (" + e +
                     ")0;\n  return r;\n");
  }
  return name;
}

std::string CHelpers::store(Ty t, bool masked, bool streaming) {
  std::string name = std::string("gradc_") + (masked ? "mstore_" : streaming ? "stream_" : "store_") + suffix(t);
  if (defined_.count(name))
    return name;
  std::string v = type(t), e = memoryType(t.kind), m = masked ? type(loops::kBool.withLanes(t.lanes)) : "";
  define(name);
  memcpy_ = true;
  std::string plain = "  memcpy(p, &a, sizeof a);\n";
  if (splits(t)) // piece by piece, as load()
    plain = "#if defined(GRADC_SPLIT_VECTORS)\n  int j;\n  for (j = 0; j < " + std::to_string(t.lanes / splitLanes(t)) +
            "; ++j)\n    memcpy((char *)p + j * sizeof a.h[0], &a.h[j], sizeof a.h[0]);\n#else\n" + plain + "#endif\n";
  if (masked) {
    addFunction(name, "void", {{"void *", "p", false}, {v, "a", true}, {m, "m", true}}, "  " + e + " *q = (" + e +
                     " *)p;\n  int k;\n  for (k = 0; k < " + std::to_string(t.lanes) +
                     "; ++k)\n    if (" + lane(loops::kBool.withLanes(t.lanes), "m", "k") + ")\n      q[k] = " + lane(t, "a", "k") + ";\n");
  } else if (streaming && t.isFloat() && t.lanes * loops::kindBytes(t.kind) == 64) {
    // Non-temporal stores of a 64-byte line (p is 64-byte aligned): past the cache, as the
    // object's code does, where the target has them.
    intrinsics_ = true;
    bool f64 = t.kind == Kind::F64;
    std::string pd = f64 ? "pd" : "ps", m512 = f64 ? "__m512d" : "__m512", m256 = f64 ? "__m256d" : "__m256",
                m128 = f64 ? "__m128d" : "__m128";
    auto pieces = [&](const std::string &reg, const std::string &fn, int count) {
      std::string s = "  " + reg + " r[" + std::to_string(count) + "];\n  int k;\n  memcpy(r, &a, sizeof a);\n" +
                      "  for (k = 0; k < " + std::to_string(count) + "; ++k)\n    " + fn + "((" + e + " *)p + k * " +
                      std::to_string(t.lanes / count) + ", r[k]);\n";
      return s;
    };
    addFunction(name, "void", {{"void *", "p", false}, {v, "a", true}},
                "#if defined(GRADC_SPLIT_VECTORS)\n  int k;\n  for (k = 0; k < 2; ++k)\n    _mm256_stream_" + pd + "((" + e +
                    " *)p + k * " + std::to_string(t.lanes / 2) + ", a.h[k]);\n" +
                "#elif defined(__GNUC__) && defined(__AVX512F__)\n" + pieces(m512, "_mm512_stream_" + pd, 1) +
                     "#elif defined(__GNUC__) && defined(__AVX__)\n" + pieces(m256, "_mm256_stream_" + pd, 2) +
                     "#elif defined(__GNUC__) && defined(__SSE2__)\n" + pieces(m128, "_mm_stream_" + pd, 4) +
                     "#else\n" + plain + "#endif\n");
  } else {
    addFunction(name, "void", {{"void *", "p", false}, {v, "a", true}}, plain);
  }
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

std::string CHelpers::loadBits(Ty t) {
  std::string name = "gradc_load_bits_" + suffix(t);
  if (define(name)) {
    memcpy_ = true;
    std::string ty = memoryType(t.kind);
    add(name, "GRADC_INLINE " + ty + " " + name + "(const void *p) {\n  " + ty +
                     " r;\n  memcpy(&r, p, sizeof r);\n  return r;\n}\n");
  }
  return name;
}

std::string CHelpers::storeBits(Ty t) {
  std::string name = "gradc_store_bits_" + suffix(t);
  if (define(name)) {
    memcpy_ = true;
    std::string ty = memoryType(t.kind);
    add(name, "GRADC_INLINE void " + name + "(void *p, " + ty + " a) {\n  memcpy(p, &a, sizeof a);\n}\n");
  }
  return name;
}

std::string CHelpers::prefetch() {
  if (define("GRADC_PREFETCH"))
    add("GRADC_PREFETCH", "#if defined(__GNUC__)\n#define GRADC_PREFETCH(p) __builtin_prefetch((p), 0, 3)\n#else\n"
                     "#define GRADC_PREFETCH(p) ((void)(p))\n#endif\n");
  return "GRADC_PREFETCH";
}

std::string CHelpers::noinline() {
  if (define("GRADC_NOINLINE"))
    add("GRADC_NOINLINE", "#if defined(__GNUC__)\n#define GRADC_NOINLINE __attribute__((noinline))\n#else\n"
                     "#define GRADC_NOINLINE\n#endif\n");
  return "GRADC_NOINLINE";
}

std::string CHelpers::definitions() const {
  // Always inlined where the compiler can: a helper is one operation, and a copy of it that
  // takes vectors as arguments would depend on how the target passes them.
  std::string s = "#ifndef GRADC_INLINE\n#if defined(__GNUC__)\n#define GRADC_INLINE static inline "
                  "__attribute__((always_inline))\n#else\n#define GRADC_INLINE static inline\n#endif\n#endif\n";
  if (memcpy_)
    s += "#include <string.h>\n";
  if (intrinsics_)
    s += "#if defined(__GNUC__) && defined(__SSE2__)\n#include <immintrin.h>\n#endif\n";
  if (lanes_) // helpers are static inline: how a target passes vectors to calls never matters
    s += "\n#if defined(__clang__)\n#if __has_warning(\"-Wpsabi\")\n#pragma clang diagnostic ignored \"-Wpsabi\"\n#endif\n"
         "#elif defined(__GNUC__)\n#pragma GCC diagnostic ignored \"-Wpsabi\"\n#endif\n";
  if (split_)
    s += "#if defined(__GNUC__) && !defined(__clang__) && defined(__AVX__) && !defined(__AVX512F__) && "
         "!defined(GRADC_SPLIT_VECTORS)\n#define GRADC_SPLIT_VECTORS 1\n#endif\n";
  for (const std::string &d : order_)
    s += "\n" + d;
  return s;
}

} // namespace gradc::cgen
