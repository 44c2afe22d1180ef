// LoopSummary.cpp: the summaries of LoopSummary.h. The dependence test is the simplest that
// covers what the schedule makes: each loop writes whole rows of its buffers, row v in
// iteration v, and later loops read the same rows. Anything it cannot prove (a gathered or
// scattered index, a symbolic stride, two buffers that may overlap) is not a row.
#include "loops/LoopSummary.h"

#include <algorithm>

namespace gradc::loops {

namespace {

bool addOk(int64_t a, int64_t b, int64_t &r) { return !__builtin_add_overflow(a, b, &r); }
bool mulOk(int64_t a, int64_t b, int64_t &r) { return !__builtin_mul_overflow(a, b, &r); }

} // namespace

LoopSummarizer::LoopSummarizer(Func &f) : f_(f) {
  for (size_t s = 0; s < f.stmtCount(); ++s) {
    const Stmt &st = f.stmt(static_cast<StmtId>(s));
    if (st.op == SOp::Assign || st.op == SOp::Accumulate)
      assigned_.insert(st.ref);
  }
}

// The loop's use of each buffer; the ranges of its inner loops' variables.
Summary LoopSummarizer::summarize(StmtId loop) {
  Summary out;
  const int32_t v = f_.stmt(loop).ref;
  // Bounds that read memory would read it before the first loop's body ran.
  out.mergeable = pure(f_.stmt(loop).a) && pure(f_.stmt(loop).b);
  std::unordered_set<int32_t> declared;
  std::unordered_set<ExprId> seen;
  auto loads = [&](ExprId e) {
    if (e != kNone)
      addLoads(e, v, out, seen);
  };
  std::vector<StmtId> stack{f_.stmt(loop).body};
  while (!stack.empty() && out.mergeable) {
    const Stmt st = f_.stmt(stack.back());
    stack.pop_back();
    switch (st.op) {
    case SOp::Block:
      stack.insert(stack.end(), st.list.rbegin(), st.list.rend());
      break;
    case SOp::For: {
      out.sweeps = true;
      // (Bounds made of an enclosing inner loop's variable, as a tiled copy's, give a range.)
      auto lo = rowIndex(st.a, v, 0), hi = rowIndex(st.b, v, 0);
      if (lo && hi && lo->constant() && hi->constant() && hi->hi > lo->lo)
        varRange_[st.ref] = {lo->lo, hi->hi - 1};
      loads(st.a);
      loads(st.b);
      stack.push_back(st.body);
      break;
    }
    case SOp::If:
      loads(st.a);
      stack.push_back(st.body);
      if (st.orelse != kNone)
        stack.push_back(st.orelse);
      break;
    case SOp::Store:
      if (st.flags & kStreaming)
        out.mergeable = false;
      note(out, st.ref, st.a, f_.type(st.b).lanes, true, v);
      loads(st.a);
      loads(st.b);
      loads(st.c);
      break;
    case SOp::Let:
      declared.insert(st.ref);
      if (!assigned_.count(st.ref))
        letValue_[st.ref] = st.a;
      loads(st.a);
      break;
    case SOp::Assign:
    case SOp::Accumulate:
      if (!declared.count(st.ref))
        out.mergeable = false;
      loads(st.a);
      break;
    case SOp::Eval:
      out.sweeps = true;
      noteCall(st.a, v, out, seen);
      break;
    default: // prefetch, return
      out.mergeable = false;
    }
  }
  return out;
}

void LoopSummarizer::addLoads(ExprId root, int32_t v, Summary &out, std::unordered_set<ExprId> &seen) {
  visitExprs(f_, root, seen, [&](const Expr &x) {
    if (x.op == Op::Load)
      note(out, x.ref, x.ops[0], x.type.lanes, false, v);
    else if (x.op == Op::Addr || callsOut(x))
      out.mergeable = false;
    return true;
  });
}

// A call whose callee says what it touches (a matrix kernel's operands and result): each
// pointer argument with a footprint is an element's address and the footprint's counts and
// strides are constants, so the call touches a range of each buffer. Anything else keeps
// the loop apart.
void LoopSummarizer::noteCall(ExprId e, int32_t v, Summary &out, std::unordered_set<ExprId> &seen) {
  const Expr &x = f_.expr(e);
  if (x.op != Op::Call || (x.flags & kMathCall)) {
    addLoads(e, v, out, seen);
    return;
  }
  const Callee &callee = f_.callees()[static_cast<size_t>(x.ref)];
  std::vector<bool> covered(x.ops.size(), false);
  auto constant = [&](int32_t arg, int64_t &value) {
    const Expr &a = f_.expr(x.ops[arg]);
    value = a.i;
    return a.op == Op::Int;
  };
  for (const ArgFootprint &fp : callee.footprints) {
    const Expr &at = f_.expr(x.ops[fp.arg]);
    int64_t extent = 1;
    bool known = callee.readsArgMemoryOnly && at.op == Op::Addr;
    for (const ArgFootprint::Axis &axis : fp.axes) {
      int64_t count, stride = 1, span;
      known = known && constant(axis.count, count) && (axis.stride == kNone || constant(axis.stride, stride)) &&
              count >= 1 && stride >= 0 && mulOk(count - 1, stride, span) && addOk(extent, span, extent);
    }
    if (!known) {
      out.mergeable = false;
      return;
    }
    note(out, at.ref, at.ops[0], extent, false, v);
    if (fp.written)
      note(out, at.ref, at.ops[0], extent, true, v);
    addLoads(at.ops[0], v, out, seen);
    covered[static_cast<size_t>(fp.arg)] = true;
  }
  for (size_t k = 0; k < x.ops.size(); ++k)
    if (!covered[k]) {
      if (f_.type(x.ops[k]) == kPtr) // memory the footprints do not describe
        out.mergeable = false;
      addLoads(x.ops[k], v, out, seen);
    }
}

// An access of `buffer` at `index`, of `lanes` elements from it, by a loop of variable v.
void LoopSummarizer::note(Summary &out, int32_t buffer, ExprId index, int64_t lanes, bool write, int32_t v) {
  BufferUse &use = out.buffers[buffer];
  (write ? use.written : use.read) = true;
  if (!use.rowOwned)
    return;
  BufferUse one;
  std::optional<RowIndex> r = rowIndex(index, v, 0);
  int64_t last;
  if (!r || r->stride <= 0 || r->lo < 0 || !addOk(r->hi, lanes - 1, last) || last >= r->stride)
    one.rowOwned = false;
  else
    one.row = std::move(r);
  use.joinRows(one);
}

// Whether e reads no memory and calls nothing.
bool LoopSummarizer::pure(ExprId root) const {
  std::unordered_set<ExprId> seen;
  return visitExprs(f_, root, seen,
                    [](const Expr &x) { return x.op != Op::Load && x.op != Op::Addr && !callsOut(x); });
}


std::optional<RowIndex> LoopSummarizer::rowIndex(ExprId e, int32_t v, int depth) {
  const Expr &x = f_.expr(e);
  if (depth > 32 || x.type != kI64)
    return std::nullopt;
  RowIndex r;
  switch (x.op) {
  case Op::Int:
    r.lo = r.hi = x.i;
    return r;
  case Op::Local:
    if (auto it = letValue_.find(x.ref); it != letValue_.end())
      return rowIndex(it->second, v, depth + 1);
    return std::nullopt;
  case Op::Var:
    if (x.ref == v) {
      r.stride = 1;
    } else if (enclosing_.count(x.ref)) {
      r.outer[x.ref] = 1;
    } else if (auto it = varRange_.find(x.ref); it != varRange_.end()) {
      r.lo = it->second.first;
      r.hi = it->second.second;
    } else {
      return std::nullopt;
    }
    return r;
  case Op::Add:
  case Op::Sub: {
    auto p = rowIndex(x.ops[0], v, depth + 1), q = rowIndex(x.ops[1], v, depth + 1);
    if (!p || !q)
      return std::nullopt;
    int64_t sign = x.op == Op::Add ? 1 : -1;
    if (!addOk(p->stride, sign * q->stride, r.stride) ||
        !addOk(p->lo, sign > 0 ? q->lo : -q->hi, r.lo) || !addOk(p->hi, sign > 0 ? q->hi : -q->lo, r.hi))
      return std::nullopt;
    r.outer = p->outer;
    for (auto [var, k] : q->outer)
      if ((r.outer[var] += sign * k) == 0)
        r.outer.erase(var);
    return r;
  }
  case Op::Mul: {
    auto p = rowIndex(x.ops[0], v, depth + 1), q = rowIndex(x.ops[1], v, depth + 1);
    if (!p || !q)
      return std::nullopt;
    if (p->constant() && q->constant()) { // an interval product
      int64_t c[4];
      if (!mulOk(p->lo, q->lo, c[0]) || !mulOk(p->lo, q->hi, c[1]) || !mulOk(p->hi, q->lo, c[2]) ||
          !mulOk(p->hi, q->hi, c[3]))
        return std::nullopt;
      r.lo = *std::min_element(c, c + 4);
      r.hi = *std::max_element(c, c + 4);
      return r;
    }
    if (!q->constant() || q->lo != q->hi)
      std::swap(p, q);
    if (!q->constant() || q->lo != q->hi)
      return std::nullopt;
    int64_t k = q->lo;
    if (!mulOk(p->stride, k, r.stride) || !mulOk(p->lo, k, r.lo) || !mulOk(p->hi, k, r.hi))
      return std::nullopt;
    if (k < 0)
      std::swap(r.lo, r.hi);
    for (auto [var, c] : p->outer) {
      int64_t scaled;
      if (!mulOk(c, k, scaled))
        return std::nullopt;
      if (scaled != 0)
        r.outer[var] = scaled;
    }
    return r;
  }
  case Op::Min:
  case Op::Max: {
    auto p = rowIndex(x.ops[0], v, depth + 1), q = rowIndex(x.ops[1], v, depth + 1);
    if (!p || !q || !p->constant() || !q->constant())
      return std::nullopt;
    bool mn = x.op == Op::Min;
    r.lo = mn ? std::min(p->lo, q->lo) : std::max(p->lo, q->lo);
    r.hi = mn ? std::min(p->hi, q->hi) : std::max(p->hi, q->hi);
    return r;
  }
  default:
    return std::nullopt;
  }
}

// Whether two distinct buffers may share memory.
bool LoopSummarizer::mayOverlap(int32_t a, int32_t b) const {
  const Buffer &x = f_.buffers()[static_cast<size_t>(a)], &y = f_.buffers()[static_cast<size_t>(b)];
  auto noalias = [&](const Buffer &z) { return z.kind == BufferKind::Arg && f_.params[static_cast<size_t>(z.arg)].noalias; };
  if (noalias(x) || noalias(y))
    return false;
  if (x.disjointGroup >= 0 && x.disjointGroup == y.disjointGroup)
    return false;
  bool xs = x.kind == BufferKind::Stack, ys = y.kind == BufferKind::Stack;
  // A stack buffer is this call's: no argument points into it.
  return !((xs && ys) || (xs && y.kind == BufferKind::Arg) || (ys && x.kind == BufferKind::Arg));
}

} // namespace gradc::loops
