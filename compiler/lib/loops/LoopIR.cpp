// LoopIR.cpp: the checked factories of the loop IR. A type error here is a bug in the
// lowering that called them, reported as an internal error.
#include "loops/LoopIR.h"

#include "gradc/Diagnostics.h"

#include <bit>
#include <cstring>
#include <unordered_map>

namespace gradc::loops {

Ty registerTy(DType t) {
  switch (t) {
  case DType::F64:
    return kF64;
  case DType::F32:
    return kF32;
  case DType::I32:
    return kI32;
  case DType::I64:
    return kI64;
  case DType::Bool:
    return kBool;
  }
  return kF64;
}

Ty memoryTy(DType t) { return t == DType::Bool ? kI8 : registerTy(t); }

int64_t kindBytes(Kind k) {
  switch (k) {
  case Kind::Bool:
  case Kind::I8:
    return 1;
  case Kind::I32:
  case Kind::F32:
    return 4;
  case Kind::Void:
    return 0;
  default:
    return 8;
  }
}

const char *kindName(Kind k) {
  static const char *const names[] = {"void", "bool", "i8", "i32", "i64", "u64", "f32", "f64", "ptr"};
  return names[static_cast<int>(k)];
}

namespace {
// A 64-bit mix (the finalizer of MurmurHash3): every input bit reaches every output bit, so
// linear probing over ids of nearby expressions does not cluster.
uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}
} // namespace

size_t Func::hashOf(const Expr &e) const {
  uint64_t h = mix(static_cast<uint64_t>(e.op) | static_cast<uint64_t>(e.type.kind) << 8 |
                   static_cast<uint64_t>(e.type.lanes) << 16 | static_cast<uint64_t>(e.flags) << 32 |
                   static_cast<uint64_t>(static_cast<uint32_t>(e.ref)) << 40) ^
               mix(static_cast<uint64_t>(e.i));
  for (ExprId o : e.ops)
    h = mix(h ^ static_cast<uint32_t>(o));
  return static_cast<size_t>(h);
}

bool Func::same(const Expr &a, const Expr &b) const {
  return a.op == b.op && a.type == b.type && a.flags == b.flags && a.ref == b.ref && a.i == b.i && a.ops == b.ops;
}

Func::Func(std::string symbol, Ty ret, std::vector<Param> params, Linkage linkage)
    : symbol(std::move(symbol)), ret(ret), params(std::move(params)), linkage(linkage) {}

void Func::bad(const std::string &what) const {
  internalError("loop IR of '" + symbol + "': " + what);
}

ExprId Func::make(Expr e) {
  size_t mask = table_.size() - 1;
  size_t slot = hashOf(e) & mask;
  for (; table_[slot] != kNone; slot = (slot + 1) & mask)
    if (same(exprs_[static_cast<size_t>(table_[slot])], e))
      return table_[slot];
  ExprId id = static_cast<ExprId>(exprs_.size());
  exprs_.push_back(std::move(e));
  table_[slot] = id;
  if (exprs_.size() * 2 > table_.size()) { // grow: rehash every id
    std::vector<ExprId> bigger(table_.size() * 2, kNone);
    size_t m = bigger.size() - 1;
    for (ExprId x : table_)
      if (x != kNone) {
        size_t k = hashOf(exprs_[static_cast<size_t>(x)]) & m;
        while (bigger[k] != kNone)
          k = (k + 1) & m;
        bigger[k] = x;
      }
    table_ = std::move(bigger);
  }
  return id;
}

void Func::reserve(size_t exprs, size_t stmts) {
  exprs_.reserve(exprs);
  stmts_.reserve(stmts);
  if (exprs * 2 > table_.size() && exprs_.empty())
    table_.assign(std::bit_ceil(exprs * 2), kNone);
}

StmtId Func::append(Stmt s) {
  stmts_.push_back(std::move(s));
  return static_cast<StmtId>(stmts_.size() - 1);
}

// --- declarations ---

int32_t Func::argBuffer(int32_t arg, Ty elem, std::string name) {
  if (arg < 0 || static_cast<size_t>(arg) >= params.size() || params[static_cast<size_t>(arg)].type != kPtr)
    bad("buffer of argument " + std::to_string(arg) + ", which is not a pointer");
  buffers_.push_back({std::move(name), elem, BufferKind::Arg, arg, 0, kNone, -1});
  return static_cast<int32_t>(buffers_.size() - 1);
}

