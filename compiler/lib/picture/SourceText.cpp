// SourceText.cpp: expressions and values as the text of a picture.
#include "picture/SourceText.h"

#include "picture/SourceGraph.h"
#include "support/Numbers.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace gradc {

namespace {

constexpr size_t kSummaryElements = 6; // a tensor this small is written whole
constexpr size_t kLabelChars = 60;     // of an index, keyword or shape written in a label

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k)
    s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + "]";
}

} // namespace

bool isGate(ExprKind k) {
  return k != ExprKind::Number && k != ExprKind::Name && k != ExprKind::Slice && k != ExprKind::KwArg;
}

bool isDrawn(ExprKind k) { return isGate(k) || k == ExprKind::Number; }

// An expression as source text (infix, parenthesized only where precedence needs it), built
// children first. For the short texts of labels: index items, keyword values, shapes.
std::string infix(const Ast &ast, ExprId root) {
  std::unordered_map<ExprId, std::pair<std::string, int>> text; // (text, precedence)
  auto prec = [](const Expr &e) {
    if (e.kind == ExprKind::Compare)
      return 1;
    if (e.kind == ExprKind::Binary)
      return e.text == "+" || e.text == "-" ? 2 : e.text == "^" ? 5 : 3;
    return e.kind == ExprKind::Neg ? 4 : 9;
  };
  postOrder(ast, root, [&](ExprId id) {
    const Expr &e = ast[id];
    auto kid = [&](size_t k, int atLeast) {
      if (e.kids[k] == kNoExpr)
        return std::string();
      const auto &[t, p] = text[e.kids[k]];
      return p < atLeast ? "(" + t + ")" : t;
    };
    auto list = [&](size_t from) {
      std::string s;
      for (size_t k = from; k < e.kids.size(); ++k)
        s += (k > from ? ", " : "") + kid(k, 0);
      return s;
    };
    std::string t;
    int p = prec(e);
    switch (e.kind) {
    case ExprKind::Number:
    case ExprKind::Name: t = e.text; break;
    case ExprKind::Neg: t = "-" + kid(0, 5); break;
    case ExprKind::Binary:
    case ExprKind::Compare: t = kid(0, e.text == "^" ? p + 1 : p) + " " + e.text + " " + kid(1, e.text == "^" ? p : p + 1); break;
    case ExprKind::Call: t = e.text + "(" + list(0) + ")"; break;
    case ExprKind::KwArg: t = e.text + "=" + kid(0, 0); break;
    case ExprKind::Index: t = kid(0, 9) + "[" + list(1) + "]"; break;
    case ExprKind::Slice: t = kid(0, 0) + ":" + kid(1, 0); break;
    case ExprKind::List: t = "[" + list(0) + "]"; break;
    case ExprKind::Attr: t = kid(0, 9) + "." + e.text; break;
    }
    if (t.size() > kLabelChars) // a label part, never the size of the input
      t = t.substr(0, kLabelChars - 3) + "...";
    text[id] = {std::move(t), p};
  });
  return text[root].first;
}

std::string edgeValueText(const Tensor &t, bool full) {
  if (t.shape.empty())
    return t.data.empty() ? "" : shortestText(t.data[0]);
  if (full || t.data.size() <= kSummaryElements)
    return nestedText(t, shortestText);
  double lo = INFINITY, hi = -INFINITY, sq = 0;
  for (double v : t.data) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sq += v * v;
  }
  return shapeText(t.shape) + " min " + shortestText(lo) + " max " + shortestText(hi) + " norm " +
         shortestText(std::sqrt(sq));
}

} // namespace gradc
