// FuseLoops.cpp: the merge of adjacent loops (FuseLoops.h). The dependence test is the
// simplest that covers what the schedule makes: each loop writes whole rows of its buffers,
// row v in iteration v, and later loops read the same rows. Anything it cannot prove (a
// gathered or scattered index, a symbolic stride, two buffers that may overlap) keeps the
// loops apart.
#include "loops/FuseLoops.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace gradc::loops {

namespace {

// An index as v * stride + sum(outer) + r, r in [lo, hi]: v the merged loop's variable,
// `outer` the enclosing loops' variables with their coefficients (fixed while both loops run).
struct RowIndex {
  int64_t stride = 0, lo = 0, hi = 0;
  std::map<int32_t, int64_t> outer;
  bool constant() const { return stride == 0 && outer.empty(); }
};

// How one loop (or a merged run) uses one buffer.
struct BufferUse {
  bool read = false, written = false;
  // Whether every access is in the iteration's own row: at v * stride + sum(outer) + r with
  // 0 <= r and r + lanes <= stride, one stride and one `outer` for all (kept in `row`).
  bool rowOwned = true;
  std::optional<RowIndex> row;
  // Joins another use's rows (of the same loop variable, or one renamed to it).
  void joinRows(const BufferUse &o) {
    if (!o.rowOwned)
      rowOwned = false;
    else if (o.row && !row)
      row = o.row;
    else if (o.row && (o.row->stride != row->stride || o.row->outer != row->outer))
      rowOwned = false;
  }
  bool sameRows(const BufferUse &o) const {
    return rowOwned && o.rowOwned && row && o.row && row->stride == o.row->stride && row->outer == o.row->outer;
  }
};

// What one loop does to memory, per buffer, or that it cannot be merged with another. Kept per
// buffer, so that a run of merged loops is tested against the next in the number of buffers,
// not of accesses.
struct Summary {
  bool mergeable = true;
  bool sweeps = false; // an iteration runs a loop or a call: it sweeps a row of memory
  std::unordered_map<int32_t, BufferUse> buffers;
};

bool addOk(int64_t a, int64_t b, int64_t &r) { return !__builtin_add_overflow(a, b, &r); }
bool mulOk(int64_t a, int64_t b, int64_t &r) { return !__builtin_mul_overflow(a, b, &r); }

// Loop variable `from` renamed `to` in statements and expressions.
class Renamer {
public:
  Renamer(Func &f, int32_t from, int32_t to) : f_(f), from_(f.varRef(from)), to_(f.varRef(to)) {}

  // Iterative: an expression may be a chain as long as the program.
  ExprId expr(ExprId root) {
    std::vector<ExprId> stack{root};
    while (!stack.empty()) {
      ExprId e = stack.back();
      if (memo_.count(e)) {
        stack.pop_back();
        continue;
      }
      if (e == from_) {
        memo_[e] = to_;
        stack.pop_back();
        continue;
      }
      const ExprOps &ops = f_.expr(e).ops;
      bool ready = true;
      for (ExprId o : ops)
        if (!memo_.count(o)) {
          stack.push_back(o);
          ready = false;
        }
      if (!ready)
        continue;
      stack.pop_back();
      ExprOps renamed;
      bool changed = false;
      for (ExprId o : f_.expr(e).ops) {
        renamed.push_back(memo_[o]);
        changed |= memo_[o] != o;
      }
      memo_[e] = changed ? f_.withOperands(e, renamed) : e;
    }
    return memo_[root];
  }
  ExprId optional(ExprId e) { return e == kNone ? kNone : expr(e); }

