// MathLibraryOps.cpp: the math library beyond the lecture's gates (log1p ... hypot), each
// op's evaluation, local derivative and element together. Derivatives follow PyTorch's
// formulas, so the values at domain edges agree with it (docs/NUMERICS.md).
#include "ir/ops/Elementwise.h"

#include "ir/ElementBuilder.h"
#include "ir/ops/SpecialFunctions.h"

#include <cmath>
#include <numbers>

namespace gradc {

namespace {

using D = LocalDerivative;
using B = ElementBuilder;
using In = std::span<Val const>;

constexpr double kTwoOverSqrtPi = 2.0 / 1.7724538509055160273; // 2 / sqrt(pi)
constexpr double kSoftplusThreshold = 20; // above it softplus(x) is x (PyTorch's threshold)

NodeId add(D &d, NodeId x, NodeId y) { return d.g.make(Op::Add, {x, y}); }
NodeId sub(D &d, NodeId x, NodeId y) { return d.g.make(Op::Sub, {x, y}); }
NodeId square(D &d, NodeId x) { return d.mul(x, x); }

double digammaScalar(double x) {
  ScalarArith a;
  return digammaOf(a, x);
}
double trigammaScalar(double x) {
  ScalarArith a;
  return trigammaOf(a, x);
}
double softplusScalar(double x) { return x > kSoftplusThreshold ? x : std::log1p(std::exp(x)); }

#define GRADC_ELEMENT(fn) [](B &b, In x) { return b.math(MathFn::fn, x[0]); }

// Ops whose derivative is another elementary function of the operand or the result.
void registerElementaryOps(OpInfo *t) {
  // d log1p(a) = da / (1 + a)
  t[int(Op::Log1p)] = elementwise({.name = "log1p", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::log1p(a); },
      .local = [](D &d, NodeId v) { return d.div(v, add(d, d.konst(1.0), d.a)); },
      .element = GRADC_ELEMENT(Log1p), .cost = 20});
  // d expm1(a) = (expm1(a) + 1) da
  t[int(Op::Expm1)] = elementwise({.name = "expm1", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::expm1(a); },
      .local = [](D &d, NodeId v) { return d.mul(v, add(d, d.out, d.konst(1.0))); },
      .element = GRADC_ELEMENT(Expm1), .cost = 20});
  // d erf(a) = 2/sqrt(pi) exp(-a^2) da
  t[int(Op::Erf)] = elementwise({.name = "erf", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::erf(a); },
      .local = [](D &d, NodeId v) {
        return d.mul(v, d.mul(d.konst(kTwoOverSqrtPi), d.un(Op::Exp, d.un(Op::Neg, square(d, d.a)))));
      },
      .element = GRADC_ELEMENT(Erf), .cost = 20});
  // d erfc(a) = -2/sqrt(pi) exp(-a^2) da
  t[int(Op::Erfc)] = elementwise({.name = "erfc", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::erfc(a); },
      .local = [](D &d, NodeId v) {
        return d.mul(v, d.mul(d.konst(-kTwoOverSqrtPi), d.un(Op::Exp, d.un(Op::Neg, square(d, d.a)))));
      },
      .element = GRADC_ELEMENT(Erfc), .cost = 20});
  // d tan(a) = (1 + tan(a)^2) da
  t[int(Op::Tan)] = elementwise({.name = "tan", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::tan(a); },
      .local = [](D &d, NodeId v) { return d.mul(v, add(d, d.konst(1.0), square(d, d.out))); },
      .element = GRADC_ELEMENT(Tan), .cost = 20});
  // d asin(a) = da / sqrt(1 - a^2)
  t[int(Op::Asin)] = elementwise({.name = "asin", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::asin(a); },
      .local = [](D &d, NodeId v) { return d.div(v, d.un(Op::Sqrt, sub(d, d.konst(1.0), square(d, d.a)))); },
      .element = GRADC_ELEMENT(Asin), .cost = 20});
  // d acos(a) = -da / sqrt(1 - a^2)
  t[int(Op::Acos)] = elementwise({.name = "acos", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::acos(a); },
      .local = [](D &d, NodeId v) {
        return d.un(Op::Neg, d.div(v, d.un(Op::Sqrt, sub(d, d.konst(1.0), square(d, d.a)))));
      },
      .element = GRADC_ELEMENT(Acos), .cost = 20});
  // d atan(a) = da / (1 + a^2)
  t[int(Op::Atan)] = elementwise({.name = "atan", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::atan(a); },
      .local = [](D &d, NodeId v) { return d.div(v, add(d, d.konst(1.0), square(d, d.a))); },
      .element = GRADC_ELEMENT(Atan), .cost = 20});
  // d sinh(a) = cosh(a) da
  t[int(Op::Sinh)] = elementwise({.name = "sinh", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::sinh(a); },
      .local = [](D &d, NodeId v) { return d.mul(v, d.un(Op::Cosh, d.a)); },
      .element = GRADC_ELEMENT(Sinh), .cost = 20});
  // d cosh(a) = sinh(a) da
  t[int(Op::Cosh)] = elementwise({.name = "cosh", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::cosh(a); },
      .local = [](D &d, NodeId v) { return d.mul(v, d.un(Op::Sinh, d.a)); },
      .element = GRADC_ELEMENT(Cosh), .cost = 20});
  // d log2(a) = da / (a ln 2)
  t[int(Op::Log2)] = elementwise({.name = "log2", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::log2(a); },
      .local = [](D &d, NodeId v) { return d.div(v, d.mul(d.a, d.konst(std::numbers::ln2))); },
      .element = GRADC_ELEMENT(Log2), .cost = 20});
  // d log10(a) = da / (a ln 10)
  t[int(Op::Log10)] = elementwise({.name = "log10", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::log10(a); },
      .local = [](D &d, NodeId v) { return d.div(v, d.mul(d.a, d.konst(std::numbers::ln10))); },
      .element = GRADC_ELEMENT(Log10), .cost = 20});
  // d exp2(a) = exp2(a) ln 2 da
  t[int(Op::Exp2)] = elementwise({.name = "exp2", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::exp2(a); },
      .local = [](D &d, NodeId v) { return d.mul(v, d.mul(d.out, d.konst(std::numbers::ln2))); },
      .element = GRADC_ELEMENT(Exp2), .cost = 20});
  // softplus(a) = log(1 + exp(a)), a itself above the threshold; d = sigmoid(a) da there below,
  // da above (PyTorch's softplus with beta 1 and threshold 20).
  t[int(Op::Softplus)] = elementwise({.name = "softplus", .arity = 1, .shape = arithmeticShape,
      .scalar1 = softplusScalar,
      .local = [](D &d, NodeId v) {
        NodeId above = d.g.make(Op::Gt, {d.a, d.konst(kSoftplusThreshold)});
        return d.g.make(Op::Where, {above, v, d.mul(v, d.un(Op::Sigmoid, d.a))});
      },
      .element = [](B &b, In x) {
        Val below = b.math(MathFn::Log1p, b.math(MathFn::Exp, x[0]));
        return b.select(b.gt(x[0], b.konst(kSoftplusThreshold)), x[0], below);
      },
      .cost = 40});
}

