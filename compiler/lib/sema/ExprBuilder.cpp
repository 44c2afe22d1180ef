// ExprBuilder.cpp: expressions to IR, checked as they are built. The walk is an
// explicit-stack post-order, so a 200,000-deep expression needs no deep recursion.
#include "sema/ExprBuilder.h"

#include "ir/DimArith.h"
#include "ir/Inline.h"
#include "ir/OpTable.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace gradc {


int32_t findDim(const DimTable &dims, const std::string &name, size_t visible) {
  for (size_t i = 0; i < visible && i < dims.names.size(); ++i)
    if (dims.names[i] == name)
      return static_cast<int32_t>(i);
  return -1;
}

NodeId ExprBuilder::build(ExprId root) {
  std::vector<std::pair<ExprId, bool>> stack{{root, false}};
  while (!stack.empty()) {
    auto [id, expanded] = stack.back();
    stack.pop_back();
    if (id == kNoExpr || values_.count(id))
      continue;
    if (!expanded) {
      stack.push_back({id, true});
      const Expr &e = ast_[id];
      for (auto k = e.kids.rbegin(); k != e.kids.rend(); ++k)
        stack.push_back({*k, false});
      continue;
    }
    visit(id);
  }
  Value v = values_[root];
  if (!v.failed && v.node == kNoNode && ast_[root].kind == ExprKind::List)
    v = listValue(root);
  return v.failed ? kNoNode : v.node;
}

ExprBuilder::Value ExprBuilder::fail(SourceLoc loc, std::string message) {
  diags_.error(loc, std::move(message));
  return Value{kNoNode, std::nullopt, true};
}

NodeId ExprBuilder::make(SourceLoc loc, Op op, std::vector<NodeId> operands, Attrs attrs) {
  std::string error;
  NodeId n = g_.tryMake(op, std::move(operands), std::move(attrs), error);
  if (n == kNoNode)
    diags_.error(loc, error);
  else
    g_.setLoc(n, loc);
  return n;
}

std::vector<std::pair<int32_t, NodeId>> ExprBuilder::exprValues() const {
  std::vector<std::pair<int32_t, NodeId>> out;
  for (const auto &[id, v] : values_)
    if (v.node != kNoNode)
      out.push_back({id, v.node});
  std::sort(out.begin(), out.end());
  return out;
}

void ExprBuilder::visit(ExprId id) {
  const Expr &e = ast_[id];
  Value v;
  // A failed operand has been reported already; its parent fails quietly.
  bool kidFailed = false;
  for (ExprId k : e.kids)
    if (k != kNoExpr && values_[k].failed)
      kidFailed = true;
  if (kidFailed) {
    // A call of a function that does not exist is its own error, whatever its arguments did.
    if (e.kind == ExprKind::Call && !funcIndex_.count(e.text) && !isBuiltinFunction(e.text))
      fail(e.loc, env.count(e.text) ? "'" + e.text + "' is a value, not a function"
                                    : "unknown function '" + e.text + "'");
    values_[id] = Value{kNoNode, std::nullopt, true};
    return;
  }
  // A list is a shape where a builtin takes one (reshape's, zeros'); elsewhere it is a value,
  // its elements stacked.
  for (size_t i = 0; i < e.kids.size(); ++i) {
    ExprId k = e.kids[i];
    bool shapeArg = e.kind == ExprKind::Call && takesShapeList(e.text, i);
    if (k != kNoExpr && ast_[k].kind == ExprKind::List && !shapeArg && e.kind != ExprKind::List &&
        listValue(k).failed) {
      values_[id] = Value{kNoNode, std::nullopt, true};
      return;
    }
  }
  switch (e.kind) {
  case ExprKind::Number:
    v = number(e);
    break;
  case ExprKind::Name:
    v = name(e);
    break;
  case ExprKind::Neg: {
    const Value &a = values_[e.kids[0]];
    if (a.dim)
      v.dim = negateDim(g_.dims(), *a.dim);
    if (a.node != kNoNode)
      v.node = make(e.loc, Op::Neg, {a.node});
    break;
  }
  case ExprKind::Binary:
    v = binary(e);
    break;
  case ExprKind::Compare:
    v = compare(e);
    break;
  case ExprKind::Call:
    v = call(e);
    break;
  case ExprKind::KwArg:
    v = values_[e.kids[0]];
    break;
  case ExprKind::Index:
    v = index(e);
    break;
  case ExprKind::Slice:
  case ExprKind::List:
    break; // consumed by their parent (index, reshape)
  case ExprKind::Attr:
    v = attr(e);
    break;
  }
  if (v.node == kNoNode && !v.failed && e.kind != ExprKind::Slice && e.kind != ExprKind::List &&
      e.kind != ExprKind::KwArg)
    v.failed = true; // an error was reported by make()
  values_[id] = v;
}

