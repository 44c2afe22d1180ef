// LoopIRExpressions.cpp: the checked factories of the loop IR's expressions, which fold
// integer constants as they are made. A type error here is a bug in the lowering that called
// them, reported as an internal error.
#include "loops/LoopIR.h"

#include <algorithm>
#include <bit>
#include <cstdint>

namespace gradc::loops {

ExprId Func::intImm(Ty t, int64_t v) {
  if (!(t.isInt() || t.kind == Kind::Bool) || t.isVector())
    bad("an integer constant of a non-integer type");
  if (t.kind == Kind::I32)
    v = static_cast<int32_t>(v);
  if (t.kind == Kind::I8)
    v = static_cast<int8_t>(v);
  if (t.kind == Kind::Bool)
    v = v != 0;
  return make({Op::Int, t, 0, kNone, v, {}});
}

ExprId Func::nullPtr() { return make({Op::Int, kPtr, 0, kNone, 0, {}}); }

ExprId Func::floatImm(Ty t, double v) {
  if (!t.isFloat() || t.isVector())
    bad("a float constant of a non-float type");
  if (t.kind == Kind::F32)
    v = static_cast<float>(v);
  return make({Op::Float, t, 0, kNone, std::bit_cast<int64_t>(v), {}});
}

ExprId Func::constant(Ty t, double v) {
  if (t.isFloat())
    return floatImm(t, v);
  if (t.kind == Kind::Bool)
    return boolImm(v != 0);
  return intImm(t, static_cast<int64_t>(v));
}

ExprId Func::arg(int32_t k) {
  if (k < 0 || static_cast<size_t>(k) >= params.size())
    bad("argument " + std::to_string(k) + " out of range");
  return make({Op::Arg, params[static_cast<size_t>(k)].type, 0, k, 0, {}});
}

ExprId Func::varRef(int32_t v) {
  if (v < 0 || v >= vars_)
    bad("an undeclared loop variable");
  return make({Op::Var, kI64, 0, v, 0, {}});
}

ExprId Func::localRef(int32_t l) {
  if (l < 0 || static_cast<size_t>(l) >= locals_.size())
    bad("an undeclared local");
  return make({Op::Local, locals_[static_cast<size_t>(l)].type, 0, l, 0, {}});
}

ExprId Func::hole(int32_t k, Ty t) {
  if (k != 0 && k != 1)
    bad("a hole other than 0 or 1");
  return make({Op::Hole, t, 0, k, 0, {}});
}

namespace {

bool isIntConst(const Expr &e, int64_t &v) {
  if (e.op != Op::Int)
    return false;
  v = e.i;
  return true;
}

} // namespace

ExprId Func::binary(Op op, ExprId a, ExprId b, uint8_t flags) {
  Ty t = type(a);
  if (t != type(b))
    bad(std::string("operands of different types: ") + kindName(t.kind) + " and " + kindName(type(b).kind));
  if (t.kind == Kind::Bool || t.kind == Kind::Ptr || t.kind == Kind::Void)
    bad("arithmetic on a non-number");
  if ((op == Op::Min || op == Op::Max) && t.isFloat())
    bad("Min/Max of floats (use Math::Maximum/Minimum: their NaN rule is stated)");
  if (op == Op::Rem && t.isFloat())
    bad("Rem of floats");
  if ((flags & kReassoc) && (op != Op::Add || !t.isFloat()))
    bad("a reassociable operation that is not a float add");
  int64_t x, y;
  if (t.isInt() && !t.isVector()) {
    bool cx = isIntConst(expr(a), x), cy = isIntConst(expr(b), y);
    bool wraps = t.kind == Kind::U64;
    auto folded = [&](int64_t r) { return intImm(t, r); };
    if (cx && cy) {
      int64_t r = 0;
      uint64_t ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
      switch (op) {
      case Op::Add:
        if (wraps)
          return folded(static_cast<int64_t>(ux + uy));
        if (!__builtin_add_overflow(x, y, &r))
          return folded(r);
        break;
      case Op::Sub:
        if (wraps)
          return folded(static_cast<int64_t>(ux - uy));
        if (!__builtin_sub_overflow(x, y, &r))
          return folded(r);
        break;
      case Op::Mul:
        if (wraps)
          return folded(static_cast<int64_t>(ux * uy));
        if (!__builtin_mul_overflow(x, y, &r))
          return folded(r);
        break;
      case Op::Div:
        if (y != 0 && (wraps || !(x == INT64_MIN && y == -1)))
          return folded(wraps ? static_cast<int64_t>(ux / uy) : x / y);
        break;
      case Op::Rem:
        if (y != 0 && (wraps || !(x == INT64_MIN && y == -1)))
          return folded(wraps ? static_cast<int64_t>(ux % uy) : x % y);
        break;
      case Op::Min:
        return folded(wraps ? static_cast<int64_t>(std::min(ux, uy)) : std::min(x, y));
      case Op::Max:
        return folded(wraps ? static_cast<int64_t>(std::max(ux, uy)) : std::max(x, y));
      default:
        break;
      }
    }
    // x + 0, x - 0, x * 1, x / 1 -> x; x * 0 -> 0 (integers: exact).
    if ((op == Op::Add || op == Op::Sub) && cy && y == 0)
      return a;
    if (op == Op::Add && cx && x == 0)
      return b;
    if ((op == Op::Mul || op == Op::Div) && cy && y == 1)
      return a;
    if (op == Op::Mul && cx && x == 1)
      return b;
    if (op == Op::Mul && ((cx && x == 0) || (cy && y == 0)))
      return folded(0);
    // min(x, x), max(x, x) -> x; max(x, min(x, y)), min(x, max(x, y)) -> x, in any order:
    // the bounds of a loop's parts, so that an empty part is known empty.
    if (op == Op::Min || op == Op::Max) {
      Op inner = op == Op::Min ? Op::Max : Op::Min;
      auto absorbs = [&](ExprId outer, ExprId other) {
        const Expr &o = expr(other);
        return outer == other || (o.op == inner && (o.ops[0] == outer || o.ops[1] == outer));
      };
      if (absorbs(a, b))
        return a;
      if (absorbs(b, a))
        return b;
    }
  }
  return make({op, t, flags, kNone, 0, {a, b}});
}

ExprId Func::neg(ExprId a) {
  Ty t = type(a);
  if (!(t.isFloat() || t.kind == Kind::I32 || t.kind == Kind::I64))
    bad("negation of a non-number");
  int64_t x;
  if (isIntConst(expr(a), x) && x != INT64_MIN)
    return intImm(t, -x);
  return make({Op::Neg, t, 0, kNone, 0, {a}});
}

ExprId Func::compare(Op op, ExprId a, ExprId b) {
  Ty t = type(a);
  if (t != type(b))
    bad("a comparison of different types");
  if (op < Op::Lt || op > Op::Ne)
    bad("not a comparison");
  if (t.kind == Kind::Void)
    bad("a comparison of void");
  int64_t x, y;
  if (t.kind == Kind::U64 && isIntConst(expr(b), y) && y == 0 && (op == Op::Ge || op == Op::Lt))
    return boolImm(op == Op::Ge); // unsigned x >= 0
  if (a == b && !t.isFloat() && !t.isVector()) // x <= x, x == x (integers: no NaN)
    return boolImm(op == Op::Le || op == Op::Ge || op == Op::Eq);
  if (isIntConst(expr(a), x) && isIntConst(expr(b), y)) {
    auto holds = [op](auto p, auto q) {
      return op == Op::Lt ? p < q : op == Op::Le ? p <= q : op == Op::Gt ? p > q
           : op == Op::Ge ? p >= q : op == Op::Eq ? p == q : p != q;
    };
    return boolImm(t.kind == Kind::U64 ? holds(static_cast<uint64_t>(x), static_cast<uint64_t>(y)) : holds(x, y));
  }
  return make({op, kBool.withLanes(t.lanes), 0, kNone, 0, {a, b}});
}

// Whether `term` is one of the operands joined by `op` in `chain` (a tree of `op` nodes),
// looked for among its first few: enough for the conditions lowering joins.
bool Func::hasTerm(Op op, ExprId chain, ExprId term) const {
  constexpr int kMaxLook = 64;
  ExprId stack[kMaxLook];
  int top = 0, looked = 0;
  stack[top++] = chain;
  while (top > 0 && looked++ < kMaxLook) {
    ExprId e = stack[--top];
    if (e == term)
      return true;
    const Expr &x = expr(e);
    if (x.op == op && top + 2 <= kMaxLook) {
      stack[top++] = x.ops[0];
      stack[top++] = x.ops[1];
    }
  }
  return false;
}

ExprId Func::logic(Op op, ExprId a, ExprId b) {
  Ty t = type(a);
  if (t.kind != Kind::Bool || t != type(b) || (op != Op::And && op != Op::Or))
    bad("a logical operation on non-conditions");
  int64_t x;
  if (isIntConst(expr(a), x))
    return op == Op::And ? (x ? b : a) : (x ? a : b);
  if (isIntConst(expr(b), x))
    return op == Op::And ? (x ? a : b) : (x ? b : a);
  if (hasTerm(op, a, b)) // (x && y) && x: checks joined from several places repeat terms
    return a;
  if (hasTerm(op, b, a))
    return b;
  return make({op, t, 0, kNone, 0, {a, b}});
}

ExprId Func::logicalNot(ExprId a) {
  if (type(a).kind != Kind::Bool)
    bad("not of a non-condition");
  int64_t x;
  if (isIntConst(expr(a), x))
    return boolImm(!x);
  return make({Op::Not, type(a), 0, kNone, 0, {a}});
}

ExprId Func::isNaN(ExprId a) {
  if (!type(a).isFloat())
    return boolImm(false);
  return make({Op::IsNaN, kBool.withLanes(type(a).lanes), 0, kNone, 0, {a}});
}

ExprId Func::select(ExprId c, ExprId a, ExprId b) {
  Ty ct = type(c), t = type(a);
  if (ct.kind != Kind::Bool || t != type(b) || (ct.lanes != t.lanes && ct.lanes != 1))
    bad("a select of mismatched types");
  int64_t x;
  if (isIntConst(expr(c), x))
    return x ? a : b;
  if (a == b)
    return a;
  return make({Op::Select, t, 0, kNone, 0, {c, a, b}});
}

ExprId Func::fma(ExprId a, ExprId b, ExprId c) {
  Ty t = type(a);
  if (!t.isFloat() || t != type(b) || t != type(c))
    bad("an fma of mismatched or non-float types");
  return make({Op::Fma, t, 0, kNone, 0, {a, b, c}});
}

ExprId Func::math(Math fn, ExprId a, ExprId b) {
  Ty t = type(a);
  bool binaryFn = mathFnInfo(fn).arity == 2;
  if (!t.isFloat() || (binaryFn != (b != kNone)) || (b != kNone && type(b) != t))
    bad("a math call of mismatched types");
  std::vector<ExprId> ops{a};
  if (b != kNone)
    ops.push_back(b);
  return make({Op::Call, t, kMathCall, static_cast<int32_t>(fn), 0, std::move(ops)});
}

ExprId Func::call(int32_t c, std::vector<ExprId> args, uint8_t flags) {
  if (c < 0 || static_cast<size_t>(c) >= callees_.size())
    bad("a call of an undeclared callee");
  const Callee &callee = callees_[static_cast<size_t>(c)];
  if (args.size() != callee.params.size())
    bad("a call of '" + callee.symbol + "' with " + std::to_string(args.size()) + " arguments");
  for (size_t k = 0; k < args.size(); ++k)
    if (type(args[k]) != callee.params[k])
      bad("argument " + std::to_string(k) + " of '" + callee.symbol + "' has the wrong type");
  if (flags & ~kInlineCall)
    bad("a call with flags other than kInlineCall");
  return make({Op::Call, callee.ret, flags, c, 0, std::move(args)});
}

ExprId Func::cast(Ty to, ExprId a) {
  Ty from = type(a);
  if (from == to)
    return a;
  if (from.lanes != to.lanes || from.kind == Kind::Void || to.kind == Kind::Void || to.kind == Kind::Bool ||
      (to.kind == Kind::Ptr) || (from.kind == Kind::Ptr && !(to.kind == Kind::U64 || to.kind == Kind::I64)))
    bad(std::string("a cast from ") + kindName(from.kind) + " to " + kindName(to.kind));
  int64_t x;
  if (!to.isVector() && isIntConst(expr(a), x) && (to.isInt() || to.kind == Kind::Bool) && from.kind != Kind::U64)
    return intImm(to, x);
  if (!to.isVector() && isIntConst(expr(a), x) && to.isFloat() && from.kind != Kind::U64)
    return floatImm(to, static_cast<double>(x));
  return make({Op::Cast, to, 0, kNone, 0, {a}});
}

ExprId Func::load(int32_t buffer, ExprId index, Ty t, ExprId mask) {
  if (buffer < 0 || static_cast<size_t>(buffer) >= buffers_.size())
    bad("a load from an undeclared buffer");
  if (type(index) != kI64)
    bad("a load at a non-i64 index");
  if (kindBytes(t.kind) != kindBytes(buffers_[static_cast<size_t>(buffer)].elem.kind) || t.kind == Kind::Bool)
    bad("a load of " + std::string(kindName(t.kind)) + " from a buffer of " +
        kindName(buffers_[static_cast<size_t>(buffer)].elem.kind));
  if (mask != kNone && type(mask) != kBool.withLanes(t.lanes))
    bad("a load mask of the wrong lanes");
  std::vector<ExprId> ops{index};
  if (mask != kNone)
    ops.push_back(mask);
  return make({Op::Load, t, 0, buffer, 0, std::move(ops)});
}

ExprId Func::addr(int32_t buffer, ExprId index) {
  if (buffer < 0 || static_cast<size_t>(buffer) >= buffers_.size() || type(index) != kI64)
    bad("an address of a bad buffer or index");
  return make({Op::Addr, kPtr, 0, buffer, 0, {index}});
}

ExprId Func::broadcast(ExprId a, uint16_t lanes) {
  if (type(a).isVector() || lanes < 2)
    bad("a broadcast of a vector or to one lane");
  return make({Op::Broadcast, type(a).withLanes(lanes), 0, kNone, 0, {a}});
}

ExprId Func::ramp(ExprId base, uint16_t lanes) {
  if (type(base) != kI64 || lanes < 2)
    bad("a ramp of a non-i64 base or to one lane");
  return make({Op::Ramp, kI64.withLanes(lanes), 0, kNone, 0, {base}});
}

ExprId Func::reduceAdd(ExprId v) {
  if (!type(v).isVector() || !type(v).isFloat())
    bad("a lane sum of a non-float-vector");
  return make({Op::ReduceAdd, type(v).scalar(), kReassoc, kNone, 0, {v}});
}

ExprId Func::withOperands(ExprId e, const ExprOps &ops) {
  Expr x = expr(e);
  if (ops.size() != x.ops.size())
    bad("a substitution with a different number of operands");
  for (size_t k = 0; k < ops.size(); ++k)
    if (type(ops[k]) != type(x.ops[k]))
      bad("a substitution of an operand by one of another type");
  if (isBinaryArithmetic(x.op)) // (folded as built: a row's index in iteration 0 is r, not 0 * C + r)
    return binary(x.op, ops[0], ops[1], x.flags);
  x.ops = ops;
  return make(std::move(x));
}

} // namespace gradc::loops
