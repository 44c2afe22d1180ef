// LoopIRStatements.cpp: the checked factories of the loop IR's statements. A type error
// here is a bug in the lowering that called them, reported as an internal error.
#include "loops/LoopIR.h"

#include <algorithm>

#include <utility>

namespace gradc::loops {

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

StmtId Func::forLoop(int32_t v, ExprId begin, ExprId end, StmtId body, uint8_t flags) {
  if (v < 0 || v >= vars_ || type(begin) != kI64 || type(end) != kI64 || body == kNone)
    bad("a loop with a bad variable, bounds or body");
  Stmt s = node(SOp::For);
  s.ref = v;
  s.a = begin;
  s.b = end;
  s.body = body;
  s.flags = flags & ~kShort;
  int64_t trips = constantTrips(begin, end);
  if (trips >= 0 && trips < kShortLoopTrips)
    s.flags |= kShort;
  // Around a short inner loop of a vector or more, LLVM unrolled the inner loop fully and
  // vectorized this one across its rows with gathers and scatters (GMM at d=10: 23% slower).
  auto shortRow = [&](StmtId c) {
    const Stmt &in = stmt(c);
    return in.op == SOp::For && (in.flags & kShort) && constantTrips(in.a, in.b) >= kWithinIterationTrips;
  };
  const Stmt &b = stmt(body);
  if (shortRow(body) || (b.op == SOp::Block && std::any_of(b.list.begin(), b.list.end(), shortRow)))
    s.flags |= kWithinIteration;
  return append(std::move(s));
}

void Func::addLoopFlags(StmtId s, uint8_t flags) {
  if (s < 0 || static_cast<size_t>(s) >= stmts_.size() || stmts_[static_cast<size_t>(s)].op != SOp::For ||
      (flags & ~kCompact))
    bad("loop hints on a statement that is not a loop, or not hints");
  stmts_[static_cast<size_t>(s)].flags |= flags;
}

int64_t Func::constantTrips(ExprId begin, ExprId end) const {
  const Expr &lo = expr(begin), &hi = expr(end);
  int64_t trips;
  return lo.op == Op::Int && hi.op == Op::Int && !__builtin_sub_overflow(hi.i, lo.i, &trips) && trips >= 0 ? trips : -1;
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

} // namespace gradc::loops
