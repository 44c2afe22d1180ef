// Plan.cpp: the schedule of an exported function, where its values come from among the
// arguments, and which scalars of long code cross chunks through the tape.
#include "loops/Plan.h"

#include "ir/OpTable.h"

#include <algorithm>
#include <string>

namespace gradc {

loops::ExprId loops::alignToBuffer(Func &f, ExprId bytes) {
  ExprId a = f.u64(static_cast<uint64_t>(kBufferAlign));
  return f.mul(f.div(f.add(bytes, f.u64(static_cast<uint64_t>(kBufferAlign - 1))), a), a);
}

FunctionPlan::FunctionPlan(const LoweringInput &in, const AbiFunction &abi, std::vector<NodeId> roots,
                           const LoweringOptions &opts)
    : in(in), abi(abi), roots(std::move(roots)), opts(opts) {
  std::vector<DType> rootTypes;
  for (size_t r = 0; r < this->roots.size(); ++r)
    rootTypes.push_back(outputDtype(r));
  s = scheduleFunction(*in.graph, this->roots, rootTypes);
  ArgumentMap m = mapArguments(abi, in.fn->params.size(), this->roots.size());
  paramArg = std::move(m.paramArg);
  outputArg = std::move(m.outputArg);
  wsArg = m.wsArg;
  assignTape();
}

size_t FunctionPlan::valueStep() const {
  auto at = std::find(s.steps.begin(), s.steps.end(), roots[0]);
  return at == s.steps.end() ? std::string::npos : static_cast<size_t>(at - s.steps.begin());
}

size_t FunctionPlan::valueChunks() const {
  const Graph &g = *in.graph;
  NodeId v = roots.empty() ? kNoNode : roots[0];
  if (!chunked() || v == kNoNode || !g.type(v).isScalar() || !s.buffers.empty() ||
      s.storage[static_cast<size_t>(v)] != Storage::Scalar || tapeSlot[static_cast<size_t>(v)] < 0)
    return 0;
  size_t k = valueStep();
  if (k == std::string::npos)
    return 0;
  size_t chunks = k / opts.chunkSteps + 1;
  const int32_t dOut = static_cast<int32_t>(in.fn->params.size());
  std::vector<NodeId> stack;
  for (size_t j = 0; j < std::min(s.steps.size(), chunks * opts.chunkSteps); ++j) {
    NodeId step = s.steps[j];
    NodeId target = step;
    while (s.storage[static_cast<size_t>(target)] == Storage::Alias)
      target = s.slot[static_cast<size_t>(target)];
    if (s.storage[static_cast<size_t>(target)] == Storage::Output || s.rowSweepOf(step))
      return 0;
    bool readsOutput = false;
    forEachRead(g, s, step, false, stack, [&](NodeId x) {
      Storage st = s.storage[static_cast<size_t>(x)];
      readsOutput |= st == Storage::Output ||
                     (st == Storage::Param && g.node(x).op == Op::Param && g.node(x).ints[0] == dOut);
    });
    if (readsOutput)
      return 0;
  }
  return chunks;
}

DType FunctionPlan::outputDtype(size_t root) const {
  if (root == 0)
    return abi.returnType;
  return in.fn->params[root - 1].type.dtype;
}

// Chunked code keeps scalars that cross a chunk boundary, and the workspace buffers'
// addresses, in a tape at the start of the workspace.
void FunctionPlan::assignTape() {
  tapeSlot.assign(in.graph->size(), -1);
  tapeSlots = 0;
  if (!chunked())
    return;
  int32_t next = static_cast<int32_t>(s.buffers.size());
  std::vector<int32_t> chunkOf(in.graph->size(), -1);
  for (size_t k = 0; k < s.steps.size(); ++k) {
    // A row sweep's steps run in its matvec's chunk, a riding sum in its loop's (which
    // come first).
    const RowSweep *sw = s.rowSweepOf(s.steps[k]);
    const SumRider *rider = s.riderOfSum(s.steps[k]);
    chunkOf[static_cast<size_t>(s.steps[k])] = sw && sw->matvec != s.steps[k]
                                                    ? chunkOf[static_cast<size_t>(sw->matvec)]
                                               : rider ? chunkOf[static_cast<size_t>(rider->loop)]
                                                       : static_cast<int32_t>(k / opts.chunkSteps);
  }
  auto keep = [&](NodeId x) {
    if (tapeSlot[static_cast<size_t>(x)] < 0)
      tapeSlot[static_cast<size_t>(x)] = next++;
  };
  std::vector<NodeId> stack;
  // The scalars computing `start` reads from another chunk go on the tape.
  auto visitReads = [&](NodeId start, int32_t chunk, bool self) {
    forEachRead(*in.graph, s, start, self, stack, [&](NodeId x) {
      if (s.storage[static_cast<size_t>(x)] == Storage::Scalar && chunkOf[static_cast<size_t>(x)] != chunk)
        keep(x);
    });
  };
  for (NodeId step : s.steps)
    visitReads(step, chunkOf[static_cast<size_t>(step)], false);
  for (size_t r = 0; r < roots.size(); ++r)
    if (roots[r] != kNoNode)
      visitReads(roots[r], -1, true);
  tapeSlots = static_cast<size_t>(next);
}

} // namespace gradc
