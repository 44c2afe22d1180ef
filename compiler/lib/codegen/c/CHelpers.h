// CHelpers.h: how loop IR types and the operations C has no operator for are spelled in C99:
// vector types, lane-wise operations, NaN-propagating min/max, loads that reinterpret bits,
// streaming stores. A helper is a `static inline` function defined once per file, only if
// used. Under GCC and Clang a vector is their vector extension (arithmetic on it is one
// instruction per register); elsewhere a struct of lanes, with the same helpers as loops.
#pragma once

#include "loops/LoopIR.h"

#include <set>
#include <string>
#include <vector>

namespace gradc::cgen {

/// The C literal of a float or integer constant of type `t` (scalar).
std::string cLiteral(const loops::Expr &constant);
/// The C operator of a binary operation with one (" + ", " < ", " && "), else nullptr.
const char *cInfix(loops::Op op);

class CHelpers {
public:
  /// The C type of `t` in registers (a vector type is defined on first use).
  std::string type(loops::Ty t);
  /// The C element type of memory of kind `k`.
  static const char *memoryType(loops::Kind k);

  // Lane-wise operations of vector types; each returns the helper's name.
  std::string binary(loops::Op op, loops::Ty t);  // Add .. Max, And, Or (result t)
  std::string compare(loops::Op op, loops::Ty t); // t: the operands'; the result is a mask
  std::string unary(loops::Op op, loops::Ty t);   // Neg, Not, IsNaN
  std::string select(loops::Ty t);
  std::string fma(loops::Ty t);
  std::string math(loops::Math fn, loops::Ty t); // scalar or vector
  std::string cast(loops::Ty from, loops::Ty to);
  std::string splat(loops::Ty t);
  std::string ramp(loops::Ty t);
  std::string reduceAdd(loops::Ty t);
  std::string load(loops::Ty t, bool masked);
  std::string store(loops::Ty t, bool masked, bool streaming);
  // Scalars.
  std::string intMinMax(loops::Op op, loops::Ty t);
  /// A load or store of kind `k` through memory of another kind of the same size.
  std::string loadBits(loops::Ty t);
  std::string storeBits(loops::Ty t);
  /// Macros: a prefetch of an address (nothing where the compiler has none), a function
  /// attribute that keeps a chunk of long code a function of its own.
  std::string prefetch();
  std::string noinline();
  /// The attribute that aligns a variable to `bytes` (nothing where the compiler has none).
  std::string aligned(int64_t bytes);

  /// The definitions of everything used, in an order where each precedes its users.
  std::string definitions() const;

private:
  enum class GnuForm { Loop, Whole, Literal };
  bool define(const std::string &name);
  void add(const std::string &name, const std::string &text);
  struct Param {
    std::string type, name;
    bool vector;
  };
  void addFunction(const std::string &name, const std::string &result, const std::vector<Param> &params,
                   const std::string &body);
  std::string lanewise(const std::string &name, loops::Ty result, const std::vector<loops::Ty> &args,
                       const std::string &laneExpr, GnuForm form = GnuForm::Loop);
  /// Lane k of vector v of type t (a macro of t's spelling).
  std::string lane(loops::Ty t, const std::string &v, const std::string &k);
  std::string vectorTypedef(loops::Ty t);

  std::set<std::string> defined_;
  std::vector<std::string> order_; // definitions in order
  bool lanes_ = false, split_ = false, intrinsics_ = false, memcpy_ = false;
};

} // namespace gradc::cgen
