// ElementRules.h: the op table's element and index rules (ir/ElementBuilder.h) applied
// to loop IR expressions: what the lowering calls to compute one element of an op.
#pragma once

#include "ir/ElementBuilder.h"
#include "loops/LoopIR.h"

#include <span>
#include <vector>

namespace gradc::loops {

/// Rule values are expressions: the handle holds the ExprId (plus one, so that no handle is null).
inline Val wrap(ExprId e) { return reinterpret_cast<Val>(static_cast<intptr_t>(e) + 1); }
inline ExprId unwrap(Val v) { return static_cast<ExprId>(reinterpret_cast<intptr_t>(v) - 1); }
std::vector<Val> wrapAll(std::span<const ExprId> es);

/// Arithmetic in one compute type, as expressions of `f`.
class ExprElementBuilder final : public ElementBuilder {
public:
  ExprElementBuilder(Func &f, DType type) : ElementBuilder(type), f_(f) {}

  Val konst(double v) override;
  Val add(Val a, Val b) override;
  Val sub(Val a, Val b) override;
  Val mul(Val a, Val b) override;
  Val div(Val a, Val b) override;
  Val neg(Val a) override;
  Val math(MathFn fn, Val a, Val b = nullptr) override;
  Val lt(Val a, Val b) override { return cmp(Op::Lt, a, b); }
  Val le(Val a, Val b) override { return cmp(Op::Le, a, b); }
  Val gt(Val a, Val b) override { return cmp(Op::Gt, a, b); }
  Val ge(Val a, Val b) override { return cmp(Op::Ge, a, b); }
  Val eq(Val a, Val b) override { return cmp(Op::Eq, a, b); }
  Val ne(Val a, Val b) override { return cmp(Op::Ne, a, b); }
  Val isNaN(Val a) override;
  Val select(Val cond, Val a, Val b) override;
  Val reduceAdd(Val a, Val b) override;
  Val maximum(Val a, Val b) override;
  Val minimum(Val a, Val b) override;

private:
  Val cmp(Op op, Val a, Val b);
  Func &f_;
};

/// Index arithmetic (I64) for views; `dims[sym]` is each dim's value.
class ExprIndexMapper final : public IndexMapper {
public:
  ExprIndexMapper(Func &f, const Graph &g, const std::vector<ExprId> &dims) : IndexMapper(g), f_(f), dims_(dims) {}
  Val dim(const Dim &d) override;
  Val constant(int64_t v) override;
  Val add(Val a, Val b) override;
  Val sub(Val a, Val b) override;

private:
  Func &f_;
  const std::vector<ExprId> &dims_;
};

/// A value converted between dtypes, as compiled code converts (masks 0/1, NaN != 0 is true).
ExprId convert(Func &f, ExprId v, DType from, DType to);

/// Whether `shape` has at most kMaxElements elements for `dims` (ir/Type.h's rule, in
/// generated code), its sizes being non-negative: K d0 d1 ... <= L for the literal part K,
/// tested as d0 <= L/K, d1 <= L/K/d0, ... (unsigned: a negative size does not fit), so that
/// no product is formed that could wrap. A zero size makes any shape fit.
ExprId shapeFits(Func &f, const Graph &g, const std::vector<ExprId> &dims, const Shape &shape);

} // namespace gradc::loops
