// Builder.h: statements appended at an insertion point, with structured helpers for loops
// and conditions, so that a lowering reads as the code it makes.
#pragma once

#include "loops/LoopIR.h"

#include <functional>

namespace gradc::loops {

class Builder {
public:
  explicit Builder(Func &f) : f(f) { open(); }
  Func &f;

  /// Appends `s` at the insertion point.
  void emit(StmtId s) { blocks_.back().push_back(s); }

  /// for (i = begin; i < end; ++i) body(i), with StmtFlags `flags` (kRolled)
  void loop(ExprId begin, ExprId end, const std::function<void(ExprId)> &body, uint8_t flags = 0) {
    int32_t v = f.var();
    open();
    body(f.varRef(v));
    emit(f.forLoop(v, begin, end, close(), flags));
  }
  /// A range known to hold at most one index: if (begin < end) body(begin). A loop there
  /// would cost code generation a vectorized body and a remainder for one iteration (ODE's
  /// 60 edge parts took 40% of its loops).
  void atMostOnce(ExprId begin, ExprId end, const std::function<void(ExprId)> &body) {
    when(f.compare(Op::Lt, begin, end), [&] { body(begin); });
  }
  /// Nested loops over [0, extents[k]) with the outermost first; body sees every index.
  void loopNest(const std::vector<ExprId> &extents, const std::function<void(const std::vector<ExprId> &)> &body,
                uint8_t flags = 0) {
    std::vector<ExprId> idx;
    nest(extents, 0, idx, body, flags);
  }
  /// if (cond) then() [else orelse()]
  void when(ExprId cond, const std::function<void()> &then, const std::function<void()> &orelse = nullptr) {
    if (const Expr &c = f.expr(cond); c.op == Op::Int) { // known now: only one side is made
      if (c.i)
        then();
      else if (orelse)
        orelse();
      return;
    }
    open();
    then();
    StmtId t = close();
    StmtId e = kNone;
    if (orelse) {
      open();
      orelse();
      e = close();
    }
    emit(f.ifThen(cond, t, e));
  }
  /// A new local, declared here with `init`.
  int32_t let(Ty t, ExprId init, std::string name) {
    int32_t l = f.local(t, std::move(name));
    emit(f.let(l, init));
    return l;
  }
  void assign(int32_t l, ExprId v) { emit(f.assign(l, v)); }
  void store(int32_t buffer, ExprId index, ExprId value, ExprId mask = kNone, uint8_t flags = 0) {
    emit(f.store(buffer, index, value, mask, flags));
  }

  /// Statements built by `body` as one block (not appended: for a function's body).
  StmtId collect(const std::function<void()> &body) {
    open();
    body();
    return close();
  }
  /// Appends `s` to the function's prologue: before everything else, whatever the insertion
  /// point (what a chunk reads from the tape once, whatever loop first needs it).
  void prologue(StmtId s) { prologue_.push_back(s); }
  /// The block of the prologue, then everything appended at the outermost level.
  StmtId finish() {
    std::vector<StmtId> all = std::move(prologue_);
    all.insert(all.end(), blocks_.front().begin(), blocks_.front().end());
    blocks_.clear();
    return f.block(std::move(all));
  }

private:
  void open() { blocks_.emplace_back(); }
  StmtId close() {
    StmtId b = f.block(std::move(blocks_.back()));
    blocks_.pop_back();
    return b;
  }
  void nest(const std::vector<ExprId> &extents, size_t k, std::vector<ExprId> &idx,
            const std::function<void(const std::vector<ExprId> &)> &body, uint8_t flags) {
    if (k == extents.size()) {
      body(idx);
      return;
    }
    loop(
        f.i64(0), extents[k],
        [&](ExprId i) {
          idx.push_back(i);
          nest(extents, k + 1, idx, body, flags);
          idx.pop_back();
        },
        flags);
  }
  std::vector<std::vector<StmtId>> blocks_;
  std::vector<StmtId> prologue_;
};

} // namespace gradc::loops
