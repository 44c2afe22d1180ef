// CompactLoops.cpp: the marking of CompactLoops.h.
#include "loops/CompactLoops.h"

#include <vector>

namespace gradc::loops {

bool compactLoops(Func &f) {
  if (f.body == kNone)
    return false;
  std::vector<StmtId> loops, stack{f.body};
  while (!stack.empty()) {
    const Stmt &st = f.stmt(stack.back());
    if (st.op == SOp::For)
      loops.push_back(stack.back());
    stack.pop_back();
    for (StmtId s : {st.body, st.orelse})
      if (s != kNone)
        stack.push_back(s);
    stack.insert(stack.end(), st.list.begin(), st.list.end());
  }
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
