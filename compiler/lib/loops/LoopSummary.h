// LoopSummary.h: what a loop does to memory, buffer by buffer: which it reads and writes, and
// whether each access is in the iteration's own row. Loop merging (FuseLoops.h) and row folding
// (FoldRows.h) decide from it.
#pragma once

#include "loops/LoopIR.h"

#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace gradc::loops {

// An index as v * stride + sum(outer) + r, r in [lo, hi]: v the merged loop's variable,
// `outer` the enclosing loops' variables with their coefficients (fixed while both loops run).
struct RowIndex {
  int64_t stride = 0, lo = 0, hi = 0;
  std::map<int32_t, int64_t> outer;
  bool constant() const { return stride == 0 && outer.empty(); }
};

// How one loop (or a merged run) uses one buffer.
struct BufferUse {
  bool read = false, written = false;
  // Whether every access is in the iteration's own row: at v * stride + sum(outer) + r with
  // 0 <= r and r + lanes <= stride, one stride and one `outer` for all (kept in `row`).
  bool rowOwned = true;
  std::optional<RowIndex> row;
  // Joins another use's rows (of the same loop variable, or one renamed to it).
  void joinRows(const BufferUse &o) {
    if (!o.rowOwned)
      rowOwned = false;
    else if (o.row && !row)
      row = o.row;
    else if (o.row && (o.row->stride != row->stride || o.row->outer != row->outer))
      rowOwned = false;
  }
  bool sameRows(const BufferUse &o) const {
    return rowOwned && o.rowOwned && row && o.row && row->stride == o.row->stride && row->outer == o.row->outer;
  }
};

// What one loop does to memory, per buffer, or that it cannot be merged with another. Kept per
// buffer, so that a run of merged loops is tested against the next in the number of buffers,
// not of accesses.
struct Summary {
  bool mergeable = true;
  bool sweeps = false; // an iteration runs a loop or a call: it sweeps a row of memory
  std::unordered_map<int32_t, BufferUse> buffers;
};


/// Summaries of the loops of one function. Loops inside `enclosing()` (the variables of the
/// loops around the statements being summarized) count as fixed terms of a row.
class LoopSummarizer {
public:
  explicit LoopSummarizer(Func &f);

  /// The loop's use of each buffer (and the ranges of its inner loops' variables, kept).
  Summary summarize(StmtId loop);
  /// Whether two distinct buffers may share memory.
  bool mayOverlap(int32_t a, int32_t b) const;
  std::unordered_set<int32_t> &enclosing() { return enclosing_; }

private:
  void addLoads(ExprId root, int32_t v, Summary &out, std::unordered_set<ExprId> &seen);
  void noteCall(ExprId e, int32_t v, Summary &out, std::unordered_set<ExprId> &seen);
  void note(Summary &out, int32_t buffer, ExprId index, int64_t lanes, bool write, int32_t v);
  bool pure(ExprId root) const;
  std::optional<RowIndex> rowIndex(ExprId e, int32_t v, int depth);

  Func &f_;
  std::unordered_map<int32_t, std::pair<int64_t, int64_t>> varRange_; // inner loops of known ranges
  std::unordered_set<int32_t> enclosing_;                              // loops around the block
  std::unordered_set<int32_t> assigned_;                   // locals ever assigned after their let
  std::unordered_map<int32_t, ExprId> letValue_;           // the others' values
};

} // namespace gradc::loops
