// CPrinter.cpp: loop IR functions and string tables as C99 (CPrinter.h): names, the
// function's frame and its statements.
#include "codegen/c/CPrinter.h"

#include "abi/CNames.h"
#include "codegen/c/CFunctionPrinter.h"
#include "gradc/Diagnostics.h"

#include <cctype>
#include <functional>

namespace gradc::cgen {

using loops::Func;
using loops::kNone;
using loops::Op;
using loops::SOp;
using loops::Stmt;

namespace {

constexpr int kPartialResults = 32; // of a reordered accumulation (docs/CLI.md, gradc emit --c)

bool isIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string identifier(const std::string &name) {
  std::string s;
  for (char c : name)
    s += isIdentChar(c) ? c : '_';
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    s = "v" + s;
  return s;
}

// Whether C text reads the identifier `name`.
bool readsName(const std::string &text, const std::string &name) {
  for (size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + 1))
    if (!(at > 0 && isIdentChar(text[at - 1])) && !(at + name.size() < text.size() && isIdentChar(text[at + name.size()])))
      return true;
  return false;
}

std::string escaped(const std::string &s) {
  std::string out;
  for (char c : s)
    out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  return out;
}

} // namespace

// `text` without the parentheses around all of it, if it has them: "(a == b)" -> "a == b"
// (compilers warn of a condition in two pairs of parentheses).
std::string bare(const std::string &text) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    return text;
  int depth = 0;
  for (size_t k = 0; k + 1 < text.size(); ++k) {
    depth += text[k] == '(' ? 1 : text[k] == ')' ? -1 : 0;
    if (depth == 0) // the first parenthesis closes before the end: "(a) + (b)"
      return text;
  }
  return text.substr(1, text.size() - 2);
}

std::string cSymbol(const std::string &symbol) {
  bool ident = !symbol.empty() && !std::isdigit(static_cast<unsigned char>(symbol[0]));
  for (char c : symbol)
    ident = ident && isIdentChar(c);
  return ident ? symbol : "gradc_" + identifier(symbol);
}

CFunctionPrinter::CFunctionPrinter(const Func &f, CHelpers &helpers) : f_(f), helpers_(helpers) {}

std::string CFunctionPrinter::fresh(const std::string &base) {
  std::string name = base;
  for (int n = 1; isReservedCName(name) || !taken_.insert(name).second; ++n)
    name = base + "_" + std::to_string(n);
  return name;
}

// Parameters are a0, a1, ... (the header names them as the source does), loop variables
// i0, i1, ...; locals and stack arrays keep the loop IR's names where no function this one
// calls, no reserved C name and no other name has them.
void CFunctionPrinter::nameEverything() {
  taken_.insert(cSymbol(f_.symbol));
  for (const loops::Callee &c : f_.callees())
    taken_.insert(cSymbol(c.symbol));
  for (size_t i = 0; i < f_.params.size(); ++i)
    params_.push_back(fresh("a" + std::to_string(i)));
  for (int32_t v = 0; v < f_.vars(); ++v)
    vars_.push_back(fresh("i" + std::to_string(v)));
  for (const std::string &n : loops::uniqueLocalNames(f_))
    locals_.push_back(fresh(identifier(n)));
  stacks_.resize(f_.buffers().size());
  for (size_t b = 0; b < f_.buffers().size(); ++b)
    if (f_.buffers()[b].kind == loops::BufferKind::Stack)
      stacks_[b] = fresh(identifier(f_.buffers()[b].name));
  varText_ = vars_;
  localText_ = locals_;
}