// The gamma family: lgamma from the C library, digamma and trigamma generated
// (SpecialFunctions.h), each the derivative of the one before.
void registerGammaOps(OpInfo *t) {
  // d lgamma(a) = digamma(a) da
  t[int(Op::Lgamma)] = elementwise({.name = "lgamma", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::lgamma(a); },
      .local = [](D &d, NodeId v) { return d.mul(v, d.un(Op::Digamma, d.a)); },
      .element = GRADC_ELEMENT(Lgamma), .cost = 20});
  // d digamma(a) = trigamma(a) da
  t[int(Op::Digamma)] = elementwise({.name = "digamma", .arity = 1, .shape = arithmeticShape,
      .scalar1 = digammaScalar,
      .local = [](D &d, NodeId v) { return d.mul(v, d.un(Op::Trigamma, d.a)); },
      .element = [](B &b, In x) { return digammaOf(b, x[0]); }, .cost = 80});
  // trigamma: the gradient of a gradient (no source spelling). Its own derivative,
  // polygamma(2), is not there yet: differentiating it is a compiler error, never a silent 0.
  t[int(Op::Trigamma)] = elementwise({.name = "trigamma", .arity = 1, .shape = arithmeticShape,
      .scalar1 = trigammaScalar,
      .local = [](D &, NodeId) -> NodeId { internalError("trigamma has no derivative yet"); },
      .element = [](B &b, In x) { return trigammaOf(b, x[0]); }, .cost = 80});
}

