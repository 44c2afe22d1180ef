// SizeExprs.cpp: size expressions of declarations and parameter shapes.
#include "sema/SizeExprs.h"

#include "ir/DimArith.h"
#include "sema/ExprBuilder.h"

#include <algorithm>
#include <unordered_map>

namespace gradc {

std::optional<Dim> sizeOfExpr(const Ast &ast, ExprId root, const DimTable &dims, size_t visible,
                              Diagnostics &diags) {
  // Children are created before their parents (Ast.h): ascending ids are a post-order.
  std::vector<ExprId> ids;
  for (std::vector<ExprId> stack{root}; !stack.empty();) {
    ExprId id = stack.back();
    stack.pop_back();
    ids.push_back(id);
    for (ExprId k : ast[id].kids)
      if (k != kNoExpr)
        stack.push_back(k);
  }
  std::sort(ids.begin(), ids.end());
  std::unordered_map<ExprId, Dim> size;
  for (ExprId id : ids) {
    const Expr &e = ast[id];
    Dim d{kNotASize, 0};
    switch (e.kind) {
    case ExprKind::Number:
      if (e.text.find_first_not_of("0123456789") != std::string::npos || e.text.size() > 18) {
        diags.error(e.loc, "a size must be a whole number, a dim or dim arithmetic such as 'D*(D+1)/2', not " + e.text);
        return std::nullopt;
      }
      d = Dim::lit(std::stoll(e.text));
      break;
    case ExprKind::Name: {
      int32_t sym = findDim(dims, e.text, visible);
      if (sym < 0) {
        bool later = findDim(dims, e.text, dims.names.size()) >= 0;
        diags.error(e.loc, later ? "dim '" + e.text + "' is used before its declaration"
                                 : "undeclared dim '" + e.text + "' (declare it with 'dim " + e.text + "')");
        return std::nullopt;
      }
      d = resolveDim(dims, sym);
      break;
    }
    case ExprKind::Neg:
      d = negateDim(dims, size.at(e.kids[0]));
      break;
    case ExprKind::Binary:
      if (e.text == "+" || e.text == "-" || e.text == "*" || e.text == "/") {
        d = foldDims(dims, e.text[0], size.at(e.kids[0]), size.at(e.kids[1]));
        break;
      }
      diags.error(e.loc, "'" + e.text + "' in a size: a size is made of whole numbers and dims with + - * / and parentheses");
      return std::nullopt;
    default:
      diags.error(e.loc, "a size is made of whole numbers and dims with + - * / and parentheses");
      return std::nullopt;
    }
    if (d.sym == kDimTooLarge) {
      diags.error(e.loc, "this size is beyond 2^56 in magnitude");
      return std::nullopt;
    }
    if (d.sym == kNotASize) {
      bool byNumber = e.kind == ExprKind::Binary && e.text == "/" && size.at(e.kids[1]).isLiteral();
      diags.error(e.loc, byNumber ? "this division is not a size: it divides by zero, or a number by one that does not divide it"
                                  : "this size is too large a polynomial to keep (at most 32 terms of degree 8, coefficients within 2^63)");
      return std::nullopt;
    }
    size[id] = d;
  }
  return size.at(root);
}

} // namespace gradc
