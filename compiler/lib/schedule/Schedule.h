// Schedule.h: where each value of a compiled function lives. Scalars are SSA values;
// tensors are fused into their consumer's loop when each element is needed once, and are
// otherwise materialized in a buffer: a parameter, an output, or a workspace slot.
#pragma once

#include "ir/Graph.h"

#include <vector>

namespace gradc {

enum class Storage : uint8_t {
  Unused,    // not needed by any root
  Inline,    // recomputed in each consumer's loop (fused), or a constant
  Scalar,    // an SSA value computed once at function level
  Param,     // the caller's argument
  Output,    // written to the caller's output buffer `slot`
  Workspace, // a buffer in the workspace, slot `slot`
  Alias,     // reads the buffer of node `slot` with its own shape (reshape)
};

/// A matrix-vector product q = W @ x (W [m, n] row-major in memory, x a vector in memory) and
/// the steps that use q row by row, all computed in one sweep over W's rows (docs/CLI.md: fused
/// sweeps over big operands): while rows i are in cache, the vectors computed elementwise
/// from q (`rowValues`: element i from q[i], scalars, constants and vectors computed
/// before), rows i of outer products g v^T, and the terms g[i] W[i, :] of products W^T g,
/// for g any such vector. The reverse sweep of a layer `W @ x` whose adjoint is elementwise
/// (sum((W @ x)^2), a loss per element) reads W once instead of three times.
struct RowSweep {
  NodeId matvec = kNoNode;
  std::vector<NodeId> rowValues;  // [m] vectors, in step order
  std::vector<NodeId> outers;     // C [m, n] = g [m, 1] @ v^T [1, n], v in memory
  std::vector<NodeId> transposed; // r [n] or [n, 1] = W^T @ g
};

/// A full sum of a vector, `sum(e)`, computed in the loop of a later step that already
/// computes e's elements: the loop of a vector whose elements gather `a` at [start, stop),
/// with `a` as long as e (docs/CLI.md: fused sweeps). Rosenbrock's gradient is the case:
/// d_x gathers terms of the same sums the value adds up, so one sweep does both. e[t] is
/// added where the loop is at start + t.
struct SumRider {
  NodeId sum = kNoNode;
  NodeId loop = kNoNode;
  NodeId gather = kNoNode; // the index_grad of the loop that sets the alignment
};

struct Schedule {
  std::vector<Storage> storage; // per node
  std::vector<int32_t> slot;    // per node: the output index, workspace slot, or aliased node
  std::vector<NodeId> buffers;  // the workspace slots' nodes, in slot order
  /// Nodes computed at function level in this order: scalars, and loops filling buffers.
  std::vector<NodeId> steps;
  /// Roots whose output is filled by a copy loop (a parameter, a constant, a reshape, or a
  /// node already written to another output), as root indices.
  std::vector<size_t> copies;
  /// Index and index_grad nodes whose bounds are checked on entry, and every dim extent used.
  std::vector<NodeId> indexNodes;
  std::vector<NodeId> pickNodes; // pick, gather, scatter_add: their indices are checked on entry
  std::vector<Dim> extents;
  /// The distinct shapes with a dim among the nodes: each must have at most kMaxElements
  /// elements for the dims of a call (ir/Type.h), checked on entry before any size is used.
  std::vector<Shape> shapes;
  /// The steps of a row sweep follow its matvec in `steps`; backends that fuse emit them all
  /// at the matvec, others in order (their operands are ready there).
  std::vector<RowSweep> rowSweeps;
  std::vector<int32_t> sweepOf; // per node: its row sweep, or -1

  /// Sums computed in a later loop: each follows its loop in `steps`; backends that fuse
  /// compute it in the loop, others in order (its operands are ready there).
  std::vector<SumRider> riders;
  std::vector<int32_t> riderOf; // per node: its rider (as the sum), or -1

  /// The rider whose sum is n, or nullptr.
  const SumRider *riderOfSum(NodeId n) const {
    int32_t k = riderOf[static_cast<size_t>(n)];
    return k < 0 ? nullptr : &riders[static_cast<size_t>(k)];
  }

