// Function.h: a checked program in IR form: one graph per function, and the dims.
#pragma once

#include "ir/Graph.h"

#include <memory>
#include <string>
#include <vector>

namespace gradc {

struct ParamInfo {
  std::string name;
  SourceLoc loc;
  Type type;
  bool isConst = false;
  NodeId node = kNoNode; // kNoNode when the body never reads it
};

struct Function {
  std::string name;
  SourceLoc loc;
  std::shared_ptr<Graph> graph; // shared with a compiled function that optimized nothing
  std::vector<ParamInfo> params;
  /// Sema reported errors in it, or it calls a function that has them: it has no graph, and
  /// only the other functions of the program may be used (`gradc run --fn`).
  bool hasErrors = false;
  /// `local def`: a helper of other functions, inlined where called; no C symbol, and not
  /// offered by `gradc run`, `check`, `emit` or the C++ API.
  bool isLocal = false;
  NodeId result = kNoNode;
  /// In Program::bodies: the node of each expression of the function's source that has a
  /// value, as (expression id of the parsed file, node), by id: the source's own graph, which
  /// `gradc graph` draws.
  std::vector<std::pair<int32_t, NodeId>> exprValues;

  /// The declared dims this function's sizes are made of, ascending (its C ABI dim
  /// arguments): `[K, D*(D+1)/2]` uses K and D.
  std::vector<int32_t> usedDims() const;
  /// Every dim its shapes, indices and dim values mention, derived ones included, ascending.
  std::vector<int32_t> mentionedDims() const;
};

/// Every dim the nodes `roots` need mention (shapes, indices, dim values), ascending.
std::vector<int32_t> mentionedDims(const Graph &g, const std::vector<NodeId> &roots);

struct Program {
  std::shared_ptr<DimTable> dims = std::make_shared<DimTable>();
  /// The functions in source order, each whole: ready to evaluate, differentiate and compile.
  /// A function that calls others has no graph until inline(i) makes it (checkProgram does it
  /// for all unless asked not to), so a program whose functions call each other in a chain
  /// costs memory in proportion to what is compiled, not to the sum of every inlined body.
  std::vector<Function> funcs;
  /// The functions as checked: a call of a user function is one Op::Call node.
  std::vector<Function> bodies;

  const Function *find(const std::string &name) const;
  /// funcs[i] with its graph made (ir/Inline.h); idempotent.
  Function &inlined(size_t i);
  Function &inlined(const Function &f) { return inlined(static_cast<size_t>(&f - funcs.data())); }
};

} // namespace gradc