// A local is printed only if something that is printed reads it: C compilers warn of
// variables set and never read (the emitted C compiles with -Wall -Wextra -Werror).
void CFunctionPrinter::findLiveLocals() {
  size_t n = f_.locals().size();
  liveLocal_.assign(n, false);
  assigned_.assign(n, false);
  std::vector<std::vector<ExprId>> defs(n);
  std::vector<ExprId> work;
  std::function<void(StmtId)> visit = [&](StmtId s) {
    const Stmt &st = f_.stmt(s);
    switch (st.op) {
    case SOp::Block:
      for (StmtId c : st.list)
        visit(c);
      return;
    case SOp::For:
    case SOp::If:
      work.insert(work.end(), {st.a, st.b});
      visit(st.body);
      if (st.orelse != kNone)
        visit(st.orelse);
      return;
    case SOp::Let:
    case SOp::Assign:
    case SOp::Accumulate: {
      size_t l = static_cast<size_t>(st.ref);
      assigned_[l] = assigned_[l] || st.op != SOp::Let;
      defs[l].insert(defs[l].end(), {st.a, st.b, st.c});
      if (callsOut(st.a)) // a call happens whether or not its value is read
        liveLocal_[l] = true;
      return;
    }
    default:
      work.insert(work.end(), {st.a, st.b, st.c});
      // A store into a view reads the view's base (a workspace slice only ever written, say).
      if (st.op == SOp::Store && f_.buffers()[static_cast<size_t>(st.ref)].kind == loops::BufferKind::View)
        work.push_back(f_.buffers()[static_cast<size_t>(st.ref)].base);
    }
  };
  visit(f_.body);
  for (size_t l = 0; l < n; ++l) // live before their definitions were seen in full
    if (liveLocal_[l])
      work.insert(work.end(), defs[l].begin(), defs[l].end());
  std::vector<bool> seen(f_.exprCount(), false);
  while (!work.empty()) {
    ExprId e = work.back();
    work.pop_back();
    if (e == kNone || seen[static_cast<size_t>(e)])
      continue;
    seen[static_cast<size_t>(e)] = true;
    const loops::Expr &x = f_.expr(e);
    if (x.op == Op::Local && !liveLocal_[static_cast<size_t>(x.ref)]) {
      liveLocal_[static_cast<size_t>(x.ref)] = true;
      work.insert(work.end(), defs[static_cast<size_t>(x.ref)].begin(), defs[static_cast<size_t>(x.ref)].end());
    }
    if ((x.op == Op::Load || x.op == Op::Addr) && f_.buffers()[static_cast<size_t>(x.ref)].kind == loops::BufferKind::View)
      work.push_back(f_.buffers()[static_cast<size_t>(x.ref)].base);
    for (ExprId o : x.ops)
      work.push_back(o);
  }
}

std::string CFunctionPrinter::signature() {
  std::string ret = f_.cReturn.empty() ? type(f_.ret) : f_.cReturn, params;
  for (size_t i = 0; i < f_.params.size(); ++i) {
    const loops::Param &p = f_.params[i];
    std::string t = f_.cParams.empty() ? type(p.type) : f_.cParams[i];
    bool restrict = p.noalias && t.back() == '*';
    params += (i ? ", " : "") + t + (t.back() == '*' ? "" : " ") + (restrict ? "restrict " : "") + params_[i];
  }
  std::string head;
  if (f_.linkage == loops::Linkage::Internal)
    head = "static " + (f_.noinline ? helpers_.noinline() + " " : std::string());
  return head + ret + " " + cSymbol(f_.symbol) + "(" + (params.empty() ? "void" : params) + ")";
}

std::string CFunctionPrinter::print(std::string &prototype) {
  nameEverything();
  findLiveLocals();
  for (size_t b = 0; b < f_.buffers().size(); ++b)
    if (const loops::Buffer &buf = f_.buffers()[b]; buf.kind == loops::BufferKind::Stack)
      line(1, std::string(CHelpers::memoryType(buf.elem.kind)) + " " + stacks_[b] + "[" + std::to_string(buf.elems) +
                  "]" + (buf.align > 0 ? " " + helpers_.aligned(buf.align) : "") + ";");
  block(f_.body, 1);
  std::string unused, comment;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!readsName(out_, params_[i])) // a workspace f does not need, say
      unused += "  (void)" + params_[i] + ";\n";
    comment += (i ? ", " : "") + params_[i] + " = " + identifier(f_.params[i].name);
  }
  prototype = signature();
  std::string head;
  if (f_.linkage != loops::Linkage::Internal && !comment.empty())
    head = "/* " + comment + " */\n";
  if (f_.linkage == loops::Linkage::WeakODR) // several emitted files define it alike
    head += "#if defined(__GNUC__)\n__attribute__((weak))\n#endif\n";
  return head + prototype + " {\n" + unused + out_ + "}\n";
}

