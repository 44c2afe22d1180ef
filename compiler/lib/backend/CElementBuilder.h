// CElementBuilder.h: the op table's element and index rules printed as C99. A CBody holds
// the lines of one C function; every computed value is a `const` temporary, so the C reads
// like the SSA the LLVM lowering emits, and temporaries nothing reads are dropped at the
// end (the emitted C compiles with -Wall -Wextra -Werror).
#pragma once

#include "backend/ElementBuilder.h"

#include <deque>
#include <string>
#include <vector>

namespace gradc {

/// The C type of a value in registers (masks are int) and in memory (masks are uint8_t).
const char *cRegisterType(DType t);
/// A C literal of dtype t: "0.5", "(float)0.1", "(-HUGE_VAL)", "NAN", "(int64_t)3".
std::string cLiteral(double v, DType t);

class CBody {
public:
  /// A C expression without side effects (an index, a dim, a literal, a variable) that
  /// reads the temporaries of `deps`.
  Val expr(std::string text, std::vector<Val> deps = {});
  /// `const T tN = text;` where text reads `deps`; returns tN.
  Val temp(DType t, const std::string &text, const std::vector<Val> &deps);
  /// The same for a C type that is not a dtype ("double *const", "char *const").
  Val temp(const std::string &ctype, const std::string &text, const std::vector<Val> &deps);
  /// `T tN = init;`, a variable set again with assign().
  Val var(DType t, Val init);
  void assign(Val var, Val v);
  /// A statement kept as written (a store, a return) that reads `deps`.
  void stmt(const std::string &text, const std::vector<Val> &deps = {});
  /// "head {" with the lines up to close() one level deeper.
  void open(const std::string &head, const std::vector<Val> &deps = {});
  void close();
  /// A new loop variable name.
  std::string loopVar() { return "i" + std::to_string(loops_++); }
  /// A new name for a local array.
  std::string arrayName() { return "v" + std::to_string(arrays_++); }

  const std::string &c(Val v) const;
  /// The lines, indented from one level, without the temporaries nothing reads.
  std::string finish() const;

private:
  struct CValue {
    std::string text;
    std::vector<int> temps; // the temporaries the text reads
  };
  struct Line {
    int depth;
    std::string text;
    int def; // the temporary the line sets, -1 for statements
    std::vector<int> uses;
  };
  const CValue &value(Val v) const { return *reinterpret_cast<const CValue *>(v); }
  Val make(std::string text, std::vector<int> temps);
  std::vector<int> tempsOf(const std::vector<Val> &deps) const;

  std::deque<CValue> values_; // stable addresses: handles point into it
  std::vector<Line> lines_;
  int depth_ = 1;
  int temps_ = 0;
  int loops_ = 0;
  int arrays_ = 0;
};

class CElementBuilder final : public ElementBuilder {
public:
  CElementBuilder(CBody &body, DType type) : ElementBuilder(type), c_(body) {}

  Val konst(double v) override;
  Val add(Val a, Val b) override { return infix(type_, a, " + ", b); }
  Val sub(Val a, Val b) override { return infix(type_, a, " - ", b); }
  Val mul(Val a, Val b) override { return infix(type_, a, " * ", b); }
  Val div(Val a, Val b) override { return infix(type_, a, " / ", b); }
  Val neg(Val a) override;
  Val math(MathFn fn, Val a, Val b = nullptr) override;
  Val lt(Val a, Val b) override { return infix(DType::Bool, a, " < ", b); }
  Val le(Val a, Val b) override { return infix(DType::Bool, a, " <= ", b); }
  Val gt(Val a, Val b) override { return infix(DType::Bool, a, " > ", b); }
  Val ge(Val a, Val b) override { return infix(DType::Bool, a, " >= ", b); }
  Val eq(Val a, Val b) override { return infix(DType::Bool, a, " == ", b); }
  Val ne(Val a, Val b) override { return infix(DType::Bool, a, " != ", b); }
  Val isNaN(Val a) override;
  Val select(Val cond, Val a, Val b) override;
  Val reduceAdd(Val a, Val b) override { return add(a, b); }
  Val maximum(Val a, Val b) override { return extreme(a, " > ", b); }
  Val minimum(Val a, Val b) override { return extreme(a, " < ", b); }

private:
  Val infix(DType result, Val a, const char *op, Val b);
  Val extreme(Val a, const char *op, Val b);
  CBody &c_;
};

class CIndexMapper final : public IndexMapper {
public:
  /// `dims[sym]` is the C expression of each dim (an argument or a literal).
  CIndexMapper(CBody &body, const Graph &g, const std::vector<Val> &dims)
      : IndexMapper(g), c_(body), dims_(dims) {}
  Val dim(const Dim &d) override;
  Val constant(int64_t v) override;
  Val add(Val a, Val b) override;

private:
  CBody &c_;
  const std::vector<Val> &dims_;
};

/// A C condition: whether `shape` has at most kMaxElements elements for `dims` (ir/Type.h's
/// rule, in generated code), its sizes being non-negative: K d0 d1 ... <= L tested as
/// d0 <= L/K && d1 <= L/K/d0 ..., so no product is formed that could overflow. "1" when the
/// sizes are known now and fit, "0" when they are known and do not.
std::string cShapeFits(CBody &c, const Graph &g, const std::vector<Val> &dims, const Shape &shape,
                       std::vector<Val> &deps);
/// The same from the C text of each size of `shape` (literal sizes as numbers).
std::string cShapeFitsText(const Shape &shape, const std::vector<std::string> &sizes);

/// Whether C text is an integer literal ("12", "(-3)"), and its value.
bool cIntLiteral(const std::string &text, int64_t &value);

/// Converts a value between dtypes as the LLVM lowering does (masks 0/1, NaN != 0 is true).
Val cConvert(CBody &c, Val v, DType from, DType to);

} // namespace gradc