  // Recursive over the nesting of statements only (loops and conditions: a few levels).
  StmtId stmt(StmtId s) {
    Stmt st = f_.stmt(s);
    switch (st.op) {
    case SOp::Block: {
      std::vector<StmtId> list;
      for (StmtId c : st.list)
        list.push_back(stmt(c));
      return f_.block(std::move(list));
    }
    case SOp::For:
      return f_.forLoop(st.ref, expr(st.a), expr(st.b), stmt(st.body), st.flags);
    case SOp::If:
      return f_.ifThen(expr(st.a), stmt(st.body), st.orelse == kNone ? kNone : stmt(st.orelse));
    case SOp::Store:
      return f_.store(st.ref, expr(st.a), expr(st.b), optional(st.c), st.flags);
    case SOp::Let:
      return f_.let(st.ref, expr(st.a));
    case SOp::Assign:
      return f_.assign(st.ref, expr(st.a));
    case SOp::Accumulate:
      return f_.accumulate(st.ref, expr(st.a), expr(st.b), st.flags, optional(st.c));
    case SOp::Eval:
      return f_.eval(expr(st.a));
    default: // not in a mergeable loop
      return s;
    }
  }

private:
  Func &f_;
  ExprId from_, to_;
  std::unordered_map<ExprId, ExprId> memo_;
};

class LoopFuser {
public:
  explicit LoopFuser(Func &f) : f_(f) {
    for (size_t s = 0; s < f.stmtCount(); ++s) {
      const Stmt &st = f.stmt(static_cast<StmtId>(s));
      if (st.op == SOp::Assign || st.op == SOp::Accumulate)
        assigned_.insert(st.ref);
    }
  }

  // s with its loops merged, and the loops in it. Recursive over the nesting of statements.
  StmtId visit(StmtId s) {
    Stmt st = f_.stmt(s);
    switch (st.op) {
    case SOp::Block:
      return block(s);
    case SOp::For: {
      enclosing_.insert(st.ref);
      StmtId body = visit(st.body);
      enclosing_.erase(st.ref);
      return body == st.body ? s : f_.forLoop(st.ref, st.a, st.b, body, st.flags);
    }
    case SOp::If: {
      StmtId body = visit(st.body), orelse = st.orelse == kNone ? kNone : visit(st.orelse);
      return body == st.body && orelse == st.orelse ? s : f_.ifThen(st.a, body, orelse);
    }
    default:
      return s;
    }
  }

private:
  StmtId block(StmtId s) {
    const std::vector<StmtId> &list = f_.stmt(s).list;
    // First each fill with the loop after it that uses what it filled (a sum's zeros with the
    // sum), then each loop with the loops after it that read what it touched.
    std::vector<StmtId> out = mergeRuns(mergeRuns(list, Join::FillWithUser), Join::Reader);
    bool changed = out != f_.stmt(s).list;
    for (StmtId &c : out) {
      StmtId v = visit(c);
      changed |= v != c;
      c = v;
    }
    return changed ? f_.block(std::move(out)) : s;
  }

  enum class Join { FillWithUser, Reader };

  // `in` with each run of adjacent loops that `join` wants and that can merge merged. Readers
  // of a run whose iterations sweep rows look one loop ahead: a loop that reads what the run
  // and the loop before it both touched (a product of two operands filled apart) joins the
  // three. (Loops of a few elements per iteration gain nothing from it: bundle adjustment's
  // 3-vector loops, merged so, ran 7% slower. Moving a loop that shares nothing with the run
  // before it, so that the loop after it could join, merged BA's scatter of d_X into its
  // observation loop, 7% slower again, and gained GMM nothing.)
  std::vector<StmtId> mergeRuns(const std::vector<StmtId> &in, Join join) {
    std::vector<StmtId> out;
    StmtId run = kNone;
    Summary runSummary;
    for (size_t k = 0; k < in.size(); ++k) {
      StmtId c = in[k];
      if (f_.stmt(c).op != SOp::For) {
        if (run != kNone)
          out.push_back(run);
        run = kNone;
        out.push_back(c);
        continue;
      }
      Summary next = summarize(c);
      if (run != kNone) {
        bool wanted = join == Join::Reader ? reads(runSummary, next) : fillUsed(runSummary, next);
        if (wanted && canMerge(run, runSummary, c, next)) {
          run = merge(run, runSummary, c, next);
          continue;
        }
        if (join == Join::Reader && runSummary.sweeps && k + 1 < in.size() && f_.stmt(in[k + 1]).op == SOp::For) {
          StmtId d = in[k + 1];
          Summary after = summarize(d);
          if (reads(runSummary, after) && reads(next, after) && canMerge(run, runSummary, c, next)) {
            run = merge(run, runSummary, c, next);
            continue;
          }
        }
        out.push_back(run);
      }
      run = c;
      runSummary = std::move(next);
    }
    if (run != kNone)
      out.push_back(run);
    return out;
  }

