// SourceText.h: how expressions and values read in a picture: which expressions are gates, an
// expression as short infix text, a value as the text on its edge.
#pragma once

#include "frontend/Ast.h"
#include "ir/OpTable.h"

#include <string>
#include <utility>
#include <vector>

namespace gradc {

/// An operation drawn as a gate (not a name, literal, slice or keyword argument).
bool isGate(ExprKind k);
/// An expression that may be drawn as a node of its own (a gate or a literal).
bool isDrawn(ExprKind k);

/// Visits the expressions of `root`'s tree, children before parents, each once, with an
/// explicit stack (no recursion to the depth of the input).
template <typename F>
void postOrder(const Ast &ast, ExprId root, F visit) {
  std::vector<std::pair<ExprId, bool>> stack{{root, false}};
  while (!stack.empty()) {
    auto [id, expanded] = stack.back();
    stack.pop_back();
    if (id == kNoExpr)
      continue;
    if (!expanded) {
      stack.push_back({id, true});
      const Expr &e = ast[id];
      for (auto k = e.kids.rbegin(); k != e.kids.rend(); ++k)
        stack.push_back({*k, false});
      continue;
    }
    visit(id);
  }
}

/// An expression as source text, parenthesized only where precedence needs it, each part cut
/// at a label's length: for indices, keyword values and shapes written in a label.
std::string infix(const Ast &ast, ExprId root);

} // namespace gradc
