// FuseLoops.h: adjacent loops over one range merged into one loop, where every dependence
// between them allows it. A schedule materializes each value in its own loop; a gradient then
// sweeps the same rows many times (the bundle adjustment's observations, GMM's data points),
// each sweep storing what the next reads back. Merged, the rows one iteration writes are still
// in cache when the next statement reads them, and the code generator sees one body (loads of
// the same element are one load).
#pragma once

#include "loops/LoopIR.h"

namespace gradc::loops {

/// Merges runs of adjacent `for` statements with equal bounds, at every level of f's body, into
/// one loop (the first's body, then the second's with its variable renamed): first a fill (a
/// loop that only stores) with the loop after it that uses what it filled, then a loop with the
/// next when the next reads memory it touched, looking one loop ahead from a run whose
/// iterations sweep rows (run a loop or a call): a loop joins the run when the loop after it
/// reads what both touched. Loops that share nothing stay apart. Merged only when:
/// - neither loop stores with a streaming flag, prefetches, calls a function other than a
///   math function or one whose footprints (Callee::footprints) have constant sizes, takes an
///   address other than such a call's argument, returns, or assigns a local declared outside
///   it (a reduction into a function-level accumulator stays its own loop);
/// - every buffer one of them writes and both touch is touched only in the rows of the
///   iteration: at index v * C + r with the same constant C > 0 and 0 <= r, r + lanes <= C for
///   every access (r from constants, the loop's own inner variables of constant or let-bound
///   bounds, and the same terms in the enclosing loops' variables), so iteration v of the
///   merged loop reads and writes nothing another iteration does;
/// - no buffer one writes may overlap another buffer the other touches (distinct buffers of
///   one disjoint group, or one a `noalias` argument, do not).
/// Every statement runs in the same order relative to each one it depends on, and stores and
/// reloads the same values. (The code generator may now forward a stored value to a later
/// load of it; that value is the one stored.)
void fuseLoops(Func &f);

} // namespace gradc::loops