// `const T name` (`T *const name` for a pointer: the pointer is what does not change).
std::string CFunctionPrinter::declaration(loops::Ty t, const std::string &name, bool constant) {
  std::string ty = type(t);
  if (ty.back() == '*')
    return ty + (constant ? "const " : "") + name;
  return (constant ? "const " : "") + ty + " " + name;
}

// --- statements ---

void CFunctionPrinter::block(StmtId s, int depth) {
  const Stmt &st = f_.stmt(s);
  if (st.op != SOp::Block)
    return stmt(s, depth);
  for (StmtId c : st.list) {
    stmt(c, depth);
    if (f_.stmt(c).op == SOp::Return) // nothing after it in the block runs
      return;
  }
}

void CFunctionPrinter::stmt(StmtId s, int depth) {
  const Stmt &st = f_.stmt(s);
  switch (st.op) {
  case SOp::Block:
    line(depth, "{");
    block(s, depth + 1);
    line(depth, "}");
    return;
  case SOp::For:
    return forLoop(st, depth);
  case SOp::If:
    prepare({st.a}, depth);
    line(depth, "if (" + bare(expr(st.a)) + ") {");
    block(st.body, depth + 1);
    if (st.orelse != kNone) {
      line(depth, "} else {");
      block(st.orelse, depth + 1);
    }
    line(depth, "}");
    return;
  case SOp::Store:
    return store(st, depth);
  case SOp::Let:
  case SOp::Assign:
  case SOp::Accumulate:
    return setLocal(st, depth);
  case SOp::Prefetch:
    prepare({st.a}, depth);
    line(depth, helpers_.prefetch() + "(" + expr(st.a) + ");");
    return;
  case SOp::Eval:
    prepare({st.a}, depth);
    line(depth, expr(st.a) + ";");
    return;
  case SOp::Return:
    prepare({st.a}, depth);
    line(depth, st.a == kNone ? "return;" : "return " + bare(expr(st.a)) + ";");
    return;
  }
}

void CFunctionPrinter::forLoop(const Stmt &st, int depth) {
  std::vector<const Stmt *> accs;
  if (lanesFor(st, accs))
    return laneLoop(st, accs, depth);
  prepare({st.a, st.b}, depth);
  const std::string &v = vars_[static_cast<size_t>(st.ref)];
  std::string end = expr(st.b);
  if (!f_.expr(st.b).ops.empty() && !names_.count(st.b)) { // computed once, as the loop IR says
    std::string n = fresh(v + "_end");
    line(depth, "const int64_t " + n + " = " + bare(end) + ";");
    end = n;
  }
  line(depth, "for (int64_t " + v + " = " + expr(st.a) + "; " + v + " < " + end + "; ++" + v + ") {");
  block(st.body, depth + 1);
  line(depth, "}");
}