  // Whether b reads memory a touches: merged, it reads it from cache. Loops that share nothing
  // gain nothing from one body, and LLVM compiled some such merges slower (a gather beside a
  // data sweep in GMM: 91 -> 112 us).
  static bool reads(const Summary &a, const Summary &b) {
    for (const auto &[buf, use] : b.buffers)
      if (use.read && a.buffers.count(buf))
        return true;
    return false;
  }

  // Whether a only stores (a fill) and b touches what it stores.
  static bool fillUsed(const Summary &a, const Summary &b) {
    bool used = false;
    for (const auto &[buf, use] : a.buffers) {
      if (use.read)
        return false;
      used = used || b.buffers.count(buf);
    }
    return used;
  }

  bool canMerge(StmtId a, const Summary &sa, StmtId b, const Summary &sb) {
    const Stmt &x = f_.stmt(a), &y = f_.stmt(b);
    return sa.mergeable && sb.mergeable && x.a == y.a && x.b == y.b && independent(sa, sb);
  }

  StmtId merge(StmtId a, Summary &sa, StmtId b, const Summary &sb) {
    Stmt x = f_.stmt(a), y = f_.stmt(b);
    Renamer rename(f_, y.ref, x.ref);
    std::vector<StmtId> list;
    for (StmtId part : {x.body, rename.stmt(y.body)}) {
      const Stmt &p = f_.stmt(part);
      if (p.op == SOp::Block)
        list.insert(list.end(), p.list.begin(), p.list.end());
      else
        list.push_back(part);
    }
    for (const auto &[buf, use] : sb.buffers) { // rows of y's variable are rows of x's
      BufferUse &joined = sa.buffers[buf];
      joined.read = joined.read || use.read;
      joined.written = joined.written || use.written;
      joined.joinRows(use);
    }
    sa.sweeps = sa.sweeps || sb.sweeps;
    return f_.forLoop(x.ref, x.a, x.b, f_.block(std::move(list)), x.flags & y.flags);
  }

  // The loop's use of each buffer; the ranges of its inner loops' variables.
  Summary summarize(StmtId loop) {
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

  void addLoads(ExprId root, int32_t v, Summary &out, std::unordered_set<ExprId> &seen) {
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
  void noteCall(ExprId e, int32_t v, Summary &out, std::unordered_set<ExprId> &seen) {
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
  void note(Summary &out, int32_t buffer, ExprId index, int64_t lanes, bool write, int32_t v) {
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

  // Whether no access of one loop depends on an access of the other in another iteration.
  bool independent(const Summary &a, const Summary &b) {
    for (const auto &[buf, ub] : b.buffers) {
      auto it = a.buffers.find(buf);
      if (it != a.buffers.end() && (it->second.written || ub.written) && !it->second.sameRows(ub))
        return false;
    }
    auto apart = [&](const Summary &w, const Summary &t) { // nothing w writes overlaps what t touches
      for (const auto &[wb, wu] : w.buffers)
        if (wu.written)
          for (const auto &[tb, tu] : t.buffers)
            if (tb != wb && mayOverlap(wb, tb))
              return false;
      return true;
    };
    return apart(a, b) && apart(b, a);
  }

  // Whether e reads no memory and calls nothing.
  bool pure(ExprId root) const {
    std::unordered_set<ExprId> seen;
    return visitExprs(f_, root, seen,
                      [](const Expr &x) { return x.op != Op::Load && x.op != Op::Addr && !callsOut(x); });
  }


  std::optional<RowIndex> rowIndex(ExprId e, int32_t v, int depth) {
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
  bool mayOverlap(int32_t a, int32_t b) const {
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

  Func &f_;
  std::unordered_map<int32_t, std::pair<int64_t, int64_t>> varRange_; // inner loops of constant bounds
  std::unordered_set<int32_t> enclosing_;                              // loops around the block
  std::unordered_set<int32_t> assigned_;                   // locals ever assigned after their let
  std::unordered_map<int32_t, ExprId> letValue_;           // the others' values
};

} // namespace

void fuseLoops(Func &f) {
  if (f.body != kNone)
    f.body = LoopFuser(f).visit(f.body);
}

} // namespace gradc::loops