ExprBuilder::Value ExprBuilder::number(const Expr &e) {
  Value v;
  double x = std::strtod(e.text.c_str(), nullptr);
  v.node = g_.constant(x);
  if (e.text.find_first_not_of("0123456789") == std::string::npos && x <= static_cast<double>(kMaxElements))
    v.dim = Dim::lit(static_cast<int64_t>(x));
  return v;
}

ExprBuilder::Value ExprBuilder::name(const Expr &e) {
  auto it = env.find(e.text);
  if (it != env.end()) // a name whose definition failed (reported there) fails quietly
    return Value{it->second, std::nullopt, it->second == kNoNode};
  int32_t d = findDim(g_.dims(), e.text, dimsVisible_);
  if (d >= 0) {
    Dim size = resolveDim(g_.dims(), d); // `dim M = D*(D+1)/2`: M's value is that size's
    NodeId n = g_.constant(static_cast<double>(size.off));
    if (!size.isLiteral()) {
      Attrs a;
      a.ints = {size.sym};
      NodeId dv = make(e.loc, Op::DimValue, {}, a);
      n = size.off == 0 || dv == kNoNode ? dv : make(e.loc, Op::Add, {dv, n});
    }
    return Value{n, size, n == kNoNode};
  }
  if (funcIndex_.count(e.text) || isBuiltinFunction(e.text))
    return fail(e.loc, "'" + e.text + "' is a function; call it as " + e.text + "(...)");
  if (findDim(g_.dims(), e.text, g_.dims().names.size()) >= 0)
    return fail(e.loc, "dim '" + e.text + "' is used before its declaration");
  return fail(e.loc, "unknown name '" + e.text + "'");
}

// numpy broadcasting: shapes align on the right; sizes must match or be 1.
bool ExprBuilder::broadcastAll(SourceLoc loc, const char *what, std::vector<NodeId> &ops) {
  // Constants are weakly typed (as in NumPy and PyTorch): `x * 0.5` stays f32 for an f32 x.
  bool f32 = false, f64 = false;
  for (NodeId n : ops) {
    bool isConst = g_.node(n).op == Op::Const;
    f32 = f32 || (!isConst && g_.type(n).dtype == DType::F32);
    f64 = f64 || (!isConst && g_.type(n).dtype == DType::F64);
  }
  if (f32 && !f64)
    for (NodeId &n : ops)
      if (g_.node(n).op == Op::Const && g_.type(n).dtype == DType::F64)
        n = g_.constant(g_.node(n).num, g_.type(n).shape, DType::F32);
  Shape target;
  for (NodeId n : ops) {
    const Shape &s = g_.type(n).shape;
    if (s.size() > target.size())
      target.insert(target.begin(), s.size() - target.size(), Dim::lit(1));
    for (size_t i = 0; i < s.size(); ++i) {
      Dim &t = target[target.size() - s.size() + i];
      const Dim &d = s[i];
      if (t == d || d == Dim::lit(1))
        continue;
      if (t == Dim::lit(1)) {
        t = d;
        continue;
      }
      std::string shapes;
      for (size_t j = 0; j < ops.size(); ++j)
        shapes += (j ? (j + 1 == ops.size() ? " and " : ", ") : "") + shapeStr(ops[j]);
      diags_.error(loc, std::string("shapes ") + shapes + " cannot be broadcast together in " + what);
      return false;
    }
  }
  for (NodeId &n : ops) {
    if (g_.type(n).shape == target)
      continue;
    Attrs a;
    a.type = Type{g_.type(n).dtype, target};
    n = make(loc, Op::Broadcast, {n}, a);
    if (n == kNoNode)
      return false;
  }
  return true;
}

static Op binaryOp(const std::string &s) {
  if (s == "+")
    return Op::Add;
  if (s == "-")
    return Op::Sub;
  if (s == "*")
    return Op::Mul;
  if (s == "/")
    return Op::Div;
  if (s == "^")
    return Op::Pow;
  return Op::MatMul;
}

ExprBuilder::Value ExprBuilder::binary(const Expr &e) {
  const Value &a = values_[e.kids[0]];
  const Value &b = values_[e.kids[1]];
  Value v;
  if (a.dim && b.dim && e.text.size() == 1) // integer arithmetic on sizes: n - 1, K*D, D*(D+1)/2
    v.dim = foldDims(g_.dims(), e.text[0], *a.dim, *b.dim);
  Op op = binaryOp(e.text);
  if (op == Op::MatMul && !g_.type(a.node).isScalar() && !g_.type(b.node).isScalar() &&
      (g_.type(a.node).shape.size() > 2 || g_.type(b.node).shape.size() > 2)) {
    v.node = batchedMatMul(e.loc, a.node, b.node);
    v.failed = v.node == kNoNode;
    return v;
  }
  std::vector<NodeId> ops{a.node, b.node};
  if (op != Op::MatMul && !broadcastAll(e.loc, ("'" + e.text + "'").c_str(), ops))
    return Value{kNoNode, std::nullopt, true};
  v.node = make(e.loc, op, ops);
  return v;
}

