// SplitTail.cpp: the cut of SplitTail.h.
#include "loops/SplitTail.h"

#include <algorithm>
#include <set>

namespace gradc::loops {

namespace {

// What a run of statements touches: its loops, and the locals its expressions read or its
// statements set (an access to a workspace view reads the locals of the view's address).
struct Footprint {
  size_t loops = 0;
  std::set<int32_t> locals;
};

void addStatement(const Func &f, StmtId root, Footprint &out, std::unordered_set<ExprId> &seen) {
  auto expr = [&](ExprId e) {
    if (e == kNone)
      return;
    std::vector<ExprId> bases{e};
    while (!bases.empty()) {
      ExprId b = bases.back();
      bases.pop_back();
      visitExprs(f, b, seen, [&](const Expr &x) {
        if (x.op == Op::Local)
          out.locals.insert(x.ref);
        if ((x.op == Op::Load || x.op == Op::Addr) &&
            f.buffers()[static_cast<size_t>(x.ref)].kind == BufferKind::View)
          bases.push_back(f.buffers()[static_cast<size_t>(x.ref)].base);
        return true;
      });
    }
  };
  visitStmts(f, root, [&](StmtId, const Stmt &st) {
    out.loops += st.op == SOp::For;
    if (st.op == SOp::Store && f.buffers()[static_cast<size_t>(st.ref)].kind == BufferKind::View)
      expr(f.buffers()[static_cast<size_t>(st.ref)].base);
    if (st.op == SOp::Assign || st.op == SOp::Accumulate)
      out.locals.insert(st.ref);
    for (ExprId e : {st.a, st.b, st.c})
      expr(e);
    return true;
  });
}

} // namespace

std::unique_ptr<Func> splitTail(Func &f, const std::string &symbol, size_t minLoops) {
  // (A stack buffer would be a new one in the tail: what the head wrote there, lost.)
  bool stack = std::any_of(f.buffers().begin(), f.buffers().end(),
                           [](const Buffer &b) { return b.kind == BufferKind::Stack; });
  if (f.body == kNone || f.stmt(f.body).op != SOp::Block || stack)
    return nullptr;
  const std::vector<StmtId> top = f.stmt(f.body).list;
  std::vector<size_t> loops(top.size());
  size_t total = 0;
  for (size_t k = 0; k < top.size(); ++k) {
    Footprint one;
    std::unordered_set<ExprId> seen;
    addStatement(f, top[k], one, seen);
    loops[k] = one.loops;
    total += one.loops;
  }
  if (total < minLoops)
    return nullptr;
  // The first cut with half the loops before it.
  size_t cut = 0;
  for (size_t before = 0; cut < top.size() && 2 * before < total; ++cut)
    before += loops[cut];
  if (cut == 0 || cut >= top.size())
    return nullptr;
  Footprint rest;
  std::unordered_set<ExprId> seen;
  for (size_t k = cut; k < top.size(); ++k)
    addStatement(f, top[k], rest, seen);
  // The locals the rest reads that the first part declares (a local declared inside a
  // statement is gone after it; one the rest declares is its own).
  std::vector<int32_t> passed;
  for (size_t k = 0; k < cut; ++k)
    if (const Stmt &st = f.stmt(top[k]); st.op == SOp::Let && rest.locals.count(st.ref))
      passed.push_back(st.ref);
  std::sort(passed.begin(), passed.end());

  std::vector<Param> params = f.params;
  for (int32_t l : passed)
    params.push_back({f.locals()[static_cast<size_t>(l)].name, f.locals()[static_cast<size_t>(l)].type, false});
  std::unique_ptr<Func> tail = f.withSameTables(symbol, params);
  tail->linkage = Linkage::Export;
  tail->noinline = true;
  std::vector<StmtId> tailBody;
  for (size_t j = 0; j < passed.size(); ++j)
    tailBody.push_back(tail->let(passed[j], tail->arg(static_cast<int32_t>(f.params.size() + j))));
  tailBody.insert(tailBody.end(), top.begin() + static_cast<long>(cut), top.end());
  tail->body = tail->block(std::move(tailBody));

  std::vector<ExprId> args;
  std::vector<Ty> types;
  for (size_t k = 0; k < params.size(); ++k) {
    args.push_back(k < f.params.size() ? f.arg(static_cast<int32_t>(k)) : f.localRef(passed[k - f.params.size()]));
    types.push_back(params[k].type);
  }
  ExprId call = f.call(f.callee({symbol, f.ret, types}), args);
  std::vector<StmtId> head(top.begin(), top.begin() + static_cast<long>(cut));
  if (f.ret == kVoid) {
    head.push_back(f.eval(call));
    head.push_back(f.returnStmt());
  } else {
    head.push_back(f.returnStmt(call));
  }
  f.body = f.block(std::move(head));
  return tail;
}

} // namespace gradc::loops
