// ElementRules.cpp: ElementBuilder and IndexMapper over loop IR expressions.
#include "loops/ElementRules.h"

namespace gradc::loops {

std::vector<Val> wrapAll(std::span<const ExprId> es) {
  std::vector<Val> out;
  out.reserve(es.size());
  for (ExprId e : es)
    out.push_back(wrap(e));
  return out;
}

Val ExprElementBuilder::konst(double v) { return wrap(f_.constant(registerTy(type_), v)); }
Val ExprElementBuilder::add(Val a, Val b) { return wrap(f_.add(unwrap(a), unwrap(b))); }
Val ExprElementBuilder::sub(Val a, Val b) { return wrap(f_.sub(unwrap(a), unwrap(b))); }
Val ExprElementBuilder::mul(Val a, Val b) { return wrap(f_.mul(unwrap(a), unwrap(b))); }
Val ExprElementBuilder::div(Val a, Val b) { return wrap(f_.div(unwrap(a), unwrap(b))); }
Val ExprElementBuilder::neg(Val a) { return wrap(f_.neg(unwrap(a))); }

Val ExprElementBuilder::math(MathFn fn, Val a, Val b) {
  return wrap(f_.math(fn, unwrap(a), b ? unwrap(b) : kNone));
}

Val ExprElementBuilder::cmp(Op op, Val a, Val b) { return wrap(f_.compare(op, unwrap(a), unwrap(b))); }
Val ExprElementBuilder::isNaN(Val a) { return wrap(f_.isNaN(unwrap(a))); }
Val ExprElementBuilder::select(Val c, Val a, Val b) { return wrap(f_.select(unwrap(c), unwrap(a), unwrap(b))); }
Val ExprElementBuilder::reduceAdd(Val a, Val b) { return wrap(f_.binary(Op::Add, unwrap(a), unwrap(b), kReassoc)); }
Val ExprElementBuilder::maximum(Val a, Val b) { return wrap(f_.math(Math::Maximum, unwrap(a), unwrap(b))); }
Val ExprElementBuilder::minimum(Val a, Val b) { return wrap(f_.math(Math::Minimum, unwrap(a), unwrap(b))); }

Val ExprIndexMapper::dim(const Dim &d) {
  if (d.isLiteral())
    return wrap(f_.i64(d.off));
  return wrap(f_.add(dims_[static_cast<size_t>(d.sym)], f_.i64(d.off)));
}
Val ExprIndexMapper::constant(int64_t v) { return wrap(f_.i64(v)); }
Val ExprIndexMapper::add(Val a, Val b) { return wrap(f_.add(unwrap(a), unwrap(b))); }
Val ExprIndexMapper::sub(Val a, Val b) { return wrap(f_.sub(unwrap(a), unwrap(b))); }

ExprId convert(Func &f, ExprId v, DType from, DType to) {
  if (from == to)
    return v;
  if (to == DType::Bool) // != 0 (a NaN is true)
    return f.compare(Op::Ne, v, f.constant(registerTy(from), 0));
  return f.cast(registerTy(to), v);
}

ExprId shapeFits(Func &f, const Graph &g, const std::vector<ExprId> &dims, const Shape &shape) {
  ExprIndexMapper im(f, g, dims);
  int64_t literal = literalElementCount(shape);
  if (literal == 0)
    return f.boolImm(true);
  ExprId room = f.u64(static_cast<uint64_t>(kMaxElements / literal));
  ExprId fits = f.boolImm(true), anyZero = f.boolImm(false);
  for (const Dim &d : shape) {
    if (d.isLiteral())
      continue;
    ExprId e = f.cast(kU64, unwrap(im.dim(d)));
    ExprId zero = f.compare(Op::Eq, e, f.u64(0));
    anyZero = f.logic(Op::Or, anyZero, zero);
    fits = f.logic(Op::And, fits, f.compare(Op::Le, e, room));
    room = f.div(room, f.select(zero, f.u64(1), e));
  }
  return f.logic(Op::Or, anyZero, fits);
}

} // namespace gradc::loops
