// WorkspaceReuse.cpp: the slot assignment of WorkspaceReuse.h.
#include "schedule/WorkspaceReuse.h"

#include <map>

namespace gradc {

// Buffers share workspace memory when their lifetimes do not overlap: a buffer's slot is
// free again after the last step that reads it, for a later buffer of the same shape and
// dtype (sizes are symbolic in the dims, so only equal shapes are known to fit). A step
// never writes into a slot it reads: a slot is reused only by a strictly later step. The
// steps of a row sweep run together, as one step.
void reuseWorkspace(const Graph &g, const std::vector<NodeId> &roots, Schedule &s) {
  size_t steps = s.steps.size();
  std::vector<size_t> groupEnd(steps + 1);
  for (size_t k = steps + 1; k-- > 0;) {
    int32_t sweep = k < steps ? s.sweepOf[static_cast<size_t>(s.steps[k])] : -1;
    groupEnd[k] = k + 1 < steps && sweep >= 0 && s.sweepOf[static_cast<size_t>(s.steps[k + 1])] == sweep
                      ? groupEnd[k + 1]
                      : k;
  }
  std::vector<int64_t> lastUse(g.size(), -1);
  std::vector<NodeId> stack;
  for (size_t k = 0; k < steps; ++k)
    forEachRead(g, s, s.steps[k], false, stack, [&](NodeId b) {
      if (s.storage[static_cast<size_t>(b)] == Storage::Workspace)
        lastUse[static_cast<size_t>(b)] = static_cast<int64_t>(k);
    });
  for (NodeId r : roots) // read by the final copies into the outputs
    if (r != kNoNode)
      forEachRead(g, s, r, true, stack, [&](NodeId b) {
        if (s.storage[static_cast<size_t>(b)] == Storage::Workspace)
          lastUse[static_cast<size_t>(b)] = static_cast<int64_t>(steps);
      });

  using Key = std::pair<std::vector<std::pair<int32_t, int64_t>>, DType>;
  auto keyOf = [&](NodeId n) {
    Key k{{}, g.type(n).dtype};
    for (const Dim &d : g.type(n).shape)
      k.first.push_back({d.sym, d.off});
    return k;
  };
  std::map<Key, std::vector<int32_t>> free;
  std::vector<std::vector<NodeId>> releaseAfter(steps + 1);
  std::vector<NodeId> buffers;
  for (size_t k = 0; k < steps; ++k) {
    NodeId n = s.steps[k];
    size_t i = static_cast<size_t>(n);
    if (s.storage[i] == Storage::Workspace) {
      std::vector<int32_t> &slots = free[keyOf(n)];
      if (slots.empty()) {
        s.slot[i] = static_cast<int32_t>(buffers.size());
        buffers.push_back(n);
      } else {
        s.slot[i] = slots.back();
        slots.pop_back();
      }
      size_t last = lastUse[i] < 0 ? k : static_cast<size_t>(lastUse[i]);
      releaseAfter[groupEnd[last]].push_back(n);
    }
    for (NodeId done : releaseAfter[k])
      free[keyOf(done)].push_back(s.slot[static_cast<size_t>(done)]);
  }
  s.buffers = std::move(buffers);
}

} // namespace gradc