static Op compareOp(const std::string &s) {
  if (s == "<")
    return Op::Lt;
  if (s == "<=")
    return Op::Le;
  if (s == ">")
    return Op::Gt;
  if (s == ">=")
    return Op::Ge;
  if (s == "==")
    return Op::Eq;
  return Op::Ne;
}

ExprBuilder::Value ExprBuilder::compare(const Expr &e) {
  std::vector<NodeId> ops{values_[e.kids[0]].node, values_[e.kids[1]].node};
  if (!broadcastAll(e.loc, ("'" + e.text + "'").c_str(), ops))
    return Value{kNoNode, std::nullopt, true};
  return Value{make(e.loc, compareOp(e.text), ops), std::nullopt, false};
}

std::optional<Dim> ExprBuilder::staticDim(ExprId id, const char *what) {
  const Value &v = values_[id];
  if (v.dim && v.dim->sym >= -1)
    return v.dim;
  diags_.error(ast_[id].loc, v.dim && v.dim->sym == kDimTooLarge
                                 ? std::string(what) + " is larger than 2^56 in magnitude"
                                 : std::string(what) + " must be an integer literal or a dim expression such as 'n-1'");
  return std::nullopt;
}

// x.T and transpose(x) reverse the axes (a vector or scalar is unchanged).
NodeId ExprBuilder::transposeOf(SourceLoc loc, NodeId x) {
  Attrs a;
  for (size_t k = g_.type(x).shape.size(); k-- > 0;)
    a.ints.push_back(static_cast<int64_t>(k));
  return make(loc, Op::Transpose, {x}, a);
}

ExprBuilder::Value ExprBuilder::attr(const Expr &e) {
  if (e.text != "T")
    return fail(e.loc, "unknown attribute '." + e.text + "' (only '.T' exists)");
  return Value{transposeOf(e.loc, values_[e.kids[0]].node), std::nullopt, false};
}

ExprBuilder::Value ExprBuilder::call(const Expr &e) {
  std::vector<ExprId> args, kws;
  for (ExprId k : e.kids) {
    if (ast_[k].kind == ExprKind::KwArg) {
      kws.push_back(k);
    } else {
      if (!kws.empty())
        return fail(ast_[k].loc, "positional argument after a keyword argument");
      args.push_back(k);
    }
  }
  for (size_t i = 0; i < kws.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (ast_[kws[i]].text == ast_[kws[j]].text)
        return fail(ast_[kws[i]].loc, "keyword argument '" + ast_[kws[i]].text + "' is given twice");
  if (auto f = funcIndex_.find(e.text); f != funcIndex_.end()) {
    if (!kws.empty())
      return fail(ast_[kws[0]].loc, "function '" + e.text + "' takes no keyword arguments");
    return callUser(e, f->second, args);
  }
  return builtin(e, args, kws);
}

// A call of a user function is one node of the callee's result type; its body replaces it
// when the function is inlined (ir/Inline.h), so checking a program costs its size however
// its functions call each other.
ExprBuilder::Value ExprBuilder::callUser(const Expr &e, size_t index, const std::vector<ExprId> &args) {
  const Function &callee = bodies_[index];
  if (callee.hasErrors) // reported in the callee; its signature may not even be known
    return Value{kNoNode, std::nullopt, true};
  if (args.size() != callee.params.size())
    return fail(e.loc, "function '" + callee.name + "' takes " +
                           std::to_string(callee.params.size()) + " argument" +
                           (callee.params.size() == 1 ? "" : "s") + ", got " +
                           std::to_string(args.size()));
  std::vector<NodeId> argNodes;
  for (size_t i = 0; i < args.size(); ++i) {
    NodeId a = values_[args[i]].node;
    const ParamInfo &p = callee.params[i];
    if (g_.type(a).shape != p.type.shape)
      return fail(ast_[args[i]].loc, "argument " + std::to_string(i + 1) + " of '" + callee.name +
                                         "' has shape " + shapeStr(a) + ", but parameter '" +
                                         p.name + "' has shape " + g_.dims().str(p.type.shape));
    argNodes.push_back(a);
  }
  // A call on arguments of the parameters' dtypes is one node, of the callee's result type.
  // Otherwise (an f32 value for an f64 parameter) the body's types depend on the arguments:
  // it is inlined now, as it will be typed when compiled.
  if (!callKeepsItsType(bodies_, index, g_, argNodes))
    return Value{inlineBody(bodies_, index, argNodes, g_, true), std::nullopt, false};
  Attrs attrs;
  attrs.ints = {static_cast<int64_t>(index)};
  attrs.type = callee.graph->type(callee.result);
  return Value{make(e.loc, Op::Call, std::move(argNodes), std::move(attrs)), std::nullopt, false};
}

} // namespace gradc
