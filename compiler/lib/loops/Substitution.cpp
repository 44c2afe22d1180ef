// Substitution.cpp: the rewrite of Substitution.h.
#include "loops/Substitution.h"

#include <utility>

namespace gradc::loops {

ExprId Substitution::rewrite(ExprId root, bool substituting) {
  // (expression, whether the variable is replaced in it): an index of a folded buffer is
  // rewritten with the replacement, the same expression elsewhere without.
  std::vector<std::pair<ExprId, bool>> stack{{root, substituting}};
  while (!stack.empty()) {
    auto [e, sub] = stack.back();
    auto &memo = memo_[sub];
    if (memo.count(e)) {
      stack.pop_back();
      continue;
    }
    if (e == from_) {
      memo[e] = sub ? to_ : e;
      stack.pop_back();
      continue;
    }
    const Expr &x = f_.expr(e);
    // The mode of operand k: an index of a folded buffer's access is substituted.
    auto modeOf = [&](size_t k) { return sub || (k == 0 && indexed(x)); };
    bool ready = true;
    for (size_t k = 0; k < x.ops.size(); ++k)
      if (!memo_[modeOf(k)].count(x.ops[k])) {
        stack.push_back({x.ops[k], modeOf(k)});
        ready = false;
      }
    if (!ready)
      continue;
    stack.pop_back();
    ExprOps ops;
    bool changed = false;
    for (size_t k = 0; k < x.ops.size(); ++k) {
      ExprId o = memo_[modeOf(k)].at(x.ops[k]);
      ops.push_back(o);
      changed |= o != x.ops[k];
    }
    memo[e] = changed ? f_.withOperands(e, ops) : e;
  }
  return memo_[substituting].at(root);
}

StmtId Substitution::stmt(StmtId s) {
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
  case SOp::Store: {
    bool folded = !everywhere_ && buffers_.count(st.ref);
    return f_.store(st.ref, rewrite(st.a, everywhere_ || folded), expr(st.b), optional(st.c), st.flags);
  }
  case SOp::Let:
    return f_.let(st.ref, expr(st.a));
  case SOp::Assign:
    return f_.assign(st.ref, expr(st.a));
  case SOp::Accumulate:
    return f_.accumulate(st.ref, expr(st.a), expr(st.b), st.flags, optional(st.c));
  case SOp::Eval:
    return f_.eval(expr(st.a));
  default:
    return s;
  }
}

} // namespace gradc::loops
