// LlvmFunctionPrinter.h: one loop IR function as LLVM instructions. Loops are rotated (the
// form LLVM's loop passes expect); locals and stack buffers are allocas in the entry block
// (mem2reg makes locals registers); pure expressions are computed once per scope, the others
// once per statement. LlvmPrinter.cpp: the entry and alias scopes; LlvmExpressions.cpp:
// expressions; LlvmStatements.cpp: statements. Internal to codegen/llvm.
#pragma once

#include "loops/LoopIR.h"

#include <llvm/IR/IRBuilder.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gradc::llvmgen {

using LV = llvm::Value *;

/// The LLVM type of a loop IR type (a fixed vector when it has lanes).
llvm::Type *llvmTy(llvm::LLVMContext &c, loops::Ty t);
/// Function `symbol` of `m`, declared with `type` and `linkage` unless `m` has it already.
llvm::Function *declare(llvm::Module &m, const std::string &symbol, llvm::FunctionType *type,
                        llvm::GlobalValue::LinkageTypes linkage = llvm::Function::ExternalLinkage);

class LlvmFunctionPrinter {
public:
  LlvmFunctionPrinter(const loops::Func &f, llvm::Function *fn);

  /// The function's body, into `fn` (declared with the function's signature).
  void print();

private:
  using Expr = loops::Expr;
  using ExprId = loops::ExprId;
  using Stmt = loops::Stmt;
  using StmtId = loops::StmtId;

  // --- alias scopes of disjoint buffers (LlvmPrinter.cpp) ---
  void disjointScopes();
  void annotate(llvm::Instruction *inst, int32_t buffer);

  // --- expressions (LlvmExpressions.cpp) ---
  bool pureOver(const Expr &x) const;
  LV lookup(ExprId e);
  template <class Visit> void inputs(const Expr &x, Visit visit);
  LV expr(ExprId root);
  void openScope() { scopes_.emplace_back(); }
  void closeScope();
  void newStatement() { ++stamp_; }
  LV base(int32_t buffer);
  LV address(int32_t buffer, ExprId index, bool inBounds);
  LV binary(const Expr &x);
  LV compare(const Expr &x);
  LV math(const Expr &x);
  LV cast(const Expr &x);
  LV load(const Expr &x);
  LV call(const Expr &x);
  LV compute(ExprId e);

  // --- statements (LlvmStatements.cpp) ---
  bool terminated();
  void stmt(StmtId s);
  void loop(const Stmt &st);
  llvm::MDNode *loopHints(uint8_t flags);
  void branch(const Stmt &st);

  const loops::Func &f_;
  llvm::Function *fn_;
  llvm::LLVMContext &c_;
  llvm::IRBuilder<> b_;
  std::vector<LV> locals_, stack_, vars_;
  std::vector<LV> values_; // the value of each local set only by its let
  LV holes_[2] = {nullptr, nullptr};
  std::vector<int8_t> pure_;
  std::vector<std::pair<ExprId, bool>> work_; // expressions to print: (id, inputs pushed)
  // Pure values, kept while their scope lasts (the ids each scope set, to forget); the other
  // values, kept for the statement that computed them (stamped with its number).
  std::vector<LV> pureValue_, stmtValue_;
  std::vector<uint32_t> stmtStamp_;
  uint32_t stamp_ = 1;
  std::vector<std::vector<ExprId>> scopes_;
  std::vector<llvm::MDNode *> own_, others_;
};

} // namespace gradc::llvmgen
