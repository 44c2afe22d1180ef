// Verifier.cpp: a walk of the statement tree (its depth is the loop nesting, not the size of
// the program) with the variables and locals in scope.
#include "loops/Verifier.h"

#include <vector>

namespace gradc::loops {

namespace {

class FuncVerifier {
public:
  explicit FuncVerifier(const Func &f)
      : f_(f), varInScope_(static_cast<size_t>(f.vars()), false), varBound_(static_cast<size_t>(f.vars()), false),
        localInScope_(f.locals().size(), false) {}

  std::string run() {
    if (f_.body == kNone)
      return "has no body";
    for (const Buffer &b : f_.buffers())
      if (b.kind == BufferKind::View)
        if (std::string e = pure(b.base, false, "the base of view " + b.name); !e.empty())
          return e;
    std::string e = stmt(f_.body);
    return e;
  }

private:
  // An expression may read variables and locals in scope (`scoped`), or none (a view's base
  // reads arguments and locals only: checked where the view is used).
  // Each walk visits an expression once however often it is shared: a DAG of n nodes may
  // have 2^n paths.
  bool firstVisit(ExprId e) {
    uint32_t &s = seen_[static_cast<size_t>(e)];
    if (s == walk_)
      return false;
    s = walk_;
    return true;
  }

  std::string pure(ExprId root, bool combine, const std::string &where) {
    std::vector<ExprId> &stack = stack_;
    stack.assign(1, root);
    ++walk_;
    while (!stack.empty()) {
      ExprId e = stack.back();
      stack.pop_back();
      if (!firstVisit(e))
        continue;
      const Expr &x = f_.expr(e);
      if (x.op == Op::Hole && !combine)
        return where + " reads a hole outside an accumulation";
      if (combine && (x.op == Op::Load || x.op == Op::Var || x.op == Op::Local || x.op == Op::Call) &&
          !(x.op == Op::Call && (x.flags & kMathCall)))
        return where + " (a combine) reads memory, variables or calls";
      if (!combine && x.op == Op::Var)
        return where + " reads a loop variable";
      for (ExprId o : x.ops)
        stack.push_back(o);
    }
    return "";
  }

  // An expression found in scope stays so until a loop ends or a block's locals go out of
  // scope (a new epoch): straight-line code is walked once, not once per statement using it.
  std::string scoped(ExprId root, const char *where) {
    if (root == kNone)
      return "";
    std::vector<ExprId> &stack = stack_;
    stack.assign(1, root);
    while (!stack.empty()) {
      ExprId e = stack.back();
      stack.pop_back();
      uint32_t &checked = scopedIn_[static_cast<size_t>(e)];
      if (checked == epoch_)
        continue;
      checked = epoch_;
      const Expr &x = f_.expr(e);
      if (x.op == Op::Var && !varInScope_[static_cast<size_t>(x.ref)])
        return std::string(where) + " reads loop variable i" + std::to_string(x.ref) + " outside its loop";
      if (x.op == Op::Local && !localInScope_[static_cast<size_t>(x.ref)])
        return std::string(where) + " reads local " + f_.locals()[static_cast<size_t>(x.ref)].name +
               " before its let";
      if (x.op == Op::Hole)
        return std::string(where) + " reads a hole";
      if ((x.op == Op::Load || x.op == Op::Addr) && f_.buffers()[static_cast<size_t>(x.ref)].kind == BufferKind::View)
        stack.push_back(f_.buffers()[static_cast<size_t>(x.ref)].base);
      for (ExprId o : x.ops)
        stack.push_back(o);
    }
    return "";
  }

