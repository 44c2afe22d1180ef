// ElementwiseOps.cpp: the scalar gates, applied elementwise to same-shaped operands.
// Each op's kernel and local gradient sit together; the math is in the comment.
#include "ir/ops/Elementwise.h"

#include "ir/ElementBuilder.h"

#include <cmath>
#include <limits>

namespace gradc {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int rank(DType t) {
  switch (t) {
  case DType::Bool:
    return 0;
  case DType::I32:
    return 1;
  case DType::I64:
    return 2;
  case DType::F32:
    return 3;
  case DType::F64:
    return 4;
  }
  return 4;
}

// Operands of one shape; the result takes the widest dtype, and arithmetic on
// integers or masks gives f64 (labels are not numbers to differentiate).
bool sameShape(const ShapeQuery &q, Type &out, std::string &error, bool arithmetic) {
  const Type &first = *q.in[0];
  DType widest = first.dtype;
  for (const Type *t : q.in) {
    if (t->shape != first.shape) {
      error = "operand shapes differ: " + q.dims.str(first.shape) + " and " + q.dims.str(t->shape);
      return false;
    }
    if (rank(t->dtype) > rank(widest))
      widest = t->dtype;
  }
  if (arithmetic && !isFloat(widest))
    widest = DType::F64;
  out = Type{widest, first.shape};
  return true;
}

} // namespace

bool arithmeticShape(const ShapeQuery &q, Type &out, std::string &error) {
  return sameShape(q, out, error, true);
}

