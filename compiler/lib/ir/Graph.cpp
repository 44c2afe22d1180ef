// Graph.cpp: building nodes through the op table, folding, and hash-consing.
#include "ir/Graph.h"

#include "ir/DimArith.h"

#include "ir/OpTable.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <ostream>
#include <set>
#include <sstream>

namespace gradc {

// Mixes v into h with a full-avalanche step (splitmix64's finalizer): node ids are small
// consecutive integers, and a weak mix leaves the hash table with long chains.
static size_t mix(size_t h, uint64_t v) {
  uint64_t x = h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

size_t Graph::hashOf(const Node &n) const {
  size_t h = static_cast<size_t>(n.op);
  h = mix(h, static_cast<uint64_t>(n.type.dtype));
  for (const Dim &d : n.type.shape)
    h = mix(mix(h, static_cast<uint64_t>(d.sym)), static_cast<uint64_t>(d.off));
  for (NodeId o : n.operands)
    h = mix(h, static_cast<uint64_t>(o));
  h = mix(h, std::bit_cast<uint64_t>(n.num));
  for (int64_t v : n.ints)
    h = mix(h, static_cast<uint64_t>(v));
  return h;
}

bool Graph::equal(const Node &x, const Node &y) const {
  // Constants compare by bits, so 0.0 and -0.0 (and NaNs) stay distinct.
  return x.op == y.op && x.type == y.type && x.operands == y.operands &&
         std::bit_cast<uint64_t>(x.num) == std::bit_cast<uint64_t>(y.num) && x.ints == y.ints;
}

void Graph::reserve(size_t n) {
  while (table_.size() < 2 * n)
    growTable();
}

void Graph::growTable() {
  std::vector<uint64_t> old(table_.size() * 2, 0);
  old.swap(table_);
  size_t mask = table_.size() - 1;
  for (uint64_t slot : old) {
    if (!slot)
      continue;
    // The 32 hash bits kept in the slot place it again (tables stay below 2^32 slots).
    size_t i = static_cast<size_t>(slot >> 32) & mask;
    while (table_[i])
      i = (i + 1) & mask;
    table_[i] = slot;
  }
}

// The table slot holding a node equal to `n`, or the empty slot where it would go.
size_t Graph::probe(const Node &n, uint64_t h32) const {
  size_t mask = table_.size() - 1;
  for (size_t i = static_cast<size_t>(h32) & mask;; i = (i + 1) & mask) {
    uint64_t slot = table_[i];
    if (!slot || ((slot >> 32) == h32 && equal(nodes_[(slot & 0xffffffffu) - 1], n)))
      return i;
  }
}

NodeId Graph::find(const Node &n) const {
  uint64_t slot = table_[probe(n, static_cast<uint32_t>(hashOf(n)))];
  return slot ? static_cast<NodeId>((slot & 0xffffffffu) - 1) : kNoNode;
}

NodeId Graph::intern(Node n) {
  if ((tableUsed_ + 1) * 2 > table_.size())
    growTable();
  uint64_t h32 = static_cast<uint32_t>(hashOf(n));
  size_t i = probe(n, h32);
  if (table_[i])
    return static_cast<NodeId>((table_[i] & 0xffffffffu) - 1);
  nodes_.push_back(std::move(n));
  table_[i] = (h32 << 32) | static_cast<uint64_t>(nodes_.size());
  ++tableUsed_;
  return static_cast<NodeId>(nodes_.size() - 1);
}

NodeId Graph::make(Op op, std::vector<NodeId> operands, Attrs attrs) {
  std::string error;
  NodeId id = tryMake(op, std::move(operands), std::move(attrs), error);
  if (id == kNoNode)
    internalError(std::string("ill-typed '") + opName(op) + "' node: " + error);
  return id;
}

NodeId Graph::tryMake(Op op, std::vector<NodeId> operands, Attrs attrs, std::string &error) {
  const OpInfo &info = opInfo(op);
  if (info.arity >= 0 && operands.size() != static_cast<size_t>(info.arity))
    internalError(std::string("'") + info.name + "' takes " + std::to_string(info.arity) +
                  " operands, got " + std::to_string(operands.size()));
  std::vector<const Type *> types;
  types.reserve(operands.size());
  for (NodeId o : operands) {
    GRADC_ASSERT(o >= 0 && static_cast<size_t>(o) < nodes_.size(), "operand out of range");
    types.push_back(&nodes_[static_cast<size_t>(o)].type);
  }
  Type type;
  ShapeQuery q{types, attrs, *dims_};
  if (!info.shape(q, type, error))
    return kNoNode;
  // Literal sizes are known now: a tensor too large to index is refused where it is built.
  if (literalElementCount(type.shape) < 0) {
    error = "the result would have more than " + maxElementsText() + " elements (" +
            dims_->str(type.shape) + ")";
    return kNoNode;
  }
  NodeId simple = simplify(op, operands, type);
  if (simple != kNoNode)
    return simple;
  return intern(Node{op, std::move(type), std::move(operands), attrs.num, std::move(attrs.ints)});
}

// Rewrites applied as nodes are built. Each is exact under IEEE semantics.
NodeId Graph::simplify(Op op, const std::vector<NodeId> &ops, const Type &type) {
  const OpInfo &info = opInfo(op);
  auto isConst = [&](NodeId id) { return node(id).op == Op::Const; };
  // Elementwise op on constants -> the folded constant.
  if (info.elementwise && !ops.empty()) {
    bool allConst = true;
    for (NodeId o : ops)
      allConst = allConst && isConst(o);
    if (allConst) {
      double v = 0;
      if (info.scalar1)
        v = info.scalar1(node(ops[0]).num);
      else if (info.scalar2)
        v = info.scalar2(node(ops[0]).num, node(ops[1]).num);
      else if (info.scalar3)
        v = info.scalar3(node(ops[0]).num, node(ops[1]).num, node(ops[2]).num);
      Node n{Op::Const, type, {}, v, {}};
      return intern(std::move(n));
    }
  }
  switch (op) {
  case Op::Mul: // x*1 -> x, 1*x -> x
    if (isConstant(ops[1], 1.0))
      return ops[0];
    if (isConstant(ops[0], 1.0))
      return ops[1];
    break;
  case Op::Div: // x/1 -> x
    if (isConstant(ops[1], 1.0))
      return ops[0];
    break;
  case Op::Neg: // -(-x) -> x
    if (node(ops[0]).op == Op::Neg)
      return node(ops[0]).operands[0];
    break;
  case Op::Reshape: // reshape(reshape(x)) -> reshape(x)
    if (node(ops[0]).op == Op::Reshape) {
      Attrs a;
      a.type = type;
      return make(Op::Reshape, {node(ops[0]).operands[0]}, a);
    }
    [[fallthrough]];
  case Op::Broadcast: // broadcast(x) to x's own shape -> x; broadcast(c) -> c of the new shape
    if (type.shape == node(ops[0]).type.shape)
      return ops[0];
    if (isConst(ops[0]))
      return intern(Node{Op::Const, type, {}, node(ops[0]).num, {}});
    break;
  default:
    break;
  }
  return kNoNode;
}

NodeId Graph::constant(double value, Shape shape, DType dtype) {
  return intern(Node{Op::Const, Type{dtype, std::move(shape)}, {}, value, {}});
}

NodeId Graph::param(int64_t index, Type type) {
  return intern(Node{Op::Param, std::move(type), {}, 0, {index}});
}

bool Graph::isConstant(NodeId id, double v) const {
  const Node &n = node(id);
  return n.op == Op::Const && n.num == v;
}

SourceLoc Graph::loc(NodeId id) const {
  return static_cast<size_t>(id) < locs_.size() ? locs_[static_cast<size_t>(id)] : SourceLoc{};
}

void Graph::setLoc(NodeId id, SourceLoc loc) {
  if (locs_.size() <= static_cast<size_t>(id))
    locs_.resize(static_cast<size_t>(id) + 1);
  if (!locs_[static_cast<size_t>(id)].valid())
    locs_[static_cast<size_t>(id)] = loc;
}

static std::string formatNumber(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

std::string Graph::nodeToString(NodeId id) const {
  const Node &n = node(id);
  std::string s = "%" + std::to_string(id) + " = " + opName(n.op);
  if (n.op == Op::Const)
    s += " " + formatNumber(n.num);
  for (size_t i = 0; i < n.operands.size(); ++i)
    s += (i ? ", %" : " %") + std::to_string(n.operands[i]);
  if (n.op == Op::Index || n.op == Op::IndexGrad) {
    // 5 entries per axis: kind (0 index, 1 slice), start (sym, off), stop (sym, off)
    s += " [";
    for (size_t i = 0; i + 4 < n.ints.size(); i += 5) {
      Dim start{static_cast<int32_t>(n.ints[i + 1]), n.ints[i + 2]};
      Dim stop{static_cast<int32_t>(n.ints[i + 3]), n.ints[i + 4]};
      s += (i ? ", " : "") + dims_->str(start);
      if (n.ints[i])
        s += ":" + dims_->str(stop);
    }
    s += "]";
  } else if (!n.ints.empty()) {
    s += " {";
    for (size_t i = 0; i < n.ints.size(); ++i)
      s += (i ? ", " : "") + std::to_string(n.ints[i]);
    s += "}";
  }
  s += " : ";
  s += dtypeName(n.type.dtype);
  if (!n.type.shape.empty())
    s += dims_->str(n.type.shape);
  return s;
}

void Graph::print(std::ostream &os, const std::vector<NodeId> &roots,
                  const std::vector<std::string> &rootNames) const {
  std::vector<bool> live = reachableFrom(*this, roots);
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (live[i])
      os << "  " << nodeToString(static_cast<NodeId>(i)) << "\n";
  for (size_t i = 0; i < roots.size(); ++i)
    os << "  " << (i < rootNames.size() ? rootNames[i] : "out") << " = %" << roots[i] << "\n";
}

std::string checkTensorSizes(const Graph &g, const std::vector<bool> &needed,
                             const std::vector<int64_t> &dimValues, NodeId &at) {
  for (size_t i = 0; i < g.size() && i < needed.size(); ++i) {
    if (!needed[i])
      continue;
    const Shape &shape = g.type(static_cast<NodeId>(i)).shape;
    std::vector<int64_t> sizes = concreteShape(shape, dimValues);
    if (checkedElementCount(sizes) >= 0)
      continue;
    at = static_cast<NodeId>(i);
    std::string concrete;
    for (int64_t s : sizes)
      concrete += (concrete.empty() ? "" : ", ") + std::to_string(s);
    bool negative = false;
    for (int64_t s : sizes)
      negative = negative || s < 0;
    return negative ? "a value of shape " + g.dims().str(shape) + " would have a negative size ([" +
                          concrete + "]) for these dims"
                    : "a value of shape " + g.dims().str(shape) + " would have more than " +
                          maxElementsText() + " elements ([" + concrete + "]) for these dims";
  }
  return "";
}

std::string checkBoundShapes(const Graph &g, const std::map<int32_t, int64_t> &bound) {
  if (bound.empty())
    return "";
  for (size_t i = 0; i < g.size(); ++i) {
    const Shape &shape = g.type(static_cast<NodeId>(i)).shape;
    std::vector<int64_t> sizes;
    for (const Dim &d : shape) {
      auto b = bound.find(d.sym);
      if (d.isLiteral())
        sizes.push_back(d.off);
      else if (b != bound.end())
        sizes.push_back(b->second + d.off);
    }
    if (checkedElementCount(sizes) >= 0)
      continue;
    std::string fixed;
    std::vector<int32_t> given; // the declared dims of the sizes: M-D names D
    for (const Dim &d : shape)
      if (!d.isLiteral())
        givenDimsOf(g.dims(), d.sym, given);
    std::sort(given.begin(), given.end());
    for (int32_t sym : given)
      if (auto b = bound.find(sym); b != bound.end())
        fixed += (fixed.empty() ? "" : ", ") + g.dims().names[static_cast<size_t>(sym)] + " = " + std::to_string(b->second);
    for (int64_t size : sizes)
      if (size < 0)
        return "with the dims fixed at compile time (" + fixed + "), a value of shape " + g.dims().str(shape) +
               " would have a negative size (" + std::to_string(size) + ")";
    return "with the dims fixed at compile time (" + fixed + "), a value of shape " + g.dims().str(shape) +
           " would have more than " + maxElementsText() + " elements";
  }
  return "";
}

std::vector<bool> reachableFrom(const Graph &g, const std::vector<NodeId> &roots) {
  std::vector<bool> live(g.size(), false);
  for (NodeId r : roots)
    if (r != kNoNode)
      live[static_cast<size_t>(r)] = true;
  for (size_t i = g.size(); i-- > 0;)
    if (live[i])
      for (NodeId o : g.node(static_cast<NodeId>(i)).operands)
        live[static_cast<size_t>(o)] = true;
  return live;
}

size_t reachableCount(const Graph &g, const std::vector<NodeId> &roots) {
  std::vector<bool> live = reachableFrom(g, roots);
  return static_cast<size_t>(std::count(live.begin(), live.end(), true));
}

} // namespace gradc
