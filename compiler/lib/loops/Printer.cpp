// Printer.cpp: one line per statement, expressions inline; a subexpression a statement uses
// more than once is printed once before it, as `%N = ...`.
#include "loops/Printer.h"

#include "loops/NamedExprs.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <map>

namespace gradc::loops {

namespace {

std::string typeName(Ty t) {
  std::string s = kindName(t.kind);
  return t.lanes > 1 ? s + "x" + std::to_string(t.lanes) : s;
}

std::string number(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

const char *opText(Op op) {
  switch (op) {
  case Op::Add: return "+";
  case Op::Sub: return "-";
  case Op::Mul: return "*";
  case Op::Div: return "/";
  case Op::Rem: return "%";
  case Op::Lt: return "<";
  case Op::Le: return "<=";
  case Op::Gt: return ">";
  case Op::Ge: return ">=";
  case Op::Eq: return "==";
  case Op::Ne: return "!=";
  case Op::And: return "&&";
  case Op::Or: return "||";
  default: return "?";
  }
}

const char *mathName(Math m) { return mathFnInfo(m).name; }

class FuncPrinter {
public:
  FuncPrinter(std::ostream &os, const Func &f) : os_(os), f_(f), localNames_(uniqueLocalNames(f)) {}

  void print() {
    os_ << "func " << f_.symbol << "(";
    for (size_t k = 0; k < f_.params.size(); ++k)
      os_ << (k ? ", " : "") << f_.params[k].name << ": " << typeName(f_.params[k].type)
          << (f_.params[k].noalias ? " noalias" : "");
    os_ << ") -> " << typeName(f_.ret)
        << (f_.linkage == Linkage::Internal ? " internal" : f_.linkage == Linkage::WeakODR ? " weak" : "")
        << (f_.noinline ? " noinline" : "") << (f_.shared ? " shared" : "") << " {\n";
    for (size_t b = 0; b < f_.buffers().size(); ++b) {
      const Buffer &buf = f_.buffers()[b];
      os_ << "  buffer " << buf.name << ": " << typeName(buf.elem);
      if (buf.kind == BufferKind::Arg)
        os_ << " = argument " << f_.params[static_cast<size_t>(buf.arg)].name;
      else if (buf.kind == BufferKind::Stack)
        os_ << "[" << buf.elems << "] on the stack" << (buf.align > 0 ? ", aligned to " + std::to_string(buf.align) : "");
      else
        os_ << " at " << expr(buf.base);
      if (buf.disjointGroup >= 0)
        os_ << " (disjoint group " << buf.disjointGroup << ")";
      os_ << "\n";
    }
    if (f_.body != kNone)
      stmt(f_.body, 1);
    os_ << "}\n";
  }

private:
  void indent(int d) {
    for (int i = 0; i < d; ++i)
      os_ << "  ";
  }

  // Names what the statement's expressions read more than once and deep subexpressions.
  void shared(const std::vector<ExprId> &roots, int depth) {
    names_.clear();
    for (ExprId e : exprsToName(f_, roots, false)) {
      std::string text = expr(e);
      names_[e] = "%" + std::to_string(next_++);
      indent(depth);
      os_ << names_[e] << " = " << text << "\n";
    }
  }

  std::string expr(ExprId e) {
    if (e == kNone)
      return "_";
    if (auto n = names_.find(e); n != names_.end())
      return n->second;
    const Expr &x = f_.expr(e);
    auto sub = [&](size_t k) { return expr(x.ops[k]); };
    switch (x.op) {
    case Op::Int:
      return x.type.kind == Kind::Bool ? (x.i ? "true" : "false") : std::to_string(x.i);
    case Op::Float:
      return number(x.f()) + (x.type.kind == Kind::F32 ? "f" : "");
    case Op::Arg:
      return f_.params[static_cast<size_t>(x.ref)].name;
    case Op::Var:
      return "i" + std::to_string(x.ref);
    case Op::Local:
      return localNames_[static_cast<size_t>(x.ref)];
    case Op::Hole:
      return x.ref == 0 ? "$acc" : "$v";
    case Op::Add:
      if (f_.expr(x.ops[1]).op == Op::Int && f_.expr(x.ops[1]).i < 0 && f_.expr(x.ops[1]).i != INT64_MIN &&
          x.type.kind != Kind::U64) // n + -1 reads as n - 1
        return "(" + sub(0) + " - " + std::to_string(-f_.expr(x.ops[1]).i) + ")";
      [[fallthrough]];
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Rem:
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge:
    case Op::Eq:
    case Op::Ne:
    case Op::And:
    case Op::Or:
      return "(" + sub(0) + " " + opText(x.op) + ((x.flags & kReassoc) ? "~ " : " ") + sub(1) + ")";
    case Op::Min:
      return "min(" + sub(0) + ", " + sub(1) + ")";
    case Op::Max:
      return "max(" + sub(0) + ", " + sub(1) + ")";
    case Op::Neg:
      return "-" + sub(0);
    case Op::Not:
      return "!" + sub(0);
    case Op::IsNaN:
      return "isnan(" + sub(0) + ")";
    case Op::Select:
      return "(" + sub(0) + " ? " + sub(1) + " : " + sub(2) + ")";
    case Op::Fma:
      return "fma(" + sub(0) + ", " + sub(1) + ", " + sub(2) + ")";
    case Op::Call: {
      std::string s = (x.flags & kMathCall) ? mathName(static_cast<Math>(x.ref))
                                            : f_.callees()[static_cast<size_t>(x.ref)].symbol;
      s = ((x.flags & kInlineCall) ? "inline " : "") + s + "(";
      for (size_t k = 0; k < x.ops.size(); ++k)
        s += (k ? ", " : "") + sub(k);
      return s + ")";
    }
    case Op::Cast:
      return typeName(x.type) + "(" + sub(0) + ")";
    case Op::Load: {
      std::string s = f_.buffers()[static_cast<size_t>(x.ref)].name + "[" + sub(0) + "]";
      if (x.type.lanes > 1 || x.type.kind != f_.buffers()[static_cast<size_t>(x.ref)].elem.kind)
        s += ":" + typeName(x.type);
      return x.ops.size() > 1 ? s + " if " + sub(1) : s;
    }
    case Op::Addr:
      return "&" + f_.buffers()[static_cast<size_t>(x.ref)].name + "[" + sub(0) + "]";
    case Op::Broadcast:
      return "broadcast" + std::to_string(x.type.lanes) + "(" + sub(0) + ")";
    case Op::Ramp:
      return "ramp" + std::to_string(x.type.lanes) + "(" + sub(0) + ")";
    case Op::ReduceAdd:
      return "lanesum(" + sub(0) + ")";
    }
    return "?";
  }

  void stmt(StmtId s, int depth) {
    const Stmt &st = f_.stmt(s);
    if (st.op == SOp::Block) {
      for (StmtId c : st.list)
        stmt(c, depth);
      return;
    }
    shared({st.a, st.b, st.c}, depth);
    indent(depth);
    switch (st.op) {
    case SOp::For:
      os_ << "for i" << st.ref << " in " << expr(st.a) << " .. " << expr(st.b)
          << ((st.flags & kRolled) ? " rolled" : "") << ((st.flags & kShort) ? " short" : "") << ((st.flags & kCompact) ? " compact" : "")
          << ((st.flags & kWithinIteration) ? " within" : "") << " {\n";
      stmt(st.body, depth + 1);
      indent(depth);
      os_ << "}\n";
      return;
    case SOp::If:
      os_ << "if " << expr(st.a) << " {\n";
      stmt(st.body, depth + 1);
      if (st.orelse != kNone) {
        indent(depth);
        os_ << "} else {\n";
        stmt(st.orelse, depth + 1);
      }
      indent(depth);
      os_ << "}\n";
      return;
    case SOp::Store:
      os_ << f_.buffers()[static_cast<size_t>(st.ref)].name << "[" << expr(st.a) << "] = " << expr(st.b);
      if (st.c != kNone)
        os_ << " if " << expr(st.c);
      os_ << ((st.flags & kStreaming) ? "  (streaming)" : "") << "\n";
      return;
    case SOp::Let:
      os_ << "let " << localNames_[static_cast<size_t>(st.ref)] << ": "
          << typeName(f_.locals()[static_cast<size_t>(st.ref)].type) << " = " << expr(st.a) << "\n";
      return;
    case SOp::Assign:
      os_ << localNames_[static_cast<size_t>(st.ref)] << " = " << expr(st.a) << "\n";
      return;
    case SOp::Accumulate:
      os_ << localNames_[static_cast<size_t>(st.ref)] << ((st.flags & kReassocAcc) ? " <~ " : " <- ")
          << expr(st.a) << " by " << expr(st.b) << (st.c != kNone ? " from " + expr(st.c) : "") << "\n";
      return;
    case SOp::Prefetch:
      os_ << "prefetch " << expr(st.a) << "\n";
      return;
    case SOp::Eval:
      os_ << expr(st.a) << "\n";
      return;
    case SOp::Return:
      os_ << "return" << (st.a == kNone ? "" : " " + expr(st.a)) << "\n";
      return;
    case SOp::Block:
      return;
    }
  }

  std::ostream &os_;
  const Func &f_;
  std::vector<std::string> localNames_;
  std::map<ExprId, std::string> names_;
  int next_ = 0;
};

} // namespace

void print(std::ostream &os, const Func &f) { FuncPrinter(os, f).print(); }

void print(std::ostream &os, const Module &m) {
  for (size_t k = 0; k < m.funcs.size(); ++k) {
    if (k)
      os << "\n";
    print(os, *m.funcs[k]);
  }
  for (const StringTable &t : m.tables) {
    os << "\nstrings " << t.symbol << " = [";
    for (size_t k = 0; k < t.items.size(); ++k)
      os << (k ? ", " : "") << "\"" << t.items[k] << "\"";
    os << "]\n";
  }
}

} // namespace gradc::loops