namespace {

bool compareShape(const ShapeQuery &q, Type &out, std::string &error) {
  if (!sameShape(q, out, error, false))
    return false;
  out.dtype = DType::Bool;
  return true;
}

// where(c, a, b): c is a mask of the shape of a and b.
bool whereShape(const ShapeQuery &q, Type &out, std::string &error) {
  if (q.in[0]->dtype != DType::Bool) {
    error = "the condition of 'where' must be a comparison";
    return false;
  }
  if (!sameShape(q, out, error, false))
    return false;
  Type ab;
  ShapeQuery rest{q.in.subspan(1), q.attrs, q.dims};
  sameShape(rest, ab, error, false);
  out.dtype = ab.dtype == DType::Bool ? DType::F64 : ab.dtype;
  return true;
}

template <int N> void evalElementwise(EvalContext &c) {
  const OpInfo &info = opInfo(c.node.op);
  const Tensor &a = *c.in[0];
  c.out.shape = a.shape;
  c.out.data.resize(a.data.size());
  for (size_t i = 0; i < a.data.size(); ++i) {
    if constexpr (N == 1)
      c.out.data[i] = info.scalar1(a.data[i]);
    else if constexpr (N == 2)
      c.out.data[i] = info.scalar2(a.data[i], c.in[1]->data[i]);
    else
      c.out.data[i] = info.scalar3(a.data[i], c.in[1]->data[i], c.in[2]->data[i]);
  }
}

// max/min propagate NaN, as PyTorch does (fmax would drop it).
double maxOf(double a, double b) { return (a != a || b != b) ? kNaN : (a >= b ? a : b); }
double minOf(double a, double b) { return (a != a || b != b) ? kNaN : (a <= b ? a : b); }
double sigmoidOf(double x) {
  // Written so that neither branch overflows: exp of a non-positive number.
  if (x >= 0)
    return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}
double signOf(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : (x == 0 ? 0.0 : x); }
double reluOf(double x) { return x > 0 ? x : (x != x ? x : 0.0); }
// The share of a max's gradient that goes to `a`: all when it wins, half on a tie.
// NaN on either side: all of it (PyTorch gives the gradient to both inputs then).
double tieMaskOf(double a, double b) { return a < b ? 0.0 : (a == b ? 0.5 : 1.0); }

// Gives operand 0 the share tiemask(first, second) of the gradient and operand 1 the share
// tiemask(second, first): all to the winner, half each on a tie, all to both when either
// is NaN (as PyTorch's maximum/minimum). The shares are 0, 1/2 or 1, so they are exact.
void routeToWinner(VjpContext &c, NodeId first, NodeId second) {
  if (c.needs(0))
    c.give(0, c.mul(c.grad, c.bin(Op::TieMask, first, second)));
  if (c.needs(1))
    c.give(1, c.mul(c.grad, c.bin(Op::TieMask, second, first)));
}

// The forward counterpart: the tangent is tiemask(first, second) da + tiemask(second, first) db.
NodeId mixByWinner(JvpContext &c, NodeId first, NodeId second) {
  NodeId da = c.tangent(0), db = c.tangent(1);
  NodeId fromA = da == kNoNode ? kNoNode : c.mul(da, c.bin(Op::TieMask, first, second));
  NodeId fromB = db == kNoNode ? kNoNode : c.mul(db, c.bin(Op::TieMask, second, first));
  return c.add(fromA, fromB);
}

// The partial derivatives of a^b, with PyTorch's conventions where the formulas give NaN:
// d/da = b a^(b-1) is 0 where b == 0 (a^0 is 1 for every a, 0^0 included), and
// d/db = a^b log(a) is 0 where a == 0 and b >= 0 (the limit of a^b log a).
bool isConstant(const Graph &g, NodeId n, bool nonzero) {
  const Node &node = g.node(n);
  return node.op == Op::Const && (!nonzero || node.num != 0);
}
NodeId powDa(Graph &g, NodeId a, NodeId b) {
  NodeId bm1 = g.make(Op::Sub, {b, constantLike(g, 1.0, b)});
  NodeId d = g.make(Op::Mul, {b, g.make(Op::Pow, {a, bm1})});
  if (isConstant(g, b, true)) // x^2, x^0.5: no corner to mask
    return d;
  NodeId zero = constantLike(g, 0.0, d);
  return g.make(Op::Where, {g.make(Op::Eq, {b, constantLike(g, 0.0, b)}), zero, d});
}
NodeId powDb(Graph &g, NodeId out, NodeId a, NodeId b) {
  NodeId d = g.make(Op::Mul, {out, g.make(Op::Log, {a})});
  NodeId zero = constantLike(g, 0.0, d);
  NodeId atZero = g.make(Op::Where, {g.make(Op::Ge, {b, constantLike(g, 0.0, b)}), zero, d});
  return g.make(Op::Where, {g.make(Op::Eq, {a, constantLike(g, 0.0, a)}), atZero, d});
}

// The reverse and forward rules of every one-operand op: its local derivative applied
// to the upstream gradient or to the tangent.
void vjpUnary(VjpContext &c) {
  LocalDerivative d{c.g, c.self, c.in(0)};
  c.give(0, opInfo(c.g.node(c.self).op).local(d, c.grad));
}

NodeId jvpUnary(JvpContext &c) {
  if (c.tangent(0) == kNoNode)
    return kNoNode;
  LocalDerivative d{c.g, c.self, c.in(0)};
  return opInfo(c.g.node(c.self).op).local(d, c.tangent(0));
}

} // namespace

OpInfo elementwise(OpInfo i) {
  i.elementwise = true;
  i.eval = i.arity == 1 ? evalElementwise<1>
           : i.arity == 2 ? evalElementwise<2> : evalElementwise<3>;
  if (i.local) {
    i.vjp = vjpUnary;
    i.jvp = jvpUnary;
  }
  i.noGradient = i.vjp == nullptr;
  i.loop = LoopKind::Elementwise;
  return i;
}

