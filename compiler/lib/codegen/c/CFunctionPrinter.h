// CFunctionPrinter.h: one loop IR function as C99 (CPrinter.cpp: names and statements;
// CExpressions.cpp: expressions). Shared subexpressions of a statement, and every eighth
// level of a deep one, become `const` temporaries declared just before it.
#pragma once

#include "codegen/c/CHelpers.h"
#include "loops/LoopIR.h"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace gradc::cgen {

/// `text` without the parentheses around all of it, if it has them.
std::string bare(const std::string &text);

class CFunctionPrinter {
public:
  CFunctionPrinter(const loops::Func &f, CHelpers &helpers);
  /// The definition; `prototype` gets the declaration (without ';').
  std::string print(std::string &prototype);

private:
  using ExprId = loops::ExprId;
  using StmtId = loops::StmtId;

  // --- names and liveness (CPrinter.cpp) ---
  std::string fresh(const std::string &base);
  void nameEverything();
  void findLiveLocals();
  std::string signature();
  std::string declaration(loops::Ty t, const std::string &name, bool constant);

  // --- statements (CPrinter.cpp) ---
  void line(int depth, const std::string &text) { out_ += std::string(2 * static_cast<size_t>(depth), ' ') + text + "\n"; }
  void stmt(StmtId s, int depth);
  void block(StmtId s, int depth); // the statements of a block, without braces
  void forLoop(const loops::Stmt &st, int depth);
  bool lanesFor(const loops::Stmt &st, std::vector<const loops::Stmt *> &accs);
  void laneLoop(const loops::Stmt &st, const std::vector<const loops::Stmt *> &accs, int depth);
  void store(const loops::Stmt &st, int depth);
  void setLocal(const loops::Stmt &st, int depth);

  // --- expressions (CExpressions.cpp) ---
  /// Declares the temporaries of the expressions `roots` of one statement (kNone: none).
  void prepare(const std::vector<ExprId> &roots, int depth);
  std::string expr(ExprId e);
  std::string compute(const loops::Expr &x);
  std::string vectorExpr(const loops::Expr &x);
  std::string bufferBase(int32_t buffer);
  std::string element(int32_t buffer, ExprId index); // buffer[index]
  std::string combine(const loops::Stmt &acc, const std::string &local, const std::string &value);
  bool callsOut(ExprId e) const; // whether `e` calls a function that is not math
  std::string type(loops::Ty t) { return helpers_.type(t); }

  const loops::Func &f_;
  CHelpers &helpers_;
  std::string out_;
  std::unordered_set<std::string> taken_;
  int temps_ = 0;
  std::vector<std::string> params_, vars_, locals_, stacks_;
  std::vector<std::string> varText_, localText_; // as read now (lane loops substitute)
  std::string holeText_[2];
  std::vector<bool> liveLocal_, assigned_;
  std::unordered_map<ExprId, std::string> names_; // temporaries of the current statement
};

} // namespace gradc::cgen
