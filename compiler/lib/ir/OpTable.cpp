// OpTable.cpp: assembles the op table from the per-family files.
#include "ir/OpTable.h"

#include <cstring>

namespace gradc {

static const char *const kOpNames[] = {
#define OP(name, spelling) spelling,
#include "ir/Ops.def"
};

// Each family's file sets whole entries, names included; every op must have one, spelled
// as in Ops.def.
static OpInfo *buildTable() {
  static OpInfo table[kNumOps];
  registerLeafOps(table);
  registerElementwiseOps(table);
  registerMathLibraryOps(table);
  registerStructureOps(table);
  registerViewOps(table);
  registerGatherOps(table);
  registerReductionOps(table);
  for (int i = 0; i < kNumOps; ++i)
    GRADC_ASSERT(table[i].name && std::strcmp(table[i].name, kOpNames[i]) == 0,
                 "op table entry " + std::to_string(i) + " is not '" + kOpNames[i] + "'");
  return table;
}

std::vector<int64_t> matrixTransposePerm(size_t r) {
  std::vector<int64_t> perm;
  for (size_t i = 0; i < r; ++i)
    perm.push_back(static_cast<int64_t>(i + 2 < r ? i : (i + 2 == r ? r - 1 : r - 2)));
  return perm;
}

const OpInfo &opInfo(Op op) {
  static const OpInfo *table = buildTable();
  return table[static_cast<int>(op)];
}

const char *opName(Op op) { return kOpNames[static_cast<int>(op)]; }

NodeId JvpContext::same(std::vector<NodeId> operands) {
  const Node &n = g.node(self);
  Attrs a;
  a.num = n.num;
  a.ints = n.ints;
  a.type = n.type;
  return g.make(n.op, std::move(operands), std::move(a));
}

NodeId jvpLinear(JvpContext &c) {
  return c.tangent(0) == kNoNode ? kNoNode : c.same({c.tangent(0)});
}

std::vector<int64_t> EvalContext::concrete(const Shape &s) const {
  std::vector<int64_t> out;
  out.reserve(s.size());
  for (const Dim &d : s)
    out.push_back(dimValue(d));
  return out;
}

std::string nestedText(const Tensor &t, std::string (*number)(double)) {
  if (t.shape.empty())
    return t.data.empty() ? "" : number(t.data[0]);
  std::string out;
  size_t rank = t.shape.size();
  std::vector<int64_t> idx(rank, 0);
  for (size_t lin = 0; lin < t.data.size(); ++lin) {
    // A bracket opens for every axis whose index is at its start, closes at its end.
    size_t opening = 0;
    for (size_t k = rank; k-- > 0 && idx[k] == 0;)
      ++opening;
    out += (lin ? ", " : "") + std::string(opening, '[') + number(t.data[lin]);
    size_t closing = 0;
    for (size_t k = rank; k-- > 0;) {
      if (++idx[k] < t.shape[k])
        break;
      idx[k] = 0;
      ++closing;
    }
    out.append(closing, ']');
  }
  return out;
}

} // namespace gradc
