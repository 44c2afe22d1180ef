// ElementwiseOps.cpp: the scalar gates, applied elementwise to same-shaped operands.
// Each op's kernel and local gradient sit together; the math is in the comment.
#include "ir/OpTable.h"

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

bool arithmeticShape(const ShapeQuery &q, Type &out, std::string &error) {
  return sameShape(q, out, error, true);
}

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
double tieMaskOf(double a, double b) { return a > b ? 1.0 : (a == b ? 0.5 : 0.0); }

// Gives operand 0 the share tiemask(first, second) of the gradient and operand 1 the rest.
void routeToWinner(VjpContext &c, NodeId first, NodeId second) {
  NodeId share = c.mul(c.grad, c.bin(Op::TieMask, first, second));
  if (c.needs(0))
    c.give(0, share);
  if (c.needs(1))
    c.give(1, c.sub(c.grad, share));
}

} // namespace

void registerElementwiseOps(OpInfo *t) {
  auto unary = [&](Op op, double (*f)(double), VjpFn vjp) {
    OpInfo &i = t[int(op)];
    i.arity = 1;
    i.elementwise = true;
    i.shape = arithmeticShape;
    i.eval = evalElementwise<1>;
    i.scalar1 = f;
    i.vjp = vjp;
    i.noGradient = vjp == nullptr;
  };
  auto binary = [&](Op op, double (*f)(double, double), VjpFn vjp, ShapeRule shape) {
    OpInfo &i = t[int(op)];
    i.arity = 2;
    i.elementwise = true;
    i.shape = shape;
    i.eval = evalElementwise<2>;
    i.scalar2 = f;
    i.vjp = vjp;
    i.noGradient = vjp == nullptr;
  };

  // d/da -a = -1
  unary(Op::Neg, [](double a) { return -a; }, [](VjpContext &c) { c.give(0, c.neg(c.grad)); });
  // d/da exp(a) = exp(a)
  unary(Op::Exp, [](double a) { return std::exp(a); },
        [](VjpContext &c) { c.give(0, c.mul(c.grad, c.self)); });
  // d/da log(a) = 1/a
  unary(Op::Log, [](double a) { return std::log(a); },
        [](VjpContext &c) { c.give(0, c.div(c.grad, c.in(0))); });
  // d/da sqrt(a) = 1/(2 sqrt(a))
  unary(Op::Sqrt, [](double a) { return std::sqrt(a); }, [](VjpContext &c) {
    c.give(0, c.div(c.mul(c.konst(0.5, c.grad), c.grad), c.self));
  });
  // d/da sin(a) = cos(a)
  unary(Op::Sin, [](double a) { return std::sin(a); },
        [](VjpContext &c) { c.give(0, c.mul(c.grad, c.un(Op::Cos, c.in(0)))); });
  // d/da cos(a) = -sin(a)
  unary(Op::Cos, [](double a) { return std::cos(a); },
        [](VjpContext &c) { c.give(0, c.neg(c.mul(c.grad, c.un(Op::Sin, c.in(0))))); });
  // d/da tanh(a) = 1 - tanh(a)^2
  unary(Op::Tanh, [](double a) { return std::tanh(a); }, [](VjpContext &c) {
    c.give(0, c.mul(c.grad, c.sub(c.konst(1.0, c.self), c.mul(c.self, c.self))));
  });
  // d/da s(a) = s(a) s(-a): both factors keep full relative accuracy at either tail,
  // where s(a)(1 - s(a)) loses it as s -> 1.
  unary(Op::Sigmoid, sigmoidOf, [](VjpContext &c) {
    c.give(0, c.mul(c.grad, c.mul(c.self, c.un(Op::Sigmoid, c.neg(c.in(0))))));
  });
  // d/da relu(a) = 1 if a > 0 else 0 (0 at the kink, as PyTorch)
  unary(Op::Relu, reluOf, [](VjpContext &c) {
    NodeId positive = c.bin(Op::Gt, c.in(0), c.konst(0.0, c.in(0)));
    c.give(0, c.g.make(Op::Where, {positive, c.grad, c.konst(0.0, c.grad)}));
  });
  // d/da |a| = sign(a) (0 at the kink, as PyTorch)
  unary(Op::Abs, [](double a) { return std::fabs(a); },
        [](VjpContext &c) { c.give(0, c.mul(c.grad, c.un(Op::Sign, c.in(0)))); });
  unary(Op::Sign, signOf, nullptr);

  // add distributes: d/da (a + b) = 1, d/db = 1
  binary(Op::Add, [](double a, double b) { return a + b; },
         [](VjpContext &c) {
           c.give(0, c.grad);
           c.give(1, c.grad);
         },
         arithmeticShape);
  // d/da (a - b) = 1, d/db = -1
  binary(Op::Sub, [](double a, double b) { return a - b; },
         [](VjpContext &c) {
           c.give(0, c.grad);
           if (c.needs(1))
             c.give(1, c.neg(c.grad));
         },
         arithmeticShape);
  // mul switches and scales: d/da (a b) = b, d/db = a
  binary(Op::Mul, [](double a, double b) { return a * b; },
         [](VjpContext &c) {
           if (c.needs(0))
             c.give(0, c.mul(c.grad, c.in(1)));
           if (c.needs(1))
             c.give(1, c.mul(c.grad, c.in(0)));
         },
         arithmeticShape);
  // d/da (a / b) = 1/b, d/db = -a/b^2 = -(1/b)(a/b)
  binary(Op::Div, [](double a, double b) { return a / b; },
         [](VjpContext &c) {
           NodeId ga = c.div(c.grad, c.in(1));
           if (c.needs(0))
             c.give(0, ga);
           if (c.needs(1))
             c.give(1, c.neg(c.mul(ga, c.self)));
         },
         arithmeticShape);
  // d/da a^b = b a^(b-1), d/db a^b = a^b log(a)
  binary(Op::Pow, [](double a, double b) { return std::pow(a, b); },
         [](VjpContext &c) {
           if (c.needs(0)) {
             NodeId bm1 = c.sub(c.in(1), c.konst(1.0, c.in(1)));
             c.give(0, c.mul(c.grad, c.mul(c.in(1), c.bin(Op::Pow, c.in(0), bm1))));
           }
           if (c.needs(1))
             c.give(1, c.mul(c.grad, c.mul(c.self, c.un(Op::Log, c.in(0)))));
         },
         arithmeticShape);
  // max routes: the gradient goes to the larger input, split equally on a tie.
  // With m = tiemask(a, b) in {0, 1/2, 1}: da = g m and db = g - g m, exactly.
  binary(Op::Max, maxOf, [](VjpContext &c) { routeToWinner(c, c.in(0), c.in(1)); },
         arithmeticShape);
  // min routes to the smaller input, split equally on a tie
  binary(Op::Min, minOf, [](VjpContext &c) { routeToWinner(c, c.in(1), c.in(0)); },
         arithmeticShape);
  binary(Op::TieMask, tieMaskOf, nullptr, arithmeticShape);

  binary(Op::Lt, [](double a, double b) { return a < b ? 1.0 : 0.0; }, nullptr, compareShape);
  binary(Op::Le, [](double a, double b) { return a <= b ? 1.0 : 0.0; }, nullptr, compareShape);
  binary(Op::Gt, [](double a, double b) { return a > b ? 1.0 : 0.0; }, nullptr, compareShape);
  binary(Op::Ge, [](double a, double b) { return a >= b ? 1.0 : 0.0; }, nullptr, compareShape);
  binary(Op::Eq, [](double a, double b) { return a == b ? 1.0 : 0.0; }, nullptr, compareShape);
  binary(Op::Ne, [](double a, double b) { return a != b ? 1.0 : 0.0; }, nullptr, compareShape);

  // where routes: d/da where(c, a, b) = c, d/db = !c
  OpInfo &w = t[int(Op::Where)];
  w.arity = 3;
  w.elementwise = true;
  w.shape = whereShape;
  w.eval = evalElementwise<3>;
  w.scalar3 = [](double c, double a, double b) { return c != 0.0 ? a : b; };
  w.vjp = [](VjpContext &c) {
    NodeId zero = c.konst(0.0, c.grad);
    if (c.needs(1))
      c.give(1, c.g.make(Op::Where, {c.in(0), c.grad, zero}));
    if (c.needs(2))
      c.give(2, c.g.make(Op::Where, {c.in(0), zero, c.grad}));
  };
}

} // namespace gradc
