// CompactLoops.cpp: the marking of CompactLoops.h.
#include "loops/CompactLoops.h"

#include <vector>

namespace gradc::loops {

bool compactLoops(Func &f) {
  if (f.body == kNone)
    return false;
  std::vector<StmtId> loops;
  visitStmts(f, f.body, [&](StmtId s, const Stmt &st) {
    if (st.op == SOp::For)
      loops.push_back(s);
    return true;
  });
  if (loops.size() < kCompactLoops)
    return false;
  bool marked = false;
  for (StmtId s : loops)
    if (!(f.stmt(s).flags & (kShort | kWithinIteration))) {
      f.addLoopFlags(s, kCompact);
      marked = true;
    }
  return marked;
}

} // namespace gradc::loops
