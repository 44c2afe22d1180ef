// Ast.h: the syntax tree of an .expr file, stored flat in an arena so that no
// walk or destructor recurses to the depth of the input's nesting.
#pragma once

#include "gradc/Diagnostics.h"
#include "ir/DType.h"

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace gradc {

using ExprId = int32_t;
constexpr ExprId kNoExpr = -1;

enum class ExprKind : uint8_t {
  Number,  // text: the literal as written
  Name,    // text: the identifier
  Neg,     // kids: operand
  Binary,  // text: "+", "-", "*", "/", "^", "@"; kids: lhs, rhs
  Compare, // text: "<", "<=", ">", ">=", "==", "!="; kids: lhs, rhs
  Call,    // text: callee; kids: positional and keyword arguments in order
  KwArg,   // text: keyword; kids: value
  Index,   // kids: base, then one item per axis (an expression or a Slice)
  Slice,   // kids: start, stop (either may be kNoExpr)
  List,    // kids: elements ([d0, d1] as reshape's shape argument)
  Attr,    // text: attribute name (only .T); kids: base
};

struct Expr {
  ExprKind kind;
  SourceLoc loc;
  std::string text;
  std::vector<ExprId> kids;
};

/// One entry of a parameter's shape as written: a literal size, a dim's name, or dim
/// arithmetic (`expr`, checked by sema).
struct DimRef {
  SourceLoc loc;
  std::string name; // empty for a literal or an expression
  int64_t size = 0;
  ExprId expr = kNoExpr;
};

struct ParamDecl {
  SourceLoc loc;
  std::string name;
  bool isConst = false;
  DType dtype = DType::F64;
  bool hasShape = false;
  std::vector<DimRef> shape;
};

struct Stmt {
  enum Kind : uint8_t { Assign, Return } kind;
  SourceLoc loc;
  std::string name; // for Assign
  ExprId value = kNoExpr;
};

struct FuncDef {
  SourceLoc loc;     // of the name
  SourceLoc endLoc;  // of the closing brace, or of the expression for `= expr`
  std::string name;
  std::vector<ParamDecl> params;
  std::vector<Stmt> body;
  bool isBlock = false;
  bool isLocal = false;  // `local def`: called by other functions, not exported
  size_t dimsBefore = 0; // dims declared above this def (only those are in scope)
};

struct DimDecl {
  SourceLoc loc;
  std::string name;
  ExprId value = kNoExpr; // `dim M = D*(D+1)/2`: the size M names
};

/// A parsed file: dims and functions in source order, expressions in one arena.
/// Children are always created before their parent, so ids ascend in post-order.
struct Ast {
  std::vector<Expr> exprs;
  std::vector<DimDecl> dims;
  std::vector<FuncDef> funcs;

  ExprId add(ExprKind kind, SourceLoc loc, std::string text, std::vector<ExprId> kids = {});
  const Expr &operator[](ExprId id) const { return exprs[static_cast<size_t>(id)]; }

  /// Prints the tree (`--dump=ast`), one line per statement, iteratively.
  void dump(std::ostream &os) const;
  std::string exprToString(ExprId root) const;
};

} // namespace gradc