int32_t Func::stackBuffer(Ty elem, int64_t elems, std::string name) {
  if (elems <= 0)
    bad("an empty stack buffer");
  buffers_.push_back({std::move(name), elem, BufferKind::Stack, kNone, elems, kNone, -1});
  return static_cast<int32_t>(buffers_.size() - 1);
}

int32_t Func::viewBuffer(ExprId base, Ty elem, std::string name, int32_t disjointGroup) {
  if (type(base) != kPtr)
    bad("a view whose base is not a pointer");
  buffers_.push_back({std::move(name), elem, BufferKind::View, kNone, 0, base, disjointGroup});
  return static_cast<int32_t>(buffers_.size() - 1);
}

int32_t Func::local(Ty type, std::string name) {
  locals_.push_back({std::move(name), type});
  return static_cast<int32_t>(locals_.size() - 1);
}

std::vector<std::string> uniqueLocalNames(const Func &f) {
  std::vector<std::string> names;
  std::unordered_map<std::string, int> taken; // name -> how many times taken
  for (const Local &l : f.locals()) {
    auto [it, fresh] = taken.try_emplace(l.name, 0);
    names.push_back(fresh ? l.name : l.name + "_" + std::to_string(++it->second));
    // A suffixed name may be another local's own name: take it too, and retry on clashes.
    while (!fresh && !taken.try_emplace(names.back(), 0).second)
      names.back() = l.name + "_" + std::to_string(++it->second);
  }
  return names;
}

int32_t Func::var() { return vars_++; }

int32_t Func::callee(const Callee &c) {
  for (size_t k = 0; k < callees_.size(); ++k)
    if (callees_[k].symbol == c.symbol)
      return static_cast<int32_t>(k);
  callees_.push_back(c);
  return static_cast<int32_t>(callees_.size() - 1);
}

// --- expressions ---

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

ExprId Func::logic(Op op, ExprId a, ExprId b) {
  Ty t = type(a);
  if (t.kind != Kind::Bool || t != type(b) || (op != Op::And && op != Op::Or))
    bad("a logical operation on non-conditions");
  int64_t x;
  if (a == b) // x && x, x || x
    return a;
  if (isIntConst(expr(a), x))
    return op == Op::And ? (x ? b : a) : (x ? a : b);
  if (isIntConst(expr(b), x))
    return op == Op::And ? (x ? a : b) : (x ? b : a);
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
  bool binaryFn = fn == Math::Pow || fn == Math::Maximum || fn == Math::Minimum;
  if (!t.isFloat() || (binaryFn != (b != kNone)) || (b != kNone && type(b) != t))
    bad("a math call of mismatched types");
  std::vector<ExprId> ops{a};
  if (b != kNone)
    ops.push_back(b);
  return make({Op::Call, t, kMathCall, static_cast<int32_t>(fn), 0, std::move(ops)});
}

