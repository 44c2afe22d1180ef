// FoldRows.h: a workspace buffer that one loop alone touches, each iteration only in its own
// row, is folded into one row: every iteration uses row 0. After loops are merged, a value
// can live and die within one iteration (GMM's [K, N, D] adjoint, made and consumed per
// component); its rows were written to memory only to be evicted. Folded, one row stays in
// cache.
#pragma once

#include "loops/LoopIR.h"

namespace gradc::loops {

/// Folds, in each loop of f's body (the top level), every buffer that:
/// - is a workspace slot of f (a view in a disjoint group: f's own scratch, which no other
///   function reads);
/// - no other statement of f's body touches;
/// - the loop writes, and touches only at v * C + r with 0 <= r and r + lanes <= C (the rows
///   of LoopSummary.h, with no enclosing loop's terms).
/// Its accesses then index as in iteration 0. What an iteration reads of such a buffer it wrote
/// in the same iteration (nothing else writes it), so each reads what it read before.
void foldRows(Func &f);

} // namespace gradc::loops
