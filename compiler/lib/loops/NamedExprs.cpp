// NamedExprs.cpp: the subexpressions a printer names (NamedExprs.h).
#include "loops/NamedExprs.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace gradc::loops {

std::vector<ExprId> exprsToName(const Func &f, const std::vector<ExprId> &roots, bool throughViewBases) {
  constexpr int kMaxNesting = 8;
  std::unordered_map<ExprId, int> uses, height;
  std::vector<ExprId> order; // operands first, each once
  std::vector<std::pair<ExprId, bool>> walk;
  for (ExprId r : roots)
    if (r != kNone)
      walk.push_back({r, false});
  while (!walk.empty()) {
    auto [e, done] = walk.back();
    walk.pop_back();
    if (done) {
      order.push_back(e);
      continue;
    }
    if (++uses[e] > 1)
      continue;
    walk.push_back({e, true});
    const Expr &x = f.expr(e);
    for (ExprId o : x.ops)
      walk.push_back({o, false});
    if (throughViewBases && (x.op == Op::Load || x.op == Op::Addr) &&
        f.buffers()[static_cast<size_t>(x.ref)].kind == BufferKind::View)
      walk.push_back({f.buffers()[static_cast<size_t>(x.ref)].base, false});
  }
  std::vector<ExprId> named;
  for (ExprId e : order) {
    const Expr &x = f.expr(e);
    int h = 0;
    for (ExprId o : x.ops)
      h = std::max(h, height[o] + 1);
    height[e] = h;
    if (!x.ops.empty() && (uses[e] > 1 || h >= kMaxNesting)) {
      named.push_back(e);
      height[e] = 0; // a name is a leaf to what reads it
    }
  }
  return named;
}

} // namespace gradc::loops
