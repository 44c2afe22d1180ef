// ElementBuilder.h: what an op's lowering rule may emit: scalar arithmetic on one element
// (ElementBuilder) and index arithmetic for views (IndexMapper). The op table's rules are
// written against these interfaces once; loops/ElementRules.h implements them with loop IR
// expressions, which both code generators print.
#pragma once

#include "ir/Graph.h"
#include "ir/MathFunctions.h"

#include <cstdint>

namespace gradc {

/// A value a rule computes: an LLVM value or a C expression, opaque to the rules.
struct ValueHandle;
using Val = ValueHandle *;


/// Emits arithmetic on values of one compute type (f64, f32, or an integer type for
/// comparisons and selections). IEEE semantics: no fast-math flags.
class ElementBuilder {
public:
  explicit ElementBuilder(DType type) : type_(type) {}
  virtual ~ElementBuilder() = default;
  DType type() const { return type_; }

  virtual Val konst(double v) = 0;
  virtual Val add(Val a, Val b) = 0;
  virtual Val sub(Val a, Val b) = 0;
  virtual Val mul(Val a, Val b) = 0;
  virtual Val div(Val a, Val b) = 0;
  virtual Val neg(Val a) = 0;
  virtual Val math(MathFn fn, Val a, Val b = nullptr) = 0;
  // Ordered comparisons (false when either side is NaN), except ne, which is true then.
  virtual Val lt(Val a, Val b) = 0;
  virtual Val le(Val a, Val b) = 0;
  virtual Val gt(Val a, Val b) = 0;
  virtual Val ge(Val a, Val b) = 0;
  virtual Val eq(Val a, Val b) = 0;
  virtual Val ne(Val a, Val b) = 0;
  virtual Val isNaN(Val a) = 0;
  virtual Val select(Val cond, Val a, Val b) = 0;
  /// a + b that the backend may reassociate (reductions add in a vectorized order).
  virtual Val reduceAdd(Val a, Val b) = 0;
  /// IEEE maximum/minimum that propagate NaN.
  virtual Val maximum(Val a, Val b) = 0;
  virtual Val minimum(Val a, Val b) = 0;

protected:
  DType type_;
};

/// Index arithmetic (int64) for views: dims are run-time values or constants.
class IndexMapper {
public:
  explicit IndexMapper(const Graph &g) : g_(g) {}
  virtual ~IndexMapper() = default;
  const Graph &graph() const { return g_; }
  virtual Val dim(const Dim &d) = 0;
  virtual Val constant(int64_t v) = 0;
  virtual Val add(Val a, Val b) = 0;
  virtual Val sub(Val a, Val b) = 0;

private:
  const Graph &g_;
};

} // namespace gradc
