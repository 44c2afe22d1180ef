// Schedule.cpp: fusion and materialization decisions, one pass over the node ids.
#include "schedule/Schedule.h"
#include "schedule/WorkspaceReuse.h"

#include "ir/OpTable.h"

#include <algorithm>
#include <set>
#include <unordered_set>

namespace gradc {

namespace {

// What consumers require of an operand.
enum Need : uint8_t {
  kNone = 0,
  kCheap = 1,  // read at several indices per element (matmul, broadcast): no recomputation
  kBuffer = 2, // read by linear position (reshape): a real buffer
  kOnce = 4,   // reduced by max/min: computed once when read elsewhere too (below)
  kRows = 8,   // the right operand of a matrix product: stored by rows (below)
};

// Which nodes the roots need, how many distinct nodes consume each, and what they need.
// `reads`: how many of a node's elements are read, counting a recomputation each time, when
// every read is of single elements (a scalar index such as det's M[0, 1], or an element of a
// fused view or elementwise node read that way); kEveryElement otherwise.
constexpr int64_t kEveryElement = -1;
struct Demand {
  std::vector<bool> needed;
  std::vector<int32_t> consumers;
  std::vector<uint8_t> need;
  std::vector<int64_t> reads;
};

// The elements of an operand that `node` reads: one for a scalar index, and as many as are
// read of `node` when it reads one element of its operand for each of its own.
int64_t operandReads(const Node &node, int64_t readsOfNode) {
  const OpInfo &info = opInfo(node.op);
  if (node.type.isScalar())
    return node.op == Op::Index ? 1 : kEveryElement;
  bool oneForOne = info.loop == LoopKind::Elementwise || info.loop == LoopKind::View ||
                   info.loop == LoopKind::Gather || info.loop == LoopKind::Scatter;
  return oneForOne && !info.replicates ? readsOfNode : kEveryElement;
}

Demand demandOf(const Graph &g, const std::vector<NodeId> &roots) {
  size_t n = g.size();
  Demand demand{std::vector<bool>(n, false), std::vector<int32_t>(n, 0), std::vector<uint8_t>(n, kNone),
                std::vector<int64_t>(n, 0)};
  std::vector<bool> &needed = demand.needed;
  std::vector<int64_t> &reads = demand.reads;
  std::vector<int32_t> &consumers = demand.consumers;
  std::vector<uint8_t> &need = demand.need;
  for (NodeId r : roots)
    if (r != kNoNode) {
      needed[static_cast<size_t>(r)] = true;
      reads[static_cast<size_t>(r)] = kEveryElement;
    }
  for (size_t i = n; i-- > 0;) {
    if (!needed[i])
      continue;
    const Node &node = g.node(static_cast<NodeId>(i));
    const OpInfo &info = opInfo(node.op);
    const std::vector<NodeId> &ops = node.operands;
    for (size_t k = 0; k < ops.size(); ++k) {
      size_t o = static_cast<size_t>(ops[k]);
      needed[o] = true;
      // A node using one operand twice (x * x) reads it at one index: one consumer.
      if (std::find(ops.begin(), ops.begin() + static_cast<long>(k), ops[k]) ==
          ops.begin() + static_cast<long>(k))
        ++consumers[o];
      int64_t r = operandReads(node, reads[i]);
      // (a count past 2^40 is as good as every element, and cannot overflow: shared
      // operands double it at each level)
      reads[o] = r == kEveryElement || reads[o] == kEveryElement || reads[o] + r > (int64_t{1} << 40)
                     ? kEveryElement
                     : reads[o] + r;
      if (info.loop == LoopKind::Reshape)
        need[o] |= kBuffer;
      if (info.replicates)
        need[o] |= kCheap;
      // The gradient of a max/min reduction finds its argmax by comparing the operand with
      // the result for equality. A recomputed operand may round differently in another
      // loop (a*b+c contracted to an FMA in one and not the other), find no tie, and
      // divide 0 by 0: the operand is stored once and every loop reads the same bits.
      // prod's gradient likewise finds the zeros of its operand and divides by the rest.
      if (node.op == Op::ReduceMax || node.op == Op::ReduceMin || node.op == Op::ReduceProd)
        need[o] |= kOnce;
      // The tiled kernel reads its right operand's rows along memory, one panel per block of
      // the left operand's rows: a transposed view (B.T, the gradient's G @ W.T) would be read
      // by columns each time (1024^3 f32 ran 1.9x slower than A @ B), so the transpose is
      // copied once (a small fraction of the product's work: k * n of m * k * n), also when
      // one matrix is broadcast to a batch. A thin product (an outer product in a row sweep)
      // reads it in place.
      if (info.loop == LoopKind::MatMul && k == 1 && g.type(ops[0]).shape.size() >= 2 &&
          g.type(ops[1]).shape.size() >= 2 && !isThinProduct(g, static_cast<NodeId>(i))) {
        NodeId t = g.node(ops[k]).op == Op::Broadcast ? g.node(ops[k]).operands[0] : ops[k];
        if (g.node(t).op == Op::Transpose)
          need[static_cast<size_t>(t)] |= kRows;
      }
    }
  }
  return demand;
}

// Per node, the first root it is with that root's dtype (-1: none): a node materialized
// there is written straight into that output.
std::vector<int32_t> firstRoots(const Graph &g, const std::vector<NodeId> &roots,
                                const std::vector<DType> &rootTypes) {
  std::vector<int32_t> firstRoot(g.size(), -1);
  for (size_t r = 0; r < roots.size(); ++r)
    if (roots[r] != kNoNode && firstRoot[static_cast<size_t>(roots[r])] < 0 &&
        g.type(roots[r]).dtype == rootTypes[r])
      firstRoot[static_cast<size_t>(roots[r])] = static_cast<int32_t>(r);
  return firstRoot;
}

// What the schedule lists of a needed node: its extents, its shape when symbolic (once per
// shape), and whether it indexes or gathers.
void listNode(const Graph &g, size_t i, Schedule &s, std::set<std::pair<int32_t, int64_t>> &extents,
              std::set<std::vector<std::pair<int32_t, int64_t>>> &shapeKeys) {
  const Node &node = g.node(static_cast<NodeId>(i));
  const OpInfo &info = opInfo(node.op);
  for (const Dim &d : node.type.shape)
    extents.insert({d.sym, d.off});
  if (std::any_of(node.type.shape.begin(), node.type.shape.end(), [](const Dim &d) { return !d.isLiteral(); })) {
    std::vector<std::pair<int32_t, int64_t>> key;
    for (const Dim &d : node.type.shape)
      key.push_back({d.sym, d.off});
    std::sort(key.begin(), key.end()); // the count does not depend on the order
    if (shapeKeys.insert(key).second)
      s.shapes.push_back(node.type.shape);
  }
  if (node.op == Op::Index || node.op == Op::IndexGrad)
    s.indexNodes.push_back(static_cast<NodeId>(i));
  if (info.loop == LoopKind::Gather || info.loop == LoopKind::ScatterAdd)
    s.pickNodes.push_back(static_cast<NodeId>(i));
}

// The storage of each needed node. Decided in id order, so every operand is decided before
// its consumers.
class StorageDecisions {
public:
  StorageDecisions(const Graph &g, const Demand &demand, std::vector<int32_t> firstRoot, Schedule &s)
      : g_(g), demand_(demand), firstRoot_(std::move(firstRoot)), s_(s), cheap_(g.size(), false),
        depth_(g.size(), 0), cost_(g.size(), 0), arithmetic_(g.size(), 0) {}

