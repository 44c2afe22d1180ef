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
  NodeId result = kNoNode;

  /// The dims this function's shapes mention, ascending (its C ABI dim arguments).
  std::vector<int32_t> usedDims() const;
};

struct Program {
  std::shared_ptr<DimTable> dims = std::make_shared<DimTable>();
  std::vector<Function> funcs;

  const Function *find(const std::string &name) const;
};

} // namespace gradc