namespace {

using D = LocalDerivative;
using B = ElementBuilder;
using In = std::span<Val const>;

// Ops of one operand whose element calls the C library (cost 20) or is a long instruction
// sequence (cost 4).
void registerMathOps(OpInfo *t) {
  // d exp(a) = exp(a) da
  t[int(Op::Exp)] = elementwise({
      .name = "exp", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::exp(a); },
      .local = [](D &d, NodeId v) { return d.mul(v, d.out); },
      .element = [](B &b, In x) { return b.math(MathFn::Exp, x[0]); },
      .cost = 20, // a call to the C library per element
  });
  // d log(a) = da / a
  t[int(Op::Log)] = elementwise({
      .name = "log", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::log(a); },
      .local = [](D &d, NodeId v) { return d.div(v, d.a); },
      .element = [](B &b, In x) { return b.math(MathFn::Log, x[0]); },
      .cost = 20, // a call to the C library per element
  });
  // d sqrt(a) = da / (2 sqrt(a))
  t[int(Op::Sqrt)] = elementwise({
      .name = "sqrt", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::sqrt(a); },
      .local = [](D &d, NodeId v) { return d.div(d.mul(d.konst(0.5), v), d.out); },
      .element = [](B &b, In x) { return b.math(MathFn::Sqrt, x[0]); },
      .cost = 4, // a long instruction sequence per element
  });
  // d sin(a) = cos(a) da
  t[int(Op::Sin)] = elementwise({
      .name = "sin", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::sin(a); },
      .local = [](D &d, NodeId v) { return d.mul(v, d.un(Op::Cos, d.a)); },
      .element = [](B &b, In x) { return b.math(MathFn::Sin, x[0]); },
      .cost = 20, // a call to the C library per element
  });
  // d cos(a) = -sin(a) da
  t[int(Op::Cos)] = elementwise({
      .name = "cos", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::cos(a); },
      .local = [](D &d, NodeId v) { return d.un(Op::Neg, d.mul(v, d.un(Op::Sin, d.a))); },
      .element = [](B &b, In x) { return b.math(MathFn::Cos, x[0]); },
      .cost = 20, // a call to the C library per element
  });
  // d tanh(a) = (1 - tanh(a)^2) da
  t[int(Op::Tanh)] = elementwise({
      .name = "tanh", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::tanh(a); },
      .local = [](D &d, NodeId v) {
        return d.mul(v, d.g.make(Op::Sub, {d.konst(1.0), d.mul(d.out, d.out)}));
      },
      .element = [](B &b, In x) { return b.math(MathFn::Tanh, x[0]); },
      .cost = 20, // a call to the C library per element
  });
  // d s(a) = s(a) s(-a) da: both factors keep full relative accuracy at either tail,
  // where s(a)(1 - s(a)) loses it as s -> 1.
  t[int(Op::Sigmoid)] = elementwise({
      .name = "sigmoid", .arity = 1, .shape = arithmeticShape, .scalar1 = sigmoidOf,
      .local = [](D &d, NodeId v) {
        return d.mul(v, d.mul(d.out, d.un(Op::Sigmoid, d.un(Op::Neg, d.a))));
      },
      .element = [](B &b, In x) {
        // One exp of a non-positive number, as sigmoidOf:
        // e = exp(-|x|); x >= 0 ? 1/(1+e) : e/(1+e)
        Val e = b.math(MathFn::Exp, b.neg(b.math(MathFn::Fabs, x[0])));
        Val onePlus = b.add(b.konst(1.0), e);
        return b.select(b.ge(x[0], b.konst(0.0)), b.div(b.konst(1.0), onePlus), b.div(e, onePlus));
      },
      .cost = 20, // a call to the C library per element
  });
}

