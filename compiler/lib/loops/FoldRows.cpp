// FoldRows.cpp: the folding of FoldRows.h.
#include "loops/FoldRows.h"

#include "loops/LoopSummary.h"
#include "loops/Substitution.h"

#include <unordered_map>
#include <unordered_set>

namespace gradc::loops {

namespace {

// The buffers statement s (and what it contains) loads, stores or takes the address of (a
// prefetch's address too).
std::unordered_set<int32_t> buffersTouched(const Func &f, StmtId s) {
  std::unordered_set<int32_t> out;
  std::unordered_set<ExprId> seen;
  auto exprs = [&](ExprId e) {
    if (e != kNone)
      visitExprs(f, e, seen, [&](const Expr &x) {
        if (x.op == Op::Load || x.op == Op::Addr)
          out.insert(x.ref);
        return true;
      });
  };
  visitStmts(f, s, [&](StmtId, const Stmt &st) {
    if (st.op == SOp::Store)
      out.insert(st.ref);
    exprs(st.a);
    exprs(st.b);
    exprs(st.c);
    return true;
  });
  return out;
}

} // namespace

void foldRows(Func &f) {
  if (f.body == kNone || f.stmt(f.body).op != SOp::Block)
    return;
  std::vector<StmtId> list = f.stmt(f.body).list;
  std::unordered_map<int32_t, int> statements; // buffer -> top-level statements that touch it
  for (StmtId c : list)
    for (int32_t b : buffersTouched(f, c))
      ++statements[b];
  LoopSummarizer summaries(f);
  bool changed = false;
  for (StmtId &c : list) {
    if (f.stmt(c).op != SOp::For)
      continue;
    Summary sum = summaries.summarize(c);
    if (!sum.mergeable) // (its summary is incomplete)
      continue;
    std::unordered_set<int32_t> fold;
    for (const auto &[buf, use] : sum.buffers) {
      const Buffer &b = f.buffers()[static_cast<size_t>(buf)];
      if (b.kind == BufferKind::View && b.disjointGroup >= 0 && statements[buf] == 1 && use.written &&
          use.rowOwned && use.row && use.row->outer.empty())
        fold.insert(buf);
    }
    if (fold.empty())
      continue;
    const Stmt loop = f.stmt(c);
    Substitution atRowZero(f, loop.ref, f.i64(0), std::move(fold));
    c = f.forLoop(loop.ref, loop.a, loop.b, atRowZero.stmt(loop.body), loop.flags);
    changed = true;
  }
  if (changed)
    f.body = f.block(std::move(list));
}

} // namespace gradc::loops
