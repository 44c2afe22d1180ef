// FuseLoops.cpp: the merge of adjacent loops (FuseLoops.h), from the loops' summaries
// (LoopSummary.h): what is not provably in an iteration's own rows keeps the loops apart.
#include "loops/FuseLoops.h"

#include "loops/LoopSummary.h"
#include "loops/Substitution.h"

#include <optional>
#include <unordered_set>

namespace gradc::loops {

namespace {

class LoopFuser {
public:
  explicit LoopFuser(Func &f) : f_(f), summaries_(f) {}

  // s with its loops merged, and the loops in it. Recursive over the nesting of statements.
  StmtId visit(StmtId s) {
    Stmt st = f_.stmt(s);
    switch (st.op) {
    case SOp::Block:
      return block(s);
    case SOp::For: {
      enclosing_.insert(st.ref);
      StmtId body = visit(st.body);
      enclosing_.erase(st.ref);
      return body == st.body ? s : f_.forLoop(st.ref, st.a, st.b, body, st.flags);
    }
    case SOp::If: {
      StmtId body = visit(st.body), orelse = st.orelse == kNone ? kNone : visit(st.orelse);
      return body == st.body && orelse == st.orelse ? s : f_.ifThen(st.a, body, orelse);
    }
    default:
      return s;
    }
  }

private:
  StmtId block(StmtId s) {
    const std::vector<StmtId> list = f_.stmt(s).list; // (a copy: merging adds statements)
    // First each fill with the loop after it that uses what it filled (a sum's zeros with the
    // sum), then each loop with the loops after it that read what it touched.
    std::vector<StmtId> out = mergeRuns(mergeRuns(list, Join::FillWithUser), Join::Reader);
    bool changed = out != f_.stmt(s).list;
    for (StmtId &c : out) {
      StmtId v = visit(c);
      changed |= v != c;
      c = v;
    }
    return changed ? f_.block(std::move(out)) : s;
  }

  enum class Join { FillWithUser, Reader };

  // `in` with each run of adjacent loops that `join` wants and that can merge merged. Readers
  // of a run whose iterations sweep rows look one loop ahead: a loop that reads what the run
  // and the loop before it both touched (a product of two operands filled apart) joins the
  // three. (Loops of a few elements per iteration gain nothing from it: bundle adjustment's
  // 3-vector loops, merged so, ran 7% slower. Moving a loop that shares nothing with the run
  // before it, so that the loop after it could join, merged BA's scatter of d_X into its
  // observation loop, 7% slower again, and gained GMM nothing.)
  // (`in` is a copy: merging adds statements, which may move the function's lists.)
  std::vector<StmtId> mergeRuns(std::vector<StmtId> in, Join join) {
    std::vector<StmtId> out;
    StmtId run = kNone;
    Summary runSummary;
    std::optional<Summary> ahead; // the look-ahead's summary of the next loop, kept for it
    for (size_t k = 0; k < in.size(); ++k) {
      StmtId c = in[k];
      std::optional<Summary> summarized = std::move(ahead);
      ahead.reset();
      if (f_.stmt(c).op != SOp::For) {
        if (run != kNone)
          out.push_back(run);
        run = kNone;
        out.push_back(c);
        continue;
      }
      Summary next = summarized ? std::move(*summarized) : summarize(c);
      if (run != kNone) {
        bool wanted = join == Join::Reader ? reads(runSummary, next) : fillUsed(runSummary, next);
        if (wanted && canMerge(run, runSummary, c, next)) {
          run = merge(run, runSummary, c, next);
          continue;
        }
        if (join == Join::Reader && runSummary.sweeps && k + 1 < in.size() && f_.stmt(in[k + 1]).op == SOp::For) {
          ahead = summarize(in[k + 1]);
          if (reads(runSummary, *ahead) && reads(next, *ahead) && canMerge(run, runSummary, c, next)) {
            run = merge(run, runSummary, c, next);
            continue;
          }
        }
        out.push_back(run);
      }
      run = c;
      runSummary = std::move(next);
    }
    if (run != kNone)
      out.push_back(run);
    return out;
  }

  // Whether b reads memory a touches: merged, it reads it from cache. Loops that share nothing
  // gain nothing from one body, and LLVM compiled some such merges slower (a gather beside a
  // data sweep in GMM: 91 -> 112 us).
  static bool reads(const Summary &a, const Summary &b) {
    for (const auto &[buf, use] : b.buffers)
      if (use.read && a.buffers.count(buf))
        return true;
    return false;
  }

  // Whether a only stores (a fill) and b touches what it stores.
  static bool fillUsed(const Summary &a, const Summary &b) {
    bool used = false;
    for (const auto &[buf, use] : a.buffers) {
      if (use.read)
        return false;
      used = used || b.buffers.count(buf);
    }
    return used;
  }

  bool canMerge(StmtId a, const Summary &sa, StmtId b, const Summary &sb) {
    const Stmt &x = f_.stmt(a), &y = f_.stmt(b);
    return sa.mergeable && sb.mergeable && x.a == y.a && x.b == y.b && independent(sa, sb);
  }

  StmtId merge(StmtId a, Summary &sa, StmtId b, const Summary &sb) {
    Stmt x = f_.stmt(a), y = f_.stmt(b);
    Substitution rename(f_, y.ref, f_.varRef(x.ref));
    std::vector<StmtId> list;
    for (StmtId part : {x.body, rename.stmt(y.body)}) {
      const Stmt &p = f_.stmt(part);
      if (p.op == SOp::Block)
        list.insert(list.end(), p.list.begin(), p.list.end());
      else
        list.push_back(part);
    }
    for (const auto &[buf, use] : sb.buffers) { // rows of y's variable are rows of x's
      BufferUse &joined = sa.buffers[buf];
      joined.read = joined.read || use.read;
      joined.written = joined.written || use.written;
      joined.joinRows(use);
    }
    sa.sweeps = sa.sweeps || sb.sweeps;
    return f_.forLoop(x.ref, x.a, x.b, f_.block(std::move(list)), x.flags & y.flags);
  }

  // Whether no access of one loop depends on an access of the other in another iteration.
  bool independent(const Summary &a, const Summary &b) {
    for (const auto &[buf, ub] : b.buffers) {
      auto it = a.buffers.find(buf);
      if (it != a.buffers.end() && (it->second.written || ub.written) && !it->second.sameRows(ub))
        return false;
    }
    auto apart = [&](const Summary &w, const Summary &t) { // nothing w writes overlaps what t touches
      for (const auto &[wb, wu] : w.buffers)
        if (wu.written)
          for (const auto &[tb, tu] : t.buffers)
            if (tb != wb && summaries_.mayOverlap(wb, tb))
              return false;
      return true;
    };
    return apart(a, b) && apart(b, a);
  }

  Summary summarize(StmtId loop) { return summaries_.summarize(loop); }

  Func &f_;
  LoopSummarizer summaries_;
  std::unordered_set<int32_t> &enclosing_ = summaries_.enclosing();
};

} // namespace

void fuseLoops(Func &f) {
  if (f.body != kNone)
    f.body = LoopFuser(f).visit(f.body);
}

} // namespace gradc::loops