// Ops of one operand that are a few simple instructions per element.
void registerSimpleUnaryOps(OpInfo *t) {
  // d -a = -da
  t[int(Op::Neg)] = elementwise({
      .name = "neg", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return -a; },
      .local = [](D &d, NodeId v) { return d.un(Op::Neg, v); },
      .element = [](B &b, In x) { return b.neg(x[0]); },
      .cost = 1,
  });
  // d relu(a) = da where a > 0, else 0 (0 at the kink, as PyTorch)
  t[int(Op::Relu)] = elementwise({
      .name = "relu", .arity = 1, .shape = arithmeticShape, .scalar1 = reluOf,
      .local = [](D &d, NodeId v) { // passes where !(a <= 0): NaN too, as PyTorch
        NodeId blocked = d.g.make(Op::Le, {d.a, d.konst(0.0)});
        return d.g.make(Op::Where, {blocked, d.konst(0.0), v});
      },
      .element = [](B &b, In x) { // x when x > 0 or NaN, else 0
        return b.select(b.le(x[0], b.konst(0.0)), b.konst(0.0), x[0]);
      },
      .cost = 1,
  });
  // d |a| = sign(a) da (0 at the kink, as PyTorch)
  t[int(Op::Abs)] = elementwise({
      .name = "abs", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return std::fabs(a); },
      .local = [](D &d, NodeId v) { return d.mul(v, d.un(Op::Sign, d.a)); },
      .element = [](B &b, In x) { return b.math(MathFn::Fabs, x[0]); },
      .cost = 1,
  });
  // sign: piecewise constant, no gradient
  t[int(Op::Sign)] = elementwise({
      .name = "sign", .arity = 1, .shape = arithmeticShape, .scalar1 = signOf,
      .element = [](B &b, In x) { // 1, -1, 0 for either zero, NaN stays
        Val zeroOrNaN = b.select(b.eq(x[0], b.konst(0.0)), b.konst(0.0), x[0]);
        return b.select(b.gt(x[0], b.konst(0.0)), b.konst(1.0),
                        b.select(b.lt(x[0], b.konst(0.0)), b.konst(-1.0), zeroOrNaN));
      },
      .cost = 1,
  });
  // detach: the value, with no gradient (d detach(a) = 0)
  t[int(Op::Detach)] = elementwise({
      .name = "detach", .arity = 1, .shape = arithmeticShape,
      .scalar1 = [](double a) { return a; },
      .element = [](B &, In x) { return x[0]; },
      .cost = 1,
  });
}

