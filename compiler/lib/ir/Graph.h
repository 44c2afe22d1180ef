// Graph.h: the IR graph: immutable, hash-consed nodes in an arena, named by small ids.
#pragma once

#include "gradc/Diagnostics.h"
#include "ir/Op.h"
#include "ir/Type.h"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gradc {

using NodeId = int32_t;
constexpr NodeId kNoNode = -1;

/// The attributes of a node beyond its operands. `type` is the result type for ops
/// whose type is not implied by their operands (Param, Const, Broadcast, Reshape, IndexGrad).
struct Attrs {
  double num = 0;
  std::vector<int64_t> ints;
  Type type;
};

/// An op applied to operands. Operands always have smaller ids, so id order is a
/// topological order and every pass can walk the graph with a plain loop.
struct Node {
  Op op;
  Type type;
  std::vector<NodeId> operands;
  double num = 0;
  std::vector<int64_t> ints;
};

class Graph {
public:
  explicit Graph(std::shared_ptr<const DimTable> dims) : dims_(std::move(dims)) {}
  Graph(const Graph &) = delete;
  /// Makes room in the hash-consing table for `n` nodes (a rewrite knows about how many).
  void reserve(size_t n);
  Graph &operator=(const Graph &) = delete;

  /// Builds (or finds) op(operands). Folds constants and trivial identities. The
  /// operands must satisfy the op's shape rule: a violation is a compiler bug.
  NodeId make(Op op, std::vector<NodeId> operands, Attrs attrs = {});
  /// Like make, but a shape-rule violation is returned in `error` (kNoNode result).
  NodeId tryMake(Op op, std::vector<NodeId> operands, Attrs attrs, std::string &error);

  NodeId constant(double value, Shape shape = {}, DType dtype = DType::F64);
  NodeId param(int64_t index, Type type);

  /// The node equal to `n` (same op, type, operands and attributes), or kNoNode.
  NodeId find(const Node &n) const;

  const Node &node(NodeId id) const { return nodes_[static_cast<size_t>(id)]; }
  const Type &type(NodeId id) const { return node(id).type; }
  size_t size() const { return nodes_.size(); }
  const DimTable &dims() const { return *dims_; }
  std::shared_ptr<const DimTable> dimTable() const { return dims_; }

  /// Where in the source a node was first built from (invalid for generated nodes).
  SourceLoc loc(NodeId id) const;
  void setLoc(NodeId id, SourceLoc loc);

  /// True when the node is a Const whose (splat) value equals v.
  bool isConstant(NodeId id, double v) const;

  /// Prints nodes reachable from `roots` in id order (`--dump=ir`).
  void print(std::ostream &os, const std::vector<NodeId> &roots,
             const std::vector<std::string> &rootNames) const;
  std::string nodeToString(NodeId id) const;

private:
  NodeId simplify(Op op, const std::vector<NodeId> &operands, const Type &type);
  NodeId intern(Node n);

  size_t hashOf(const Node &n) const;
  size_t probe(const Node &n, uint64_t h32) const;
  bool equal(const Node &a, const Node &b) const;
  void growTable();

  std::shared_ptr<const DimTable> dims_;
  // A deque: adding a node never moves the others, so a reference from node() or type()
  // stays valid while more nodes are built (VJP rules read operands while building).
  std::deque<Node> nodes_;
  std::vector<SourceLoc> locs_;
  // The hash-consing table: open addressing with linear probing. A slot holds the node's
  // id + 1 (0: empty) and 32 bits of its hash, so a probe touches one cache line and
  // reads a node only when the hashes agree.
  std::vector<uint64_t> table_ = std::vector<uint64_t>(1024, 0);
  size_t tableUsed_ = 0;
};

/// Empty when every node flagged in `needed` has at most kMaxElements elements for
/// `dimValues`; otherwise why not, with `at` the first node that has too many. Run before
/// anything is evaluated or called, so that no size computation can wrap.
std::string checkTensorSizes(const Graph &g, const std::vector<bool> &needed,
                             const std::vector<int64_t> &dimValues, NodeId &at);

/// Empty when every node's shape, with the dims of `bound` fixed (compile-time dims), has at
/// most kMaxElements elements in its known part; otherwise why not (`--dim n=2^40` for an
/// [n, n] value): refused before code is generated for it.
std::string checkBoundShapes(const Graph &g, const std::map<int32_t, int64_t> &bound);

/// Counts the nodes reachable from `roots` (constants included).
size_t reachableCount(const Graph &g, const std::vector<NodeId> &roots);
/// Which nodes `roots` need (themselves and their operands, transitively), by id: one pass
/// down the ids, since operands have smaller ids than their users.
std::vector<bool> reachableFrom(const Graph &g, const std::vector<NodeId> &roots);

} // namespace gradc
