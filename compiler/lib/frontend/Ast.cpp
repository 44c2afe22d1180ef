// Ast.cpp: building and printing the syntax tree without recursion.
#include "frontend/Ast.h"

#include <ostream>

namespace gradc {

ExprId Ast::add(ExprKind kind, SourceLoc loc, std::string text, std::vector<ExprId> kids) {
  exprs.push_back({kind, loc, std::move(text), std::move(kids)});
  return static_cast<ExprId>(exprs.size() - 1);
}

// Prints an expression as an S-expression. The walk keeps its own stack of pending
// pieces (either text to print or a subtree to expand), so deep nesting is safe.
std::string Ast::exprToString(ExprId root) const {
  struct Item {
    ExprId id;
    const char *text;
  };
  std::string out;
  std::vector<Item> stack{{root, nullptr}};
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    if (it.text) {
      out += it.text;
      continue;
    }
    if (it.id == kNoExpr) {
      out += "_";
      continue;
    }
    const Expr &e = (*this)[it.id];
    switch (e.kind) {
    case ExprKind::Number:
    case ExprKind::Name:
      out += e.text;
      continue;
    case ExprKind::Neg:
      out += "(neg";
      break;
    case ExprKind::Binary:
    case ExprKind::Compare:
      out += "(" + e.text;
      break;
    case ExprKind::Call:
      out += "(call " + e.text;
      break;
    case ExprKind::KwArg:
      out += "(kw " + e.text;
      break;
    case ExprKind::Index:
      out += "(index";
      break;
    case ExprKind::Slice:
      out += "(slice";
      break;
    case ExprKind::List:
      out += "(list";
      break;
    case ExprKind::Attr:
      out += "(attr " + e.text;
      break;
    }
    stack.push_back({kNoExpr, ")"});
    for (auto k = e.kids.rbegin(); k != e.kids.rend(); ++k) {
      stack.push_back({*k, nullptr});
      stack.push_back({kNoExpr, " "});
    }
  }
  return out;
}

static void printParam(std::ostream &os, const Ast &ast, const ParamDecl &p) {
  os << p.name << ": " << (p.isConst ? "const " : "") << dtypeName(p.dtype);
  if (p.hasShape) {
    os << "[";
    for (size_t i = 0; i < p.shape.size(); ++i) {
      if (i)
        os << ", ";
      if (p.shape[i].expr != kNoExpr)
        os << ast.exprToString(p.shape[i].expr);
      else if (p.shape[i].name.empty())
        os << p.shape[i].size;
      else
        os << p.shape[i].name;
    }
    os << "]";
  }
}

void Ast::dump(std::ostream &os) const {
  for (const DimDecl &d : dims)
    os << "dim " << d.name << (d.value == kNoExpr ? "" : " = " + exprToString(d.value)) << "\n";
  for (const FuncDef &f : funcs) {
    os << "def " << f.name << "(";
    for (size_t i = 0; i < f.params.size(); ++i) {
      if (i)
        os << ", ";
      printParam(os, *this, f.params[i]);
    }
    os << ")\n";
    for (const Stmt &s : f.body) {
      if (s.kind == Stmt::Assign)
        os << "  " << s.name << " = " << exprToString(s.value) << "\n";
      else
        os << "  return " << exprToString(s.value) << "\n";
    }
  }
}

} // namespace gradc