// add, sub, mul, div and pow.
void registerArithmeticOps(OpInfo *t) {
  // add distributes: d (a + b) = da + db
  t[int(Op::Add)] = elementwise({
      .name = "add", .arity = 2, .shape = arithmeticShape,
      .vjp = [](VjpContext &c) {
        c.give(0, c.grad);
        c.give(1, c.grad);
      },
      .scalar2 = [](double a, double b) { return a + b; },
      .jvp = [](JvpContext &c) { return c.add(c.tangent(0), c.tangent(1)); },
      .element = [](B &b, In x) { return b.add(x[0], x[1]); },
      .cost = 1,
  });
  // d (a - b) = da - db
  t[int(Op::Sub)] = elementwise({
      .name = "sub", .arity = 2, .shape = arithmeticShape,
      .vjp = [](VjpContext &c) {
        c.give(0, c.grad);
        if (c.needs(1))
          c.give(1, c.neg(c.grad));
      },
      .scalar2 = [](double a, double b) { return a - b; },
      .jvp = [](JvpContext &c) { return c.sub(c.tangent(0), c.tangent(1)); },
      .element = [](B &b, In x) { return b.sub(x[0], x[1]); },
      .cost = 1,
  });
  // mul switches and scales: d (a b) = b da + a db
  t[int(Op::Mul)] = elementwise({
      .name = "mul", .arity = 2, .shape = arithmeticShape,
      .vjp = [](VjpContext &c) {
        if (c.needs(0))
          c.give(0, c.mul(c.grad, c.in(1)));
        if (c.needs(1))
          c.give(1, c.mul(c.grad, c.in(0)));
      },
      .scalar2 = [](double a, double b) { return a * b; },
      .jvp = [](JvpContext &c) {
        return c.add(c.mul(c.tangent(0), c.in(1)), c.mul(c.in(0), c.tangent(1)));
      },
      .element = [](B &b, In x) { return b.mul(x[0], x[1]); },
      .cost = 1,
  });
  // d (a / b) = da / b - (a / b)(db / b)
  t[int(Op::Div)] = elementwise({
      .name = "div", .arity = 2, .shape = arithmeticShape,
      .vjp = [](VjpContext &c) {
        NodeId ga = c.div(c.grad, c.in(1));
        if (c.needs(0))
          c.give(0, ga);
        if (c.needs(1))
          c.give(1, c.neg(c.mul(ga, c.self)));
      },
      .scalar2 = [](double a, double b) { return a / b; },
      .jvp = [](JvpContext &c) {
        return c.div(c.sub(c.tangent(0), c.mul(c.self, c.tangent(1))), c.in(1));
      },
      .element = [](B &b, In x) { return b.div(x[0], x[1]); },
      .cost = 4, // a long instruction sequence per element
  });
  // d a^b = b a^(b-1) da + a^b log(a) db
  t[int(Op::Pow)] = elementwise({
      .name = "pow", .arity = 2, .shape = arithmeticShape,
      .vjp = [](VjpContext &c) {
        if (c.needs(0))
          c.give(0, c.mul(c.grad, powDa(c.g, c.in(0), c.in(1))));
        if (c.needs(1))
          c.give(1, c.mul(c.grad, powDb(c.g, c.self, c.in(0), c.in(1))));
      },
      .scalar2 = [](double a, double b) { return std::pow(a, b); },
      .jvp = [](JvpContext &c) {
        NodeId da = kNoNode, db = kNoNode;
        if (c.tangent(0) != kNoNode)
          da = c.mul(c.tangent(0), powDa(c.g, c.in(0), c.in(1)));
        if (c.tangent(1) != kNoNode)
          db = c.mul(c.tangent(1), powDb(c.g, c.self, c.in(0), c.in(1)));
        return c.add(da, db);
      },
      .element = [](B &b, In x) { return b.math(MathFn::Pow, x[0], x[1]); },
      .cost = 20, // a call to the C library per element
  });
}

// max, min and where route the gradient; tiemask is the share each side gets.
void registerSelectionOps(OpInfo *t) {
  // max routes: the gradient goes to the larger input, split equally on a tie.
  // With m = tiemask(a, b) in {0, 1/2, 1}: da = g m and db = g - g m, exactly.
  t[int(Op::Max)] = elementwise({
      .name = "max", .arity = 2, .shape = arithmeticShape,
      .vjp = [](VjpContext &c) { routeToWinner(c, c.in(0), c.in(1)); },
      .scalar2 = maxOf,
      .jvp = [](JvpContext &c) { return mixByWinner(c, c.in(0), c.in(1)); },
      .element = [](B &b, In x) { // NaN if either is NaN, else a >= b ? a : b
        Val pick = b.select(b.ge(x[0], x[1]), x[0], x[1]);
        return b.select(b.isNaN(x[0]), x[0], b.select(b.isNaN(x[1]), x[1], pick));
      },
      .cost = 1,
  });
  // min routes to the smaller input, split equally on a tie
  t[int(Op::Min)] = elementwise({
      .name = "min", .arity = 2, .shape = arithmeticShape,
      .vjp = [](VjpContext &c) { routeToWinner(c, c.in(1), c.in(0)); },
      .scalar2 = minOf,
      .jvp = [](JvpContext &c) { return mixByWinner(c, c.in(1), c.in(0)); },
      .element = [](B &b, In x) { // NaN if either is NaN, else a <= b ? a : b
        Val pick = b.select(b.le(x[0], x[1]), x[0], x[1]);
        return b.select(b.isNaN(x[0]), x[0], b.select(b.isNaN(x[1]), x[1], pick));
      },
      .cost = 1,
  });
  // tiemask: piecewise constant, no gradient
  t[int(Op::TieMask)] = elementwise({
      .name = "tiemask", .arity = 2, .shape = arithmeticShape, .scalar2 = tieMaskOf,
      .element = [](B &b, In x) { // 0 when a < b, 1/2 on a tie, else (a > b, or a NaN) 1
        return b.select(b.lt(x[0], x[1]), b.konst(0.0),
                        b.select(b.eq(x[0], x[1]), b.konst(0.5), b.konst(1.0)));
      },
      .cost = 1,
  });
  // where routes: d where(c, a, b) = where(c, da, db)
  t[int(Op::Where)] = elementwise({
      .name = "where", .arity = 3, .shape = whereShape,
      .vjp = [](VjpContext &c) {
        NodeId zero = c.konst(0.0, c.grad);
        if (c.needs(1))
          c.give(1, c.g.make(Op::Where, {c.in(0), c.grad, zero}));
        if (c.needs(2))
          c.give(2, c.g.make(Op::Where, {c.in(0), zero, c.grad}));
      },
      .scalar3 = [](double c, double a, double b) { return c != 0.0 ? a : b; },
      .jvp = [](JvpContext &c) {
        if (c.tangent(1) == kNoNode && c.tangent(2) == kNoNode)
          return kNoNode;
        NodeId zero = c.konst(0.0, c.self);
        NodeId ta = c.tangent(1) == kNoNode ? zero : c.tangent(1);
        NodeId tb = c.tangent(2) == kNoNode ? zero : c.tangent(2);
        return c.g.make(Op::Where, {c.in(0), ta, tb});
      },
      .element = [](B &b, In x) { return b.select(x[0], x[1], x[2]); },
      .cost = 1,
  });
}