  void decide(size_t i);

private:
  void materialize(size_t i);
  void decideFused(size_t i, const Node &node, const OpInfo &info);

  const Graph &g_;
  const Demand &demand_;
  const std::vector<int32_t> firstRoot_;
  Schedule &s_;
  std::vector<bool> cheap_; // readable at any index without arithmetic on values
  std::vector<int> depth_;  // fused elementwise ops up to this node
  std::vector<int> cost_;   // ops to recompute one element of an inline node
  std::vector<int> arithmetic_; // of those, the elementwise ops: what one read of an element at
                                // a known index recomputes (the views' index tests fold away)
};

void StorageDecisions::materialize(size_t i) {
  const Node &node = g_.node(static_cast<NodeId>(i));
  if (firstRoot_[i] >= 0 && !node.type.isScalar()) {
    s_.storage[i] = Storage::Output;
    s_.slot[i] = firstRoot_[i];
  } else {
    s_.storage[i] = Storage::Workspace;
    s_.slot[i] = static_cast<int32_t>(s_.buffers.size());
    s_.buffers.push_back(static_cast<NodeId>(i));
  }
  s_.steps.push_back(static_cast<NodeId>(i));
}

void StorageDecisions::decide(size_t i) {
  const Node &node = g_.node(static_cast<NodeId>(i));
  const OpInfo &info = opInfo(node.op);
  if (node.op == Op::Param) {
    s_.storage[i] = Storage::Param;
    cheap_[i] = true;
    return;
  }
  if (node.op == Op::Const) {
    s_.storage[i] = Storage::Inline;
    cheap_[i] = true;
    return;
  }
  if (node.type.isScalar()) {
    s_.storage[i] = Storage::Scalar;
    s_.steps.push_back(static_cast<NodeId>(i));
    cheap_[i] = true;
    return;
  }
  NodeId op0 = node.operands.empty() ? kNoNode : node.operands[0];
  switch (info.loop) {
  case LoopKind::Reshape:
    // A reshape of a buffer reads that buffer; of a scalar, it is the scalar.
    if (g_.type(op0).isScalar()) {
      s_.storage[i] = Storage::Inline;
    } else {
      s_.storage[i] = Storage::Alias;
      s_.slot[i] = op0;
    }
    cheap_[i] = true;
    break;
  case LoopKind::Reduce:
  case LoopKind::MatMul:
  case LoopKind::ScatterAdd: // its own loops: zeros, then every element added at its index
  case LoopKind::Scan:       // its own loops: a running sum along each line
  case LoopKind::Leaf:
    materialize(i);
    cheap_[i] = true;
    break;
  case LoopKind::Iota: // its index: nothing to store, unless a reshape reads its buffer
    if (demand_.need[i] & kBuffer)
      materialize(i);
    else
      s_.storage[i] = Storage::Inline;
    cheap_[i] = true;
    break;
  case LoopKind::View:
  case LoopKind::Gather:  // reads one element of each operand per element
  case LoopKind::Scatter: // fused in gather form: out[i] = i selected ? a[i - start] : 0
  case LoopKind::Elementwise:
    decideFused(i, node, info);
    break;
  }
}

// A view, gather, scatter or elementwise node: inline (fused into its consumers' loops) or
// materialized.
void StorageDecisions::decideFused(size_t i, const Node &node, const OpInfo &info) {
  const std::vector<int32_t> &consumers = demand_.consumers;
  const std::vector<uint8_t> &need = demand_.need;
  bool isRoot = firstRoot_[i] >= 0;
  bool view = info.loop == LoopKind::View || info.loop == LoopKind::Gather;
  int d = view ? 0 : 1;
  bool operandsCheap = true;
  for (NodeId o : node.operands) {
    d = std::max(d, depth_[static_cast<size_t>(o)] + (view ? 0 : 1));
    operandsCheap = operandsCheap && cheap_[static_cast<size_t>(o)];
  }
  bool isCheap = view && operandsCheap;
  int c = view ? 0 : info.cost;
  int arithmetic = info.loop == LoopKind::Elementwise ? info.cost : 0;
  for (NodeId o : node.operands) { // (capped: an operand used twice doubles them at each level)
    c = std::min(c + cost_[static_cast<size_t>(o)], kCostCap);
    arithmetic = std::min(arithmetic + arithmetic_[static_cast<size_t>(o)], kCostCap);
  }
  // A value used by several consumers is stored once, unless recomputing it in each
  // is cheaper than a trip through memory (a few arithmetic ops per element).
  bool recompute = consumers[i] * c <= kRecomputeBudget && !(need[i] & kCheap);
  // Read only at single elements, by scalar indices (det's minors): each read recomputes
  // the elementwise ops of one element; storing computes every element and stores it.
  // (The reads are few, too: each is code of its own.)
  // (Counted here: elementCountDim would add a derived dim to the table for [n, 3].)
  int64_t elements = 1;
  for (const Dim &dim : node.type.shape) {
    if (!dim.isLiteral() || elements > (int64_t{1} << 40)) {
      elements = kEveryElement;
      break;
    }
    elements *= dim.off;
  }
  int64_t reads = demand_.reads[i];
  recompute = recompute || (reads != kEveryElement && elements != kEveryElement &&
                            reads * arithmetic <= elements * (c + 1) && reads * (arithmetic + 1) <= kPointReadBudget);
  bool reused = (consumers[i] > 1 && (!recompute || (need[i] & kOnce))) || (need[i] & kCheap);
  if (isRoot || (need[i] & (kBuffer | kRows)) || (reused && !isCheap) || d > kMaxFusionDepth) {
    materialize(i);
    cheap_[i] = true;
  } else {
    s_.storage[i] = Storage::Inline;
    cheap_[i] = isCheap;
    depth_[i] = d;
    cost_[i] = c;
    arithmetic_[i] = arithmetic;
  }
}

} // namespace

Schedule scheduleFunction(const Graph &g, const std::vector<NodeId> &roots,
                          const std::vector<DType> &rootTypes) {
  size_t n = g.size();
  Schedule s;
  s.storage.assign(n, Storage::Unused);
  s.slot.assign(n, -1);

  Demand demand = demandOf(g, roots);
  StorageDecisions decisions(g, demand, firstRoots(g, roots, rootTypes), s);
  std::set<std::pair<int32_t, int64_t>> extents;
  std::set<std::vector<std::pair<int32_t, int64_t>>> shapeKeys;
  for (size_t i = 0; i < n; ++i) {
    if (!demand.needed[i])
      continue;
    listNode(g, i, s, extents, shapeKeys);
    decisions.decide(i);
  }
  // Roots that are not written by their own loop get a copy.
  for (size_t r = 0; r < roots.size(); ++r) {
    NodeId id = roots[r];
    if (id == kNoNode || g.type(id).isScalar())
      continue;
    size_t i = static_cast<size_t>(id);
    if (!(s.storage[i] == Storage::Output && s.slot[i] == static_cast<int32_t>(r)))
      s.copies.push_back(r);
  }
  for (auto [sym, off] : extents)
    s.extents.push_back(Dim{sym, off});
  fuseRowSweeps(g, s);
  fuseSumRiders(g, s);
  reuseWorkspace(g, roots, s);
  return s;
}

DType elementComputeDtype(const Graph &g, const Node &node) {
  static const auto rank = [](DType t) {
    switch (t) {
    case DType::Bool: return 0;
    case DType::I32: return 1;
    case DType::I64: return 2;
    case DType::F32: return 3;
    case DType::F64: return 4;
    }
    return 4;
  };
  if (node.type.dtype != DType::Bool || node.op == Op::Where)
    return node.type.dtype;
  DType widest = DType::Bool;
  for (NodeId o : node.operands)
    if (rank(g.type(o).dtype) > rank(widest))
      widest = g.type(o).dtype;
  return widest;
}

// The walks below visit each fused node once: a value fused into two operands of one
// consumer (x * x) would otherwise be walked once per path, 2^48 times down a chain.
std::vector<NodeId> fusedGathers(const Graph &g, const Schedule &s, NodeId n) {
  std::vector<NodeId> found, stack(g.node(n).operands.begin(), g.node(n).operands.end());
  if (opInfo(g.node(n).op).loop != LoopKind::Elementwise)
    return found;
  std::unordered_set<NodeId> seen;
  while (!stack.empty()) {
    NodeId x = stack.back();
    stack.pop_back();
    if (s.storage[static_cast<size_t>(x)] != Storage::Inline || g.type(x).isScalar() || !seen.insert(x).second)
      continue;
    LoopKind kind = opInfo(g.node(x).op).loop;
    if (kind == LoopKind::Scatter) {
      if (decodeIndexSpec(g.node(x).ints)[0].slice && std::find(found.begin(), found.end(), x) == found.end())
        found.push_back(x);
    } else if (kind == LoopKind::Elementwise) {
      for (NodeId o : g.node(x).operands)
        stack.push_back(o);
    }
  }
  return found;
}

bool readsAcrossRows(const Graph &g, const Schedule &s, NodeId n) {
  std::vector<NodeId> stack{n};
  std::unordered_set<NodeId> seen;
  while (!stack.empty()) {
    NodeId x = stack.back();
    stack.pop_back();
    if (!seen.insert(x).second)
      continue;
    const Node &node = g.node(x);
    if (node.op == Op::Transpose && !node.ints.empty() &&
        node.ints.back() != static_cast<int64_t>(node.ints.size()) - 1)
      return true;
    LoopKind kind = opInfo(node.op).loop;
    if (kind != LoopKind::Elementwise && kind != LoopKind::View)
      continue;
    for (NodeId o : node.operands)
      if (s.storage[static_cast<size_t>(o)] == Storage::Inline && !g.type(o).isScalar())
        stack.push_back(o);
  }
  return false;
}

bool matrixInMemory(const Graph &g, const Schedule &s, NodeId x, DType dt, MatrixInMemory &m) {
  const Shape &shape = g.type(x).shape;
  auto inMemory = [&](NodeId y) {
    Storage st = s.storage[static_cast<size_t>(y)];
    return g.type(y).dtype == dt && g.type(y).shape.size() >= 2 &&
           (st == Storage::Param || st == Storage::Output || st == Storage::Workspace || st == Storage::Alias);
  };
  m = {};
  const Node &node = g.node(x);
  if (node.op == Op::Broadcast && s.storage[static_cast<size_t>(x)] == Storage::Inline && shape.size() > 2) {
    // Matrices repeated along batch axes: the operand's batch axes are each 1 or the result's.
    const Shape &from = g.type(node.operands[0]).shape;
    if (from.size() < 2 || from.size() > shape.size() || !std::equal(from.end() - 2, from.end(), shape.end() - 2))
      return false;
    for (size_t j = 0; j + 2 < from.size(); ++j)
      if (!(from[j] == Dim::lit(1)) && !(from[j] == shape[shape.size() - from.size() + j]))
        return false;
    x = node.operands[0];
  }
  if (inMemory(x)) {
    m.buffer = x;
    return true;
  }
  if (readsColumnMajor(g, s, x) && inMemory(g.node(x).operands[0])) {
    m.buffer = g.node(x).operands[0];
    m.transposed = true;
    return true;
  }
  return false;
}

bool isThinProduct(const Graph &g, NodeId n) {
  const Node &node = g.node(n);
  const Shape &xs = g.type(node.operands[0]).shape, &ys = g.type(node.operands[1]).shape;
  auto below = [](const Dim &d, int64_t v) { return d.isLiteral() && d.off < v; };
  return below(xs.back(), 8) || (ys.size() >= 2 && below(ys.back(), 4));
}

bool tilesMatMul(const Graph &g, const Schedule &s, NodeId n, MatrixInMemory &a, MatrixInMemory &b) {
  const Node &node = g.node(n);
  DType dt = node.type.dtype;
  NodeId x = node.operands[0], y = node.operands[1];
  const Shape &xs = g.type(x).shape, &ys = g.type(y).shape;
  if ((dt != DType::F64 && dt != DType::F32) || xs.size() < 2 || ys.size() < 2 || isThinProduct(g, n))
    return false;
  // A transposed right operand is copied first (demandOf): the kernel reads B by rows.
  return matrixInMemory(g, s, x, dt, a) && matrixInMemory(g, s, y, dt, b) && !b.transposed;
}

bool readsColumnMajor(const Graph &g, const Schedule &s, NodeId x) {
  const Node &n = g.node(x);
  return n.op == Op::Transpose && s.storage[static_cast<size_t>(x)] == Storage::Inline && n.ints.size() >= 2 &&
         n.ints == matrixTransposePerm(n.ints.size());
}

} // namespace gradc
