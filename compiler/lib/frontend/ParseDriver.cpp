// ParseDriver.cpp: the grammar's one-call actions and the scanner's bracket bookkeeping.
#include "frontend/ParseDriver.h"

#include "ir/Type.h"
#include "support/Numbers.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace gradc {

void ParseDriver::addDims(const std::vector<DimDecl> &names) {
  for (const DimDecl &d : names)
    ast.dims.push_back(d);
}

void ParseDriver::addFunc(FuncDef def) {
  def.dimsBefore = ast.dims.size();
  ast.funcs.push_back(std::move(def));
}

// A literal whose value is not a finite double (1e400), or that rounds a non-zero
// value to zero (1e-400), is an error rather than a silent inf or 0: the rule of every
// input path (support/Numbers.h).
ExprId ParseDriver::number(SourceLoc loc, std::string text) {
  double v;
  if (parseReal(text, v) != NumberStatus::Ok) {
    diags.error(loc, "numeric literal '" + text + "' is out of range for f64");
    failed = true;
  }
  return ast.add(ExprKind::Number, loc, std::move(text));
}

DimRef ParseDriver::dimRef(SourceLoc loc, ExprId e) {
  const Expr &x = ast[e];
  if (x.kind == ExprKind::Name)
    return {loc, x.text, 0, kNoExpr};
  if (x.kind == ExprKind::Number)
    return dimLiteral(loc, x.text);
  return {loc, "", 0, e};
}

DimRef ParseDriver::dimLiteral(SourceLoc loc, const std::string &text) {
  DimRef d{loc, "", 0};
  bool integral = text.find_first_not_of("0123456789") == std::string::npos;
  errno = 0;
  unsigned long long v = integral ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (integral && v != 0 && (errno == ERANGE || v > static_cast<unsigned long long>(kMaxDimSize))) {
    diags.error(loc, "shape entry " + text + " is larger than " + std::to_string(kMaxDimSize) +
                         " (2^40), the largest size of an axis");
    failed = true;
    d.size = 1;
  } else if (!integral || v == 0) {
    diags.error(loc, "a shape entry must be a positive integer or a dim name, not '" + text + "'");
    failed = true;
    d.size = 1;
  } else {
    d.size = static_cast<int64_t>(v);
  }
  return d;
}

ExprId ParseDriver::indexExpr(SourceLoc loc, ExprId base, const std::vector<ExprId> &items) {
  std::vector<ExprId> kids;
  kids.reserve(items.size() + 1);
  kids.push_back(base);
  kids.insert(kids.end(), items.begin(), items.end());
  return ast.add(ExprKind::Index, loc, "", std::move(kids));
}

void ParseDriver::openBracket(char ch, int line, int col) {
  open.push_back({ch, {static_cast<uint32_t>(line), static_cast<uint32_t>(col)}});
  if (ch != '{')
    ++parenDepth;
}

void ParseDriver::closeBracket(char ch) {
  if (open.empty() || open.back().ch != ch)
    return; // a mismatch is the parser's to report
  open.pop_back();
  if (ch != '{')
    --parenDepth;
}

void ParseDriver::invalidToken(SourceLoc loc, std::string message) {
  diags.error(loc, std::move(message));
  failed = true;
}

void ParseDriver::syntaxError(SourceLoc loc, const std::string &message, bool atEnd) {
  if (failed && message.empty())
    return;
  if (atEnd && !open.empty()) {
    const Open &o = open.back();
    diags.error(o.loc, std::string("'") + o.ch + "' is never closed");
  } else if (!message.empty()) {
    diags.error(loc, message);
  }
  failed = true;
  // The parser goes on at the next line (grammar/expr.y): brackets opened before the error
  // are forgotten, or no line would end until they close and every later error would be lost.
  open.clear();
  parenDepth = 0;
}

std::string describeInvalidByte(unsigned char byte) {
  if (byte >= 0x21 && byte < 0x7f)
    return std::string("invalid character '") + static_cast<char>(byte) + "'";
  char buf[48];
  std::snprintf(buf, sizeof buf, "invalid byte 0x%02X", byte);
  return buf;
}

} // namespace gradc