// Accumulations that may be reordered, straight in this loop's body (not in an inner loop),
// into live locals declared outside it that nothing in it reads or sets otherwise: those the
// loop keeps as partial results.
bool CFunctionPrinter::lanesFor(const Stmt &loop, std::vector<const Stmt *> &accs) {
  std::vector<bool> candidate(f_.locals().size(), false), spoiled(f_.locals().size(), false);
  std::vector<ExprId> reads;
  std::function<void(StmtId, bool)> visit = [&](StmtId s, bool inner) {
    const Stmt &st = f_.stmt(s);
    size_t l = static_cast<size_t>(st.ref);
    switch (st.op) {
    case SOp::Block:
      for (StmtId c : st.list)
        visit(c, inner);
      return;
    case SOp::For:
    case SOp::If:
      reads.insert(reads.end(), {st.a, st.b});
      visit(st.body, inner || st.op == SOp::For);
      if (st.orelse != kNone)
        visit(st.orelse, inner);
      return;
    case SOp::Accumulate:
      reads.push_back(st.a);
      if ((st.flags & loops::kReassocAcc) && !inner && liveLocal_[l]) {
        candidate[l] = true;
        accs.push_back(&st);
      } else {
        spoiled[l] = true;
      }
      return;
    case SOp::Let:
    case SOp::Assign:
      reads.push_back(st.a);
      spoiled[l] = true;
      return;
    default:
      reads.insert(reads.end(), {st.a, st.b, st.c});
    }
  };
  visit(loop.body, false);
  std::vector<bool> seen(f_.exprCount(), false);
  while (!reads.empty()) {
    ExprId e = reads.back();
    reads.pop_back();
    if (e == kNone || seen[static_cast<size_t>(e)])
      continue;
    seen[static_cast<size_t>(e)] = true;
    const loops::Expr &x = f_.expr(e);
    if (x.op == Op::Local)
      spoiled[static_cast<size_t>(x.ref)] = true;
    for (ExprId o : x.ops)
      reads.push_back(o);
  }
  std::erase_if(accs, [&](const Stmt *a) { return spoiled[static_cast<size_t>(a->ref)]; });
  return !accs.empty();
}

// for (i = a; i < b; ++i) body, with the accumulations of `accs` into kPartialResults partial
// results: i in steps of that many, each step a loop over the partial results (which C
// compilers vectorize: the partial results are independent), joined pairwise after; the last
// iterations one by one, as written.
void CFunctionPrinter::laneLoop(const Stmt &st, const std::vector<const Stmt *> &accs, int depth) {
  const std::string k = std::to_string(kPartialResults);
  size_t var = static_cast<size_t>(st.ref);
  const std::string &v = vars_[var];
  prepare({st.a, st.b}, depth);
  line(depth, "{");
  int d = depth + 1;
  std::string end = fresh(v + "_end"), lane = fresh("lane");
  line(d, "int64_t " + v + " = " + expr(st.a) + ";");
  line(d, "const int64_t " + end + " = " + expr(st.b) + ";");
  line(d, "if (" + end + " - " + v + " >= " + k + ") {");
  std::vector<std::pair<const Stmt *, std::string>> arrays; // one per local
  for (const Stmt *a : accs) {
    bool known = false;
    for (const auto &[other, name] : arrays)
      known = known || other->ref == a->ref;
    if (known)
      continue;
    std::string name = fresh(locals_[static_cast<size_t>(a->ref)] + "_lanes");
    arrays.push_back({a, name});
    prepare({a->c}, d + 1);
    line(d + 1, type(f_.locals()[static_cast<size_t>(a->ref)].type) + " " + name + "[" + k + "];");
    line(d + 1, "for (int " + lane + " = 0; " + lane + " < " + k + "; ++" + lane + ")");
    line(d + 2, name + "[" + lane + "] = " + expr(a->c) + ";");
  }
  line(d + 1, "for (; " + v + " <= " + end + " - " + k + "; " + v + " += " + k + ")");
  line(d + 2, "for (int " + lane + " = 0; " + lane + " < " + k + "; ++" + lane + ") {");
  std::vector<std::string> savedLocals = localText_;
  varText_[var] = "(" + v + " + " + lane + ")";
  for (const auto &[a, name] : arrays)
    localText_[static_cast<size_t>(a->ref)] = name + "[" + lane + "]";
  block(st.body, d + 3);
  varText_[var] = v;
  localText_ = std::move(savedLocals);
  line(d + 2, "}");
  for (const auto &[a, name] : arrays) {
    std::string w = fresh("w");
    line(d + 1, "for (int " + w + " = " + std::to_string(kPartialResults / 2) + "; " + w + " >= 1; " + w + " /= 2)");
    line(d + 2, "for (int " + lane + " = 0; " + lane + " < " + w + "; ++" + lane + ")");
    line(d + 3, name + "[" + lane + "] = " +
                    bare(combine(*a, name + "[" + lane + "]", name + "[" + lane + " + " + w + "]")) + ";");
    const std::string &local = locals_[static_cast<size_t>(a->ref)];
    line(d + 1, local + " = " + bare(combine(*a, local, name + "[0]")) + ";");
  }
  line(d, "}");
  line(d, "for (; " + v + " < " + end + "; ++" + v + ") {");
  block(st.body, d + 1);
  line(d, "}");
  line(depth, "}");
}

