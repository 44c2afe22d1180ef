// CVectorSpelling.h: what the files of C helpers (CHelpers.cpp, COperationHelpers.cpp,
// CMemoryHelpers.cpp) share about spelling a type: the suffix of a helper's name, the C type
// of one lane, and whether a vector type is spelled as pieces. Internal to codegen/c.
#pragma once

#include "loops/LoopIR.h"

#include <string>

namespace gradc::cgen {

/// The suffix of the helpers of type t: its kind's short name, and its lanes for a vector
/// (f64, f64x8, b1x8).
std::string suffix(loops::Ty t);

// The type of one lane in registers (a mask lane is an int32_t: vector extensions need an
// integer type, and 0/1 fit).
const char *laneType(loops::Kind k);

// Where GCC has AVX but not AVX-512, a vector type wider than this is spelled as a struct of
// vectors of this size: GCC lowers wider generic vectors there through memory (a 6x8 tile of
// the matrix kernel ran 7.6x slower), while it keeps pairs of halves in registers, as LLVM
// splits the object's wide vectors. Elsewhere the vector extension's own type is used.
constexpr int kSplitBytes = 32;

/// Whether vector type t is spelled as pieces of kSplitBytes under GRADC_SPLIT_VECTORS.
inline bool splits(loops::Ty t) {
  return t.isVector() && t.lanes * loops::kindBytes(t.kind == loops::Kind::Bool ? loops::Kind::I32 : t.kind) > kSplitBytes;
}

/// The lanes of one piece of a split vector of t's kind.
inline int splitLanes(loops::Ty t) {
  return kSplitBytes / static_cast<int>(loops::kindBytes(t.kind == loops::Kind::Bool ? loops::Kind::I32 : t.kind));
}

} // namespace gradc::cgen
