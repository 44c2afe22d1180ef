// CHelpers.cpp: the C text of vector types and helpers (CHelpers.h): literals, C types and
// vector typedefs, how each helper is defined once, in order, and the definitions' preamble.
// The helpers of operations are in COperationHelpers.cpp, those of memory in
// CMemoryHelpers.cpp.
#include "codegen/c/CHelpers.h"
#include "codegen/c/CVectorSpelling.h"

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

} // namespace

const char *laneType(Kind k) { return k == Kind::Bool ? "int32_t" : CHelpers::memoryType(k); }

std::string suffix(Ty t) {
  return std::string(shortName(t.kind)) + (t.isVector() ? "x" + std::to_string(t.lanes) : "");
}

const char *cInfix(loops::Op op) {
  switch (op) {
  case loops::Op::Add: return " + ";
  case loops::Op::Sub: return " - ";
  case loops::Op::Mul: return " * ";
  case loops::Op::Div: return " / ";
  case loops::Op::Rem: return " % ";
  case loops::Op::Lt: return " < ";
  case loops::Op::Le: return " <= ";
  case loops::Op::Gt: return " > ";
  case loops::Op::Ge: return " >= ";
  case loops::Op::Eq: return " == ";
  case loops::Op::Ne: return " != ";
  case loops::Op::And: return " && ";
  case loops::Op::Or: return " || ";
  default: return nullptr;
  }
}

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

std::string CHelpers::noinline() {
  if (define("GRADC_NOINLINE"))
    add("GRADC_NOINLINE", "#if defined(__GNUC__)\n#define GRADC_NOINLINE __attribute__((noinline))\n#else\n"
                     "#define GRADC_NOINLINE\n#endif\n");
  return "GRADC_NOINLINE";
}

std::string CHelpers::aligned(int64_t bytes) {
  if (define("GRADC_ALIGNED"))
    add("GRADC_ALIGNED", "#if defined(__GNUC__)\n#define GRADC_ALIGNED(n) __attribute__((aligned(n)))\n#else\n"
                         "#define GRADC_ALIGNED(n)\n#endif\n");
  return "GRADC_ALIGNED(" + std::to_string(bytes) + ")";
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
