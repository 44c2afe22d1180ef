// CMemoryHelpers.cpp: the C helpers of memory (CHelpers.h): loads and stores of vectors
// (whole, masked, streaming past the cache), loads and stores that reinterpret bits, and
// the prefetch macro.
#include "codegen/c/CHelpers.h"
#include "codegen/c/CVectorSpelling.h"

#include <string>

namespace gradc::cgen {

using loops::Kind;
using loops::Ty;

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
    // object's code does, where the target has them. A line written in pieces has nothing
    // between its pieces (a signal fence keeps clang's scheduler from moving loads in): on the
    // AVX2 AMD EPYC of BENCHMARKS.md a line's write-combining buffer is otherwise flushed half
    // full, and l2wx n = 4096 runs 4x slower.
    intrinsics_ = true;
    bool f64 = t.kind == Kind::F64;
    std::string pd = f64 ? "pd" : "ps", m512 = f64 ? "__m512d" : "__m512", m256 = f64 ? "__m256d" : "__m256",
                m128 = f64 ? "__m128d" : "__m128";
    auto pieces = [&](const std::string &reg, const std::string &fn, int count) {
      std::string fence = count > 1 ? "  __atomic_signal_fence(__ATOMIC_SEQ_CST);\n" : "";
      return "  " + reg + " r[" + std::to_string(count) + "];\n  int k;\n  memcpy(r, &a, sizeof a);\n" + fence +
             "  for (k = 0; k < " + std::to_string(count) + "; ++k)\n    " + fn + "((" + e + " *)p + k * " +
             std::to_string(t.lanes / count) + ", r[k]);\n" + fence;
    };
    addFunction(name, "void", {{"void *", "p", false}, {v, "a", true}},
                "#if defined(GRADC_SPLIT_VECTORS)\n  int k;\n  __atomic_signal_fence(__ATOMIC_SEQ_CST);\n  for (k = 0; k < 2; ++k)\n"
                "    _mm256_stream_" + pd + "((" + e + " *)p + k * " + std::to_string(t.lanes / 2) +
                    ", a.h[k]);\n  __atomic_signal_fence(__ATOMIC_SEQ_CST);\n" +
                "#elif defined(__GNUC__) && defined(__AVX512F__)\n" + pieces(m512, "_mm512_stream_" + pd, 1) +
                     "#elif defined(__GNUC__) && defined(__AVX__)\n" + pieces(m256, "_mm256_stream_" + pd, 2) +
                     "#elif defined(__GNUC__) && defined(__SSE2__)\n" + pieces(m128, "_mm_stream_" + pd, 4) +
                     "#else\n" + plain + "#endif\n");
  } else {
    addFunction(name, "void", {{"void *", "p", false}, {v, "a", true}}, plain);
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

} // namespace gradc::cgen
