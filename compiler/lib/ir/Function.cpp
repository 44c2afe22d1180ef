// Function.cpp: queries on checked functions.
#include "ir/Function.h"

#include "ir/DimArith.h"
#include "ir/Inline.h"
#include "ir/OpTable.h"

#include <algorithm>

#include <set>

namespace gradc {

std::vector<int32_t> mentionedDims(const Graph &g, const std::vector<NodeId> &roots) {
  std::set<int32_t> used;
  auto add = [&](const Dim &d) {
    if (!d.isLiteral())
      used.insert(d.sym);
  };
  // Only what the roots need: a dead `x[0:n/2]` does not make n/2 a size to check.
  std::vector<bool> live(g.size(), false);
  for (NodeId r : roots)
    if (r != kNoNode)
      live[static_cast<size_t>(r)] = true;
  for (size_t i = g.size(); i-- > 0;) {
    if (!live[i])
      continue;
    const Node &n = g.node(static_cast<NodeId>(i));
    for (NodeId o : n.operands)
      live[static_cast<size_t>(o)] = true;
    for (const Dim &d : n.type.shape)
      add(d);
    if (n.op == Op::DimValue)
      used.insert(static_cast<int32_t>(n.ints[0]));
    if (n.op == Op::Index || n.op == Op::IndexGrad) // an index `x[M-1]` need not be a size
      for (const IndexAxis &a : decodeIndexSpec(n.ints)) {
        add(a.start);
        add(a.stop);
      }
  }
  return {used.begin(), used.end()};
}

std::vector<int32_t> Function::mentionedDims() const {
  std::set<int32_t> used;
  for (const ParamInfo &p : params)
    for (const Dim &d : p.type.shape)
      if (!d.isLiteral())
        used.insert(d.sym);
  if (result != kNoNode && graph)
    for (int32_t s : gradc::mentionedDims(*graph, {result}))
      used.insert(s);
  return {used.begin(), used.end()};
}

std::vector<int32_t> Function::usedDims() const {
  if (!graph)
    return mentionedDims();
  std::vector<int32_t> given;
  for (int32_t sym : mentionedDims())
    givenDimsOf(graph->dims(), sym, given);
  std::sort(given.begin(), given.end());
  return given;
}

const Function *Program::find(const std::string &name) const {
  for (const Function &f : funcs)
    if (f.name == name)
      return &f;
  return nullptr;
}

Function &Program::inlined(size_t i) {
  Function &f = funcs[i];
  GRADC_ASSERT(!f.hasErrors, "a function with errors has no graph to make");
  if (!f.graph)
    f = inlineCalls(*this, i);
  return f;
}

} // namespace gradc