void CFunctionPrinter::store(const Stmt &st, int depth) {
  prepare({st.a, st.b, st.c}, depth);
  loops::Ty t = f_.type(st.b);
  std::string at = element(st.ref, st.a), v = bare(expr(st.b));
  if (t.isVector()) {
    if (st.c != kNone)
      line(depth, helpers_.store(t, true, false) + "(&" + at + ", " + v + ", " + expr(st.c) + ");");
    else
      line(depth, helpers_.store(t, false, st.flags & loops::kStreaming) + "(&" + at + ", " + v + ");");
    return;
  }
  std::string s = f_.buffers()[static_cast<size_t>(st.ref)].elem.kind != t.kind
                      ? helpers_.storeBits(t) + "(&" + at + ", " + v + ");"
                      : at + " = " + v + ";";
  line(depth, st.c != kNone ? "if (" + bare(expr(st.c)) + ") " + s : s);
}

void CFunctionPrinter::setLocal(const Stmt &st, int depth) {
  size_t l = static_cast<size_t>(st.ref);
  if (!liveLocal_[l])
    return;
  prepare({st.a}, depth);
  std::string v = bare(expr(st.a));
  switch (st.op) {
  case SOp::Let:
    line(depth, declaration(f_.locals()[l].type, locals_[l], !assigned_[l]) + " = " + v + ";");
    return;
  case SOp::Assign:
    line(depth, localText_[l] + " = " + v + ";");
    return;
  default: {
    if (!f_.expr(st.a).ops.empty() && !names_.count(st.a)) { // the combine may read it twice
      std::string t = fresh("t" + std::to_string(temps_++));
      line(depth, declaration(f_.type(st.a), t, true) + " = " + v + ";");
      v = t;
    }
    line(depth, localText_[l] + " = " + bare(combine(st, localText_[l], v)) + ";");
  }
  }
}

// --- the module ---

void CModulePrinter::add(const Func &f) {
  std::string prototype;
  std::string definition = CFunctionPrinter(f, helpers_).print(prototype);
  if (f.linkage == loops::Linkage::Internal) // called before its definition, maybe
    declarations_ += prototype + ";\n";
  if (f.shared && f.linkage == loops::Linkage::Internal) {
    // Defined alike in every emitted file that uses it: several files in one translation unit
    // (a unity build) define it once.
    std::string guard = "GRADC_DEFINED_" + cSymbol(f.symbol);
    definition = "#ifndef " + guard + "\n#define " + guard + "\n" + definition + "#endif\n";
  }
  definitions_ += "\n" + definition;
}

// const char *NAME(int i): the i-th string of the table, or NULL out of range.
void CModulePrinter::add(const loops::StringTable &t) {
  std::string s = "\nconst char *" + cSymbol(t.symbol) + "(int i) {\n";
  if (t.items.empty()) {
    definitions_ += s + "  (void)i;\n  return NULL;\n}\n";
    return;
  }
  s += "  static const char *const items[] = {";
  for (size_t k = 0; k < t.items.size(); ++k)
    s += (k ? ", \"" : "\"") + escaped(t.items[k]) + "\"";
  definitions_ += s + "};\n  return i >= 0 && i < " + std::to_string(t.items.size()) + " ? items[i] : NULL;\n}\n";
}

std::string CModulePrinter::text() const {
  return helpers_.definitions() + (declarations_.empty() ? "" : "\n" + declarations_) + definitions_;
}

} // namespace gradc::cgen
