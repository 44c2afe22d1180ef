// ParseDriver.h: the state shared by the scanner and the parser (calc++'s driver).
#pragma once

#include "frontend/Ast.h"
#include "gradc/Diagnostics.h"

#include <string>
#include <vector>

namespace gradc {

class ParseDriver {
public:
  ParseDriver(Ast &ast, Diagnostics &diags) : ast(ast), diags(diags) {}

  Ast &ast;
  Diagnostics &diags;

  // Scanner state. Newlines end statements except inside ( ) and [ ], and after a
  // token that cannot end one (an operator, '=', ',', '{'), so expressions may wrap.
  struct Open {
    char ch;
    SourceLoc loc;
  };
  std::vector<Open> open;  // unclosed brackets, innermost last
  int parenDepth = 0;      // ( and [ only
  bool lastCanEnd = false; // the previous token could end a statement
  bool failed = false;     // a diagnostic was already recorded
  struct {
    int line = 0, column = 0;
  } lastEnd;               // just past the last token, where "end of file" is reported

  // One-call grammar actions.
  void addDims(const std::vector<DimDecl> &names);
  void addFunc(FuncDef def);
  ExprId number(SourceLoc loc, std::string text);
  DimRef dimLiteral(SourceLoc loc, const std::string &text);
  DimRef dimRef(SourceLoc loc, ExprId e);
  ExprId indexExpr(SourceLoc loc, ExprId base, const std::vector<ExprId> &items);
  void openBracket(char ch, int line, int col);
  void closeBracket(char ch);
  void invalidToken(SourceLoc loc, std::string message);
  /// Reports a syntax error; at the end of the file an unclosed bracket is the likely cause.
  void syntaxError(SourceLoc loc, const std::string &message, bool atEnd);
};

/// "invalid character '$'", or the byte in hex when it is not printable.
std::string describeInvalidByte(unsigned char byte);

} // namespace gradc
