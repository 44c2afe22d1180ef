// Function.cpp: queries on checked functions.
#include "ir/Function.h"

#include "ir/Inline.h"

#include <set>

namespace gradc {

std::vector<int32_t> Function::usedDims() const {
  std::set<int32_t> used;
  for (const ParamInfo &p : params)
    for (const Dim &d : p.type.shape)
      if (!d.isLiteral())
        used.insert(d.sym);
  if (result != kNoNode) {
    for (size_t i = 0; i < graph->size(); ++i) {
      const Node &n = graph->node(static_cast<NodeId>(i));
      for (const Dim &d : n.type.shape)
        if (!d.isLiteral())
          used.insert(d.sym);
      if (n.op == Op::DimValue)
        used.insert(static_cast<int32_t>(n.ints[0]));
    }
  }
  return {used.begin(), used.end()};
}

const Function *Program::find(const std::string &name) const {
  for (const Function &f : funcs)
    if (f.name == name)
      return &f;
  return nullptr;
}

Function &Program::inlined(size_t i) {
  Function &f = funcs[i];
  if (!f.graph)
    f = inlineCalls(*this, i);
  return f;
}

} // namespace gradc
