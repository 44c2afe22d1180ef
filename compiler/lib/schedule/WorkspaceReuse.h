// WorkspaceReuse.h: workspace slots shared by buffers whose lifetimes do not overlap.
#pragma once

#include "schedule/Schedule.h"

#include <vector>

namespace gradc {

/// Assigns each workspace buffer of `s` a slot (Schedule::slot, Schedule::buffers), reusing
/// the slot of a buffer of the same shape and dtype that no later step reads.
void reuseWorkspace(const Graph &g, const std::vector<NodeId> &roots, Schedule &s);

} // namespace gradc