// Rounding: piecewise constant, so no gradient (PyTorch's is zero). round is to nearest,
// ties to even (as PyTorch's).
void registerRoundingOps(OpInfo *t) {
  t[int(Op::Floor)] = elementwise({.name = "floor", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::floor(a); }, .element = GRADC_ELEMENT(Floor), .cost = 1});
  t[int(Op::Ceil)] = elementwise({.name = "ceil", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::ceil(a); }, .element = GRADC_ELEMENT(Ceil), .cost = 1});
  t[int(Op::Round)] = elementwise({.name = "round", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::nearbyint(a); }, .element = GRADC_ELEMENT(Nearbyint), .cost = 1});
}

#undef GRADC_ELEMENT

// Two operands: atan2(y, x) and hypot(a, b).
void registerTwoOperandOps(OpInfo *t) {
  // d atan2(y, x) = (x dy - y dx) / (x^2 + y^2)
  t[int(Op::Atan2)] = elementwise({.name = "atan2", .arity = 2, .shape = arithmeticShape,
      .vjp = [](VjpContext &c) {
        NodeId r = c.div(c.grad, c.g.make(Op::Add, {c.mul(c.in(0), c.in(0)), c.mul(c.in(1), c.in(1))}));
        if (c.needs(0))
          c.give(0, c.mul(r, c.in(1)));
        if (c.needs(1))
          c.give(1, c.neg(c.mul(r, c.in(0))));
      },
      .scalar2 = [](double y, double x) { return std::atan2(y, x); },
      .jvp = [](JvpContext &c) {
        NodeId dy = c.tangent(0) == kNoNode ? kNoNode : c.mul(c.tangent(0), c.in(1));
        NodeId dx = c.tangent(1) == kNoNode ? kNoNode : c.mul(c.tangent(1), c.in(0));
        NodeId num = c.sub(dy, dx);
        return c.div(num, c.g.make(Op::Add, {c.mul(c.in(0), c.in(0)), c.mul(c.in(1), c.in(1))}));
      },
      .element = [](B &b, In x) { return b.math(MathFn::Atan2, x[0], x[1]); }, .cost = 20});
  // d hypot(a, b) = (a da + b db) / hypot(a, b)
  t[int(Op::Hypot)] = elementwise({.name = "hypot", .arity = 2, .shape = arithmeticShape,
      .vjp = [](VjpContext &c) {
        NodeId r = c.div(c.grad, c.self);
        if (c.needs(0))
          c.give(0, c.mul(r, c.in(0)));
        if (c.needs(1))
          c.give(1, c.mul(r, c.in(1)));
      },
      .scalar2 = [](double a, double b) { return std::hypot(a, b); },
      .jvp = [](JvpContext &c) {
        NodeId da = c.tangent(0) == kNoNode ? kNoNode : c.mul(c.tangent(0), c.in(0));
        NodeId db = c.tangent(1) == kNoNode ? kNoNode : c.mul(c.tangent(1), c.in(1));
        return c.div(c.add(da, db), c.self);
      },
      .element = [](B &b, In x) { return b.math(MathFn::Hypot, x[0], x[1]); }, .cost = 20});
}

} // namespace

void registerMathLibraryOps(OpInfo *t) {
  registerElementaryOps(t);
  registerGammaOps(t);
  registerRoundingOps(t);
  registerTwoOperandOps(t);
}

} // namespace gradc
