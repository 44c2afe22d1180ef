// Substitution.h: a loop variable replaced by an expression in statements: everywhere (merging
// two loops renames the second's variable), or only in the indices of some buffers (a buffer
// whose rows each iteration of a loop owns, folded into one row: every iteration reuses row 0).
#pragma once

#include "loops/LoopIR.h"

#include <unordered_map>
#include <unordered_set>

namespace gradc::loops {

class Substitution {
public:
  /// `var` becomes `to` everywhere.
  Substitution(Func &f, int32_t var, ExprId to) : f_(f), from_(f.varRef(var)), to_(to) {}
  /// `var` becomes `to` in the index of every load, address and store of `buffers` only.
  Substitution(Func &f, int32_t var, ExprId to, std::unordered_set<int32_t> buffers)
      : f_(f), from_(f.varRef(var)), to_(to), buffers_(std::move(buffers)), everywhere_(false) {}

  /// Iterative: an expression may be a chain as long as the program.
  ExprId expr(ExprId root) { return rewrite(root, everywhere_); }
  /// Recursive over the nesting of statements only (loops and conditions: a few levels).
  /// Statements other than blocks, loops, conditions, stores, locals, accumulations and calls
  /// are kept as they are.
  StmtId stmt(StmtId s);

private:
  ExprId rewrite(ExprId root, bool substituting);
  ExprId optional(ExprId e) { return e == kNone ? kNone : expr(e); }
  bool indexed(const Expr &x) const {
    return !everywhere_ && (x.op == Op::Load || x.op == Op::Addr) && buffers_.count(x.ref);
  }

  Func &f_;
  ExprId from_, to_;
  std::unordered_set<int32_t> buffers_;
  bool everywhere_ = true;
  // Rewritten expressions, by expression and whether the variable is replaced in it.
  std::unordered_map<ExprId, ExprId> memo_[2];
};

} // namespace gradc::loops