  std::string stmt(StmtId s) {
    const Stmt &st = f_.stmt(s);
    switch (st.op) {
    case SOp::Block: {
      std::vector<int32_t> declared;
      std::string e;
      for (StmtId c : st.list) {
        if (e.empty())
          e = stmt(c);
        const Stmt &cs = f_.stmt(c);
        if (cs.op == SOp::Let)
          declared.push_back(cs.ref);
      }
      for (int32_t l : declared) // a let's scope ends with its block
        localInScope_[static_cast<size_t>(l)] = false;
      if (!declared.empty())
        ++epoch_;
      return e;
    }
    case SOp::For: {
      size_t v = static_cast<size_t>(st.ref);
      if (varBound_[v])
        return "loop variable i" + std::to_string(st.ref) + " is bound by two loops";
      if (std::string e = scoped(st.a, "a loop's start") + scoped(st.b, "a loop's end"); !e.empty())
        return e;
      varBound_[v] = varInScope_[v] = true;
      std::string e = stmt(st.body);
      varInScope_[v] = false;
      ++epoch_;
      return e;
    }
    case SOp::If: {
      if (std::string e = scoped(st.a, "a condition"); !e.empty())
        return e;
      std::string e = stmt(st.body);
      if (e.empty() && st.orelse != kNone)
        e = stmt(st.orelse);
      return e;
    }
    case SOp::Store:
      return scoped(st.a, "a store's index") + scoped(st.b, "a stored value") + scoped(st.c, "a store's mask");
    case SOp::Let:
      if (localInScope_[static_cast<size_t>(st.ref)])
        return "local " + f_.locals()[static_cast<size_t>(st.ref)].name + " is declared twice";
      if (std::string e = scoped(st.a, "a let"); !e.empty())
        return e;
      localInScope_[static_cast<size_t>(st.ref)] = true;
      return "";
    case SOp::Assign:
    case SOp::Accumulate:
      if (!localInScope_[static_cast<size_t>(st.ref)])
        return "local " + f_.locals()[static_cast<size_t>(st.ref)].name + " is set before its let";
      if (st.op == SOp::Accumulate)
        if (std::string e = pure(st.b, true, "an accumulation") + scoped(st.c, "an identity"); !e.empty())
          return e + " (into " + f_.locals()[static_cast<size_t>(st.ref)].name + ")";
      return scoped(st.a, "an assigned value");
    case SOp::Prefetch:
    case SOp::Eval:
      return scoped(st.a, "an expression statement");
    case SOp::Return:
      return scoped(st.a, "a returned value");
    }
    return "";
  }

  const Func &f_;
  std::vector<bool> varInScope_, varBound_, localInScope_;
  std::vector<uint32_t> seen_ = std::vector<uint32_t>(f_.exprCount(), 0);
  std::vector<ExprId> stack_; // of the walk in progress (one at a time), kept for its memory
  std::vector<uint32_t> scopedIn_ = std::vector<uint32_t>(f_.exprCount(), 0); // epoch found in scope
  uint32_t epoch_ = 1;
  uint32_t walk_ = 0;
};

} // namespace

std::string verify(const Func &f) {
  std::string e = FuncVerifier(f).run();
  return e.empty() ? "" : "function " + f.symbol + ": " + e;
}

std::string ModuleVerifier::agree(const std::string &symbol, const Signature &s, bool defined,
                                  const std::string &caller, bool shared) {
  if (defined && defined_.count(symbol) && !(shared && shared_.count(symbol)))
    return "function " + symbol + " is defined twice";
  for (const auto *known : {&defined_, &called_})
    if (auto it = known->find(symbol); it != known->end() && !(it->second == s))
      return "function " + (defined ? caller_[symbol] : caller) + " calls " + symbol + " with another signature";
  (defined ? defined_ : called_).emplace(symbol, s);
  if (defined && shared)
    shared_.insert(symbol);
  if (!defined)
    caller_.emplace(symbol, caller);
  return "";
}

std::string ModuleVerifier::add(const Func &f) {
  if (std::string e = verify(f); !e.empty())
    return e;
  Signature own{f.ret, {}};
  for (const Param &p : f.params)
    own.params.push_back(p.type);
  if (std::string e = agree(f.symbol, own, true, "", f.shared); !e.empty())
    return e;
  for (const Callee &c : f.callees())
    if (std::string e = agree(c.symbol, {c.ret, c.params}, false, f.symbol); !e.empty())
      return e;
  return "";
}

std::string verify(const Module &m) {
  ModuleVerifier v;
  for (const auto &f : m.funcs)
    if (std::string e = v.add(*f); !e.empty())
      return e;
  return "";
}

} // namespace gradc::loops
