// CExpressions.cpp: loop IR expressions as C: operators for scalars, helpers (CHelpers.h)
// for vectors and for what C has no operator for.
#include "codegen/c/CFunctionPrinter.h"
#include "codegen/c/CPrinter.h"
#include "loops/NamedExprs.h"

#include "gradc/Diagnostics.h"

#include <algorithm>

namespace gradc::cgen {

using loops::BufferKind;
using loops::Expr;
using loops::Kind;
using loops::Op;
using loops::Ty;

namespace {

bool isLeaf(const Expr &x) { return x.ops.empty(); }

} // namespace

// Names what the statement's expressions read more than once and every few levels of a deep
// expression (loops/NamedExprs.h), as C temporaries.
void CFunctionPrinter::prepare(const std::vector<ExprId> &roots, int depth) {
  names_.clear();
  for (ExprId e : loops::exprsToName(f_, roots, true)) {
    const Expr &x = f_.expr(e);
    std::string text = expr(e), name = fresh("t" + std::to_string(temps_++));
    line(depth, declaration(x.type, name, true) + " = " + bare(text) + ";");
    names_[e] = name;
  }
}

std::string CFunctionPrinter::expr(ExprId e) {
  if (auto n = names_.find(e); n != names_.end())
    return n->second;
  const Expr &x = f_.expr(e);
  return x.type.isVector() && !isLeaf(x) ? vectorExpr(x) : compute(x);
}

std::string CFunctionPrinter::bufferBase(int32_t buffer) {
  const loops::Buffer &b = f_.buffers()[static_cast<size_t>(buffer)];
  std::string t = CHelpers::memoryType(b.elem.kind);
  switch (b.kind) {
  case BufferKind::Arg: {
    // The parameter as declared when it points at elements of this type, else cast.
    const std::string &p = params_[static_cast<size_t>(b.arg)];
    const std::string declared = f_.cParams.empty() ? "" : f_.cParams[static_cast<size_t>(b.arg)];
    if (declared == t + " *" || declared == "const " + t + " *")
      return p;
    return "((" + t + " *)" + p + ")";
  }
  case BufferKind::Stack:
    return stacks_[static_cast<size_t>(buffer)];
  case BufferKind::View:
    return "((" + t + " *)" + expr(b.base) + ")";
  }
  return "";
}

std::string CFunctionPrinter::element(int32_t buffer, ExprId index) {
  return bufferBase(buffer) + "[" + expr(index) + "]";
}

bool CFunctionPrinter::callsOut(ExprId root) const {
  std::unordered_set<ExprId> seen;
  return !loops::visitExprs(f_, root, seen, [](const loops::Expr &x) { return !loops::callsOut(x); });
}

std::string CFunctionPrinter::combine(const loops::Stmt &acc, const std::string &local, const std::string &value) {
  holeText_[0] = local;
  holeText_[1] = value;
  auto saved = names_;
  names_.clear(); // the combine's nodes are its own (holes differ per use)
  std::string s = expr(acc.b);
  names_ = std::move(saved);
  return s;
}

std::string CFunctionPrinter::compute(const Expr &x) {
  auto sub = [&](size_t k) { return expr(x.ops[k]); };
  Ty t = x.type;
  switch (x.op) {
  case Op::Int:
  case Op::Float:
    return cLiteral(x);
  case Op::Arg:
    return params_[static_cast<size_t>(x.ref)];
  case Op::Var:
    return varText_[static_cast<size_t>(x.ref)];
  case Op::Local:
    return localText_[static_cast<size_t>(x.ref)];
  case Op::Hole:
    return holeText_[x.ref];
  case Op::Min:
  case Op::Max:
    return helpers_.intMinMax(x.op, t) + "(" + sub(0) + ", " + sub(1) + ")";
  case Op::Neg:
    return "(-" + sub(0) + ")";
  case Op::Not:
    return "(!" + sub(0) + ")";
  case Op::IsNaN:
    return "isnan(" + sub(0) + ")";
  case Op::Select:
    return "(" + sub(0) + " ? " + sub(1) + " : " + sub(2) + ")";
  case Op::Fma: // a * b + c: the C compiler may contract it as LLVM's fmuladd may
    return "(" + sub(0) + " * " + sub(1) + " + " + sub(2) + ")";
  case Op::Call: {
    std::string s = (x.flags & loops::kMathCall) ? helpers_.math(static_cast<loops::Math>(x.ref), t)
                                                 : cSymbol(f_.callees()[static_cast<size_t>(x.ref)].symbol);
    s += "(";
    for (size_t k = 0; k < x.ops.size(); ++k)
      s += (k ? ", " : "") + sub(k);
    return s + ")";
  }
  case Op::Cast: {
    Ty from = f_.type(x.ops[0]);
    if (from.kind == Kind::Ptr)
      return std::string("((") + CHelpers::memoryType(t.kind) + ")(" + (t.kind == Kind::U64 ? "uintptr_t" : "intptr_t") +
             ")" + sub(0) + ")";
    return std::string("((") + CHelpers::memoryType(t.kind) + ")" + sub(0) + ")";
  }
  case Op::Load: {
    const loops::Buffer &b = f_.buffers()[static_cast<size_t>(x.ref)];
    if (b.elem.kind != t.kind) // the same bytes read as another type
      return helpers_.loadBits(t) + "(&" + element(x.ref, x.ops[0]) + ")";
    return element(x.ref, x.ops[0]);
  }
  case Op::Addr:
    return "(&" + element(x.ref, x.ops[0]) + ")";
  case Op::ReduceAdd:
    return helpers_.reduceAdd(f_.type(x.ops[0])) + "(" + sub(0) + ")";
  default:
    if (const char *op = cInfix(x.op))
      return "(" + sub(0) + op + sub(1) + ")";
  }
  internalError("the C printer has no spelling for a loop IR node");
}

std::string CFunctionPrinter::vectorExpr(const Expr &x) {
  auto sub = [&](size_t k) { return expr(x.ops[k]); };
  auto call = [&](const std::string &fn) {
    std::string s = fn + "(";
    for (size_t k = 0; k < x.ops.size(); ++k)
      s += (k ? ", " : "") + sub(k);
    return s + ")";
  };
  Ty t = x.type;
  switch (x.op) {
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Rem:
  case Op::Min:
  case Op::Max:
  case Op::And:
  case Op::Or:
    return call(helpers_.binary(x.op, t));
  case Op::Lt:
  case Op::Le:
  case Op::Gt:
  case Op::Ge:
  case Op::Eq:
  case Op::Ne:
    return call(helpers_.compare(x.op, f_.type(x.ops[0])));
  case Op::Neg:
  case Op::Not:
    return call(helpers_.unary(x.op, t));
  case Op::IsNaN:
    return call(helpers_.unary(x.op, f_.type(x.ops[0])));
  case Op::Select:
    return call(helpers_.select(t));
  case Op::Fma:
    return call(helpers_.fma(t));
  case Op::Call:
    GRADC_ASSERT(x.flags & loops::kMathCall, "a vector call of a function");
    return call(helpers_.math(static_cast<loops::Math>(x.ref), t));
  case Op::Cast:
    return call(helpers_.cast(f_.type(x.ops[0]), t));
  case Op::Broadcast:
    return call(helpers_.splat(t));
  case Op::Ramp:
    return call(helpers_.ramp(t));
  case Op::Load: {
    std::string at = "&" + element(x.ref, x.ops[0]);
    if (x.ops.size() > 1)
      return helpers_.load(t, true) + "(" + at + ", " + sub(1) + ")";
    return helpers_.load(t, false) + "(" + at + ")";
  }
  default:
    internalError("the C printer has no spelling for a vector loop IR node");
  }
}

} // namespace gradc::cgen