ExprId Func::call(int32_t c, std::vector<ExprId> args) {
  if (c < 0 || static_cast<size_t>(c) >= callees_.size())
    bad("a call of an undeclared callee");
  const Callee &callee = callees_[static_cast<size_t>(c)];
  if (args.size() != callee.params.size())
    bad("a call of '" + callee.symbol + "' with " + std::to_string(args.size()) + " arguments");
  for (size_t k = 0; k < args.size(); ++k)
    if (type(args[k]) != callee.params[k])
      bad("argument " + std::to_string(k) + " of '" + callee.symbol + "' has the wrong type");
  return make({Op::Call, callee.ret, 0, c, 0, std::move(args)});
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

// --- statements ---

namespace {
Stmt node(SOp op, uint8_t flags = 0) {
  Stmt s;
  s.op = op;
  s.flags = flags;
  return s;
}
} // namespace

StmtId Func::block(std::vector<StmtId> list) {
  Stmt s = node(SOp::Block);
  s.list = std::move(list);
  return append(std::move(s));
}

StmtId Func::forLoop(int32_t v, ExprId begin, ExprId end, StmtId body) {
  if (v < 0 || v >= vars_ || type(begin) != kI64 || type(end) != kI64 || body == kNone)
    bad("a loop with a bad variable, bounds or body");
  Stmt s = node(SOp::For);
  s.ref = v;
  s.a = begin;
  s.b = end;
  s.body = body;
  return append(std::move(s));
}

StmtId Func::ifThen(ExprId cond, StmtId then, StmtId orelse) {
  if (type(cond) != kBool || then == kNone)
    bad("an if with a bad condition or body");
  Stmt s = node(SOp::If);
  s.a = cond;
  s.body = then;
  s.orelse = orelse;
  return append(std::move(s));
}

StmtId Func::store(int32_t buffer, ExprId index, ExprId value, ExprId mask, uint8_t flags) {
  if (buffer < 0 || static_cast<size_t>(buffer) >= buffers_.size() || type(index) != kI64)
    bad("a store to a bad buffer or index");
  Ty t = type(value);
  if (kindBytes(t.kind) != kindBytes(buffers_[static_cast<size_t>(buffer)].elem.kind) || t.kind == Kind::Bool)
    bad("a store of " + std::string(kindName(t.kind)) + " into a buffer of " +
        kindName(buffers_[static_cast<size_t>(buffer)].elem.kind));
  if (mask != kNone && type(mask) != kBool.withLanes(t.lanes))
    bad("a store mask of the wrong lanes");
  if ((flags & kStreaming) && mask != kNone)
    bad("a masked streaming store");
  Stmt s = node(SOp::Store, flags);
  s.ref = buffer;
  s.a = index;
  s.b = value;
  s.c = mask;
  return append(std::move(s));
}

StmtId Func::let(int32_t l, ExprId value) {
  if (l < 0 || static_cast<size_t>(l) >= locals_.size() || locals_[static_cast<size_t>(l)].type != type(value))
    bad("a let of a bad local or of the wrong type");
  Stmt s = node(SOp::Let);
  s.ref = l;
  s.a = value;
  return append(std::move(s));
}

StmtId Func::assign(int32_t l, ExprId value) {
  if (l < 0 || static_cast<size_t>(l) >= locals_.size() || locals_[static_cast<size_t>(l)].type != type(value))
    bad("an assignment of a bad local or of the wrong type");
  Stmt s = node(SOp::Assign);
  s.ref = l;
  s.a = value;
  return append(std::move(s));
}

StmtId Func::accumulate(int32_t l, ExprId value, ExprId combine, uint8_t flags, ExprId identity) {
  if (l < 0 || static_cast<size_t>(l) >= locals_.size())
    bad("an accumulation into a bad local");
  Ty t = locals_[static_cast<size_t>(l)].type;
  if (type(value) != t || type(combine) != t)
    bad("an accumulation of the wrong type");
  if ((flags & kReassocAcc) != 0 && (identity == kNone || type(identity) != t))
    bad("a reordered accumulation without the identity of its combine");
  Stmt s = node(SOp::Accumulate, flags);
  s.ref = l;
  s.a = value;
  s.b = combine;
  s.c = identity;
  return append(std::move(s));
}

StmtId Func::prefetch(ExprId address) {
  if (type(address) != kPtr)
    bad("a prefetch of a non-pointer");
  Stmt s = node(SOp::Prefetch);
  s.a = address;
  return append(std::move(s));
}

StmtId Func::eval(ExprId callExpr) {
  if (expr(callExpr).op != Op::Call)
    bad("an evaluation of a non-call");
  Stmt s = node(SOp::Eval);
  s.a = callExpr;
  return append(std::move(s));
}

StmtId Func::returnStmt(ExprId value) {
  if ((value == kNone) != (ret.kind == Kind::Void) || (value != kNone && type(value) != ret))
    bad("a return of the wrong type");
  Stmt s = node(SOp::Return);
  s.a = value;
  return append(std::move(s));
}

Func &Module::add(std::unique_ptr<Func> f) {
  funcs.push_back(std::move(f));
  return *funcs.back();
}

const Func *Module::find(const std::string &symbol) const {
  for (const auto &f : funcs)
    if (f->symbol == symbol)
      return f.get();
  return nullptr;
}

} // namespace gradc::loops