  /// The row sweep step n belongs to, or nullptr.
  const RowSweep *rowSweepOf(NodeId n) const {
    int32_t k = sweepOf[static_cast<size_t>(n)];
    return k < 0 ? nullptr : &rowSweeps[static_cast<size_t>(k)];
  }
};

/// The longest chain of fused elementwise ops before a value is materialized; it bounds
/// the lowering's recursion and the size of one loop body.
constexpr int kMaxFusionDepth = 48;
/// Recompute a fused value in each consumer when consumers x its cost (in arithmetic ops,
/// see OpInfo::cost) is at most this; otherwise store it.
constexpr int kRecomputeBudget = 12;
/// A value read only at single elements is recomputed at each read when that is no more
/// work than storing it, and the reads' elementwise ops total at most this many (code size).
constexpr int64_t kPointReadBudget = 4096;
/// The cost of one element, as fusion adds it up, is at most this (sums of shared operands
/// double at each level).
constexpr int kCostCap = 1 << 20;

/// Schedules the nodes `roots` need. A tensor root is written to output i (i = its index
/// in `roots`); scalar roots are SSA values the caller returns or stores.
/// Calls read(x) for every stored value (scalar, buffer, parameter) that computing `start`
/// reads: its operands (and `start` itself when `self`), looking through the fused nodes it
/// recomputes and through reshapes to the buffer they read. `stack` is scratch space.
template <typename F>
void forEachRead(const Graph &g, const Schedule &s, NodeId start, bool self,
                 std::vector<NodeId> &stack, F read) {
  stack.clear();
  if (self)
    stack.push_back(start);
  else
    for (NodeId o : g.node(start).operands)
      stack.push_back(o);
  while (!stack.empty()) {
    NodeId x = stack.back();
    stack.pop_back();
    Storage st = s.storage[static_cast<size_t>(x)];
    if (st == Storage::Alias)
      stack.push_back(s.slot[static_cast<size_t>(x)]);
    else if (st == Storage::Inline)
      for (NodeId o : g.node(x).operands)
        stack.push_back(o);
    else
      read(x);
  }
}

/// The dtype an elementwise op computes in: its result's, except comparisons, which
/// compare in their widest operand's.
DType elementComputeDtype(const Graph &g, const Node &node);

/// The index_grads fused into n's loop (reached through elementwise ops, so in n's index
/// space) that slice the outermost axis: the loop is split where all of them are inside.
std::vector<NodeId> fusedGathers(const Graph &g, const Schedule &s, NodeId n);

/// Whether n's loop (n and the nodes fused into it) reads an operand across its rows: a
/// transpose that moves the last axis, whose loop is then blocked (LowerSteps.cpp).
bool readsAcrossRows(const Graph &g, const Schedule &s, NodeId n);

/// Whether matrix operand x is read column by column: a fused transpose of a matrix in
/// memory (every W^T of a gradient; of each matrix of a batch), which matmuls sweep by W's
/// rows instead.
bool readsColumnMajor(const Graph &g, const Schedule &s, NodeId x);

/// A matrix operand a matrix kernel reads straight from memory: `buffer` (a parameter,
/// output or workspace buffer, or a reshape of one) in dtype `dt`, or its transpose.
/// A batch of matrices (rank above 2) is a buffer of them one after another, read through a
/// broadcast of its batch axes when x is one (the buffer's axes of length 1 repeat, and it may
/// have fewer: x[b..., i, p] = buffer[b'..., i, p], b' = b with those axes at 0).
struct MatrixInMemory {
  NodeId buffer = kNoNode; // read through Schedule::storage/slot as any buffer
  bool transposed = false; // x[..., i, p] = buffer[..., p, i]
};
/// Whether matrix (or batch of matrices) x is such an operand (false for fused expressions
/// and other views).
bool matrixInMemory(const Graph &g, const Schedule &s, NodeId x, DType dt, MatrixInMemory &m);

/// Whether matrix-matrix product n is thin: its shared axis known to be shorter than 8 (an
/// outer product) or fewer than 4 columns (a matrix times a one-column matrix). Those are
/// memory-bound sweeps that row updates do as well as any kernel or library.
bool isThinProduct(const Graph &g, NodeId n);

/// Whether matrix product n runs the tiled matrix kernel (loops/TiledKernel.h): f32 or f64
/// matrices in memory, A either transposed or not and B by rows, the product not thin. Gives
/// the operands.
bool tilesMatMul(const Graph &g, const Schedule &s, NodeId n, MatrixInMemory &a, MatrixInMemory &b);

/// Finds the row sweeps (see RowSweep) among the steps, moves their steps after the matvec
/// and records them in s.rowSweeps and s.sweepOf. Runs before workspace slots are shared.
void fuseRowSweeps(const Graph &g, Schedule &s);

/// Finds the sums that can ride on a later loop (see SumRider), moves each after its loop
/// and records them in s.riders and s.riderOf. Runs before workspace slots are shared.
void fuseSumRiders(const Graph &g, Schedule &s);

/// `rootTypes[i]` is the dtype output i is written in; a root of another dtype is
/// computed in the workspace and converted by its copy.
Schedule scheduleFunction(const Graph &g, const std::vector<NodeId> &roots,
                          const std::vector<DType> &rootTypes);

} // namespace gradc
