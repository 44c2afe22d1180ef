// ElementBuilder.h: what an op's lowering rule may emit: scalar arithmetic on one element
// (ElementBuilder) and index arithmetic for views (IndexMapper). The op table's rules
// call these; only ElementBuilder.cpp sees LLVM's IRBuilder.
#pragma once

#include "ir/Graph.h"

#include <cstdint>

namespace llvm {
class Value;
class IRBuilderBase;
class Module;
} // namespace llvm

namespace gradc {

using Val = llvm::Value *;

/// Math library functions compiled code calls (or LLVM expands inline).
enum class MathFn : uint8_t { Exp, Log, Sqrt, Sin, Cos, Tanh, Fabs, Pow };

/// Emits arithmetic on values of one compute type (f64, f32, or an integer type for
/// comparisons and selections). IEEE semantics: no fast-math flags.
class ElementBuilder {
public:
  ElementBuilder(llvm::IRBuilderBase &b, llvm::Module &m, DType type)
      : b_(b), m_(m), type_(type) {}
  DType type() const { return type_; }

  Val konst(double v);
  Val add(Val a, Val b);
  Val sub(Val a, Val b);
  Val mul(Val a, Val b);
  Val div(Val a, Val b);
  Val neg(Val a);
  Val math(MathFn fn, Val a, Val b = nullptr);
  // Ordered comparisons (false when either side is NaN), except ne, which is true then.
  Val lt(Val a, Val b);
  Val le(Val a, Val b);
  Val gt(Val a, Val b);
  Val ge(Val a, Val b);
  Val eq(Val a, Val b);
  Val ne(Val a, Val b);
  Val isNaN(Val a);
  Val select(Val cond, Val a, Val b);
  /// a + b that LLVM may reassociate (reductions add in a vectorized order).
  Val reduceAdd(Val a, Val b);
  /// IEEE maximum/minimum that propagate NaN (LLVM's llvm.maximum: vectorizable reductions).
  Val maximum(Val a, Val b);
  Val minimum(Val a, Val b);

private:
  Val compare(int fpred, int ipred, Val a, Val b);
  llvm::IRBuilderBase &b_;
  llvm::Module &m_;
  DType type_;
};

/// Index arithmetic (int64) for views: dims are run-time values or constants.
class IndexMapper {
public:
  IndexMapper(llvm::IRBuilderBase &b, const Graph &g, const std::vector<Val> &dimValues)
      : b_(b), g_(g), dims_(dimValues) {}
  const Graph &graph() const { return g_; }
  Val dim(const Dim &d);
  Val constant(int64_t v);
  Val add(Val a, Val b);

private:
  llvm::IRBuilderBase &b_;
  const Graph &g_;
  const std::vector<Val> &dims_;
};

} // namespace gradc