// Comparisons give masks (bool results): piecewise constant, so no gradient.
void registerComparisonOps(OpInfo *t) {
  t[int(Op::Lt)] = elementwise({
      .name = "lt", .arity = 2, .shape = compareShape,
      .scalar2 = [](double a, double b) { return a < b ? 1.0 : 0.0; },
      .element = [](B &b, In x) { return b.lt(x[0], x[1]); }, .cost = 1,
  });
  t[int(Op::Le)] = elementwise({
      .name = "le", .arity = 2, .shape = compareShape,
      .scalar2 = [](double a, double b) { return a <= b ? 1.0 : 0.0; },
      .element = [](B &b, In x) { return b.le(x[0], x[1]); }, .cost = 1,
  });
  t[int(Op::Gt)] = elementwise({
      .name = "gt", .arity = 2, .shape = compareShape,
      .scalar2 = [](double a, double b) { return a > b ? 1.0 : 0.0; },
      .element = [](B &b, In x) { return b.gt(x[0], x[1]); }, .cost = 1,
  });
  t[int(Op::Ge)] = elementwise({
      .name = "ge", .arity = 2, .shape = compareShape,
      .scalar2 = [](double a, double b) { return a >= b ? 1.0 : 0.0; },
      .element = [](B &b, In x) { return b.ge(x[0], x[1]); }, .cost = 1,
  });
  t[int(Op::Eq)] = elementwise({
      .name = "eq", .arity = 2, .shape = compareShape,
      .scalar2 = [](double a, double b) { return a == b ? 1.0 : 0.0; },
      .element = [](B &b, In x) { return b.eq(x[0], x[1]); }, .cost = 1,
  });
  t[int(Op::Ne)] = elementwise({
      .name = "ne", .arity = 2, .shape = compareShape,
      .scalar2 = [](double a, double b) { return a != b ? 1.0 : 0.0; },
      .element = [](B &b, In x) { return b.ne(x[0], x[1]); }, .cost = 1,
  });
}

} // namespace

void registerElementwiseOps(OpInfo *t) {
  registerMathOps(t);
  registerSimpleUnaryOps(t);
  registerArithmeticOps(t);
  registerSelectionOps(t);
  registerComparisonOps(t);
}

} // namespace gradc
