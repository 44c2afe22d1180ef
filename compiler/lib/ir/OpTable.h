// OpTable.h: the single source of truth for every op: its shape rule, reference
// evaluation, reverse-mode (VJP) rule and scalar kernels, side by side.
#pragma once

#include "ir/Graph.h"

#include <span>
#include <string>
#include <vector>

namespace gradc {

class ElementBuilder; // ir/ElementBuilder.h
class IndexMapper;    // ir/ElementBuilder.h
struct ValueHandle;   // ir/ElementBuilder.h: a value of compiled code

/// A dense tensor of the reference interpreter (row-major, always double).
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;
  int64_t size() const { return static_cast<int64_t>(data.size()); }
};

/// A tensor as nested arrays in row-major order, `[[1, 2], [3, 4]]`, each element written by
/// `number`; a scalar as its one number ("" when it has none).
std::string nestedText(const Tensor &t, std::string (*number)(double));

/// What a shape rule sees: operand types and the node's attributes.
struct ShapeQuery {
  std::span<const Type *const> in;
  const Attrs &attrs;
  const DimTable &dims;
};
/// Sets `out`, or returns false with a user-readable reason in `error`.
using ShapeRule = bool (*)(const ShapeQuery &q, Type &out, std::string &error);

/// What an evaluator sees: the node, concrete operand values and dim values.
struct EvalContext {
  const Node &node;
  std::span<const Tensor *const> in;
  const std::vector<int64_t> &dimValues; // indexed by Dim::sym
  Tensor &out;
  std::string error; // a run-time error (an index out of range); leave empty on success

  int64_t dimValue(const Dim &d) const {
    return (d.sym < 0 ? 0 : dimValues[static_cast<size_t>(d.sym)]) + d.off;
  }
  std::vector<int64_t> concrete(const Shape &s) const;
};
using EvalFn = void (*)(EvalContext &c);

/// A constant of `like`'s shape, in its float type (f64 for masks and integers), so that
/// derivative rules keep an f32 computation in f32.
inline NodeId constantLike(Graph &g, double v, NodeId like) {
  const Type &t = g.type(like);
  return g.constant(v, t.shape, isFloat(t.dtype) ? t.dtype : DType::F64);
}

/// The index array operand `y` of a gather, scatter_add or pick comes from, looking through
/// the broadcasts that put several arrays in one shape: checking its elements checks every
/// index, each once.
inline NodeId indexArraySource(const Graph &g, NodeId y) {
  while (g.node(y).op == Op::Broadcast)
    y = g.node(y).operands[0];
  return y;
}

/// What a VJP rule sees: the node, its upstream gradient, and a way to add
/// contributions to the gradients of its operands. Contributions to one operand from
/// several uses are summed by the caller (gradients add where a value fans out).
class VjpContext {
public:
  VjpContext(Graph &g, NodeId self, NodeId grad, const std::vector<bool> &active,
             std::vector<NodeId> &contrib)
      : g(g), self(self), grad(grad), active_(active), contrib_(contrib) {}

  Graph &g;
  const NodeId self; // the node being differentiated (its value, `out`)
  const NodeId grad; // d(result)/d(self), same shape as self

  NodeId in(size_t i) const { return g.node(self).operands[i]; }
  /// Whether operand i needs a gradient (it depends on a differentiable parameter).
  bool needs(size_t i) const { return active_[static_cast<size_t>(in(i))]; }
  /// Adds a contribution to operand i's gradient; it must have operand i's shape.
  void give(size_t i, NodeId contribution) { contrib_[i] = contribution; }

  // Builders, for rules that read like the math.
  NodeId add(NodeId a, NodeId b) { return g.make(Op::Add, {a, b}); }
  NodeId sub(NodeId a, NodeId b) { return g.make(Op::Sub, {a, b}); }
  NodeId mul(NodeId a, NodeId b) { return g.make(Op::Mul, {a, b}); }
  NodeId div(NodeId a, NodeId b) { return g.make(Op::Div, {a, b}); }
  NodeId neg(NodeId a) { return g.make(Op::Neg, {a}); }
  NodeId un(Op op, NodeId a) { return g.make(op, {a}); }
  NodeId bin(Op op, NodeId a, NodeId b) { return g.make(op, {a, b}); }
  /// A constant with the shape of `like`.
  NodeId konst(double v, NodeId like) { return constantLike(g, v, like); }

private:
  const std::vector<bool> &active_;
  std::vector<NodeId> &contrib_;
};
using VjpFn = void (*)(VjpContext &c);

/// What a JVP rule sees: the node and the tangents of its operands. A tangent of
/// kNoNode is zero (the operand does not depend on the direction); the rule returns the
/// node's tangent, or kNoNode when it is zero.
class JvpContext {
public:
  JvpContext(Graph &g, NodeId self, const std::vector<NodeId> &tangents)
      : g(g), self(self), tangents_(tangents) {}

  Graph &g;
  const NodeId self;

  NodeId in(size_t i) const { return g.node(self).operands[i]; }
  NodeId tangent(size_t i) const { return tangents_[i]; }

  // Builders that treat kNoNode as zero, so rules need no case analysis.
  NodeId add(NodeId a, NodeId b) {
    return a == kNoNode ? b : b == kNoNode ? a : g.make(Op::Add, {a, b});
  }
  NodeId sub(NodeId a, NodeId b) {
    return b == kNoNode ? a : a == kNoNode ? g.make(Op::Neg, {b}) : g.make(Op::Sub, {a, b});
  }
  NodeId mul(NodeId a, NodeId b) {
    return a == kNoNode || b == kNoNode ? kNoNode : g.make(Op::Mul, {a, b});
  }
  NodeId div(NodeId a, NodeId b) { return a == kNoNode ? kNoNode : g.make(Op::Div, {a, b}); }
  NodeId neg(NodeId a) { return a == kNoNode ? kNoNode : g.make(Op::Neg, {a}); }
  NodeId un(Op op, NodeId a) { return g.make(op, {a}); }
  NodeId bin(Op op, NodeId a, NodeId b) { return g.make(op, {a, b}); }
  NodeId konst(double v, NodeId like) { return constantLike(g, v, like); }
  /// The same op, with the same attributes, applied to `operands` (for linear ops).
  NodeId same(std::vector<NodeId> operands);

private:
  const std::vector<NodeId> &tangents_;
};
using JvpFn = NodeId (*)(JvpContext &c);

/// The local derivative of an elementwise op of one operand, d out = f'(a) da, as a
/// rule that multiplies `v` by f'(a). Reverse mode applies it to the upstream gradient,
/// forward mode to the tangent: one rule, both directions.
struct LocalDerivative {
  Graph &g;
  NodeId out, a;
  NodeId mul(NodeId x, NodeId y) { return g.make(Op::Mul, {x, y}); }
  NodeId div(NodeId x, NodeId y) { return g.make(Op::Div, {x, y}); }
  NodeId un(Op op, NodeId x) { return g.make(op, {x}); }
  NodeId konst(double v) { return constantLike(g, v, a); }
};
using LocalRule = NodeId (*)(LocalDerivative &d, NodeId v);

/// How compiled code computes an op (loops/ dispatches on it).
enum class LoopKind : uint8_t {
  Leaf,        // parameters, constants, dim values
  Iota,        // an element is its own index along an axis
  Elementwise, // one element from the operands' elements at the same index: `element`
  View,        // an operand's element at another index, no arithmetic: `indexMap`
  Gather,      // pick, gather: operand 0 at indices read from the others, checked on entry
  ScatterAdd,  // scatter_add: zeros, then each operand element added at its index (a step)
  Reshape,     // the operand's buffer read with the new shape
  Scatter,     // zeros, with the operand written at the selected places (index_grad)
  Reduce,      // sum over axes
  Scan,        // running sums along an axis: one pass per line, the sum carried (a step)
  MatMul,      // matrix products
};

/// Computes one element of an elementwise op from its operands' elements, which are
/// already converted to the op's compute type.
using ElementFn = ValueHandle *(*)(ElementBuilder &b, std::span<ValueHandle *const> in);
/// Maps an index of a view's result to the index of its operand it reads.
using IndexMapFn = void (*)(IndexMapper &m, const Node &n, std::span<ValueHandle *const> out,
                            std::vector<ValueHandle *> &in);

struct OpInfo {
  const char *name = nullptr;
  int arity = -1;            // -1: any number of operands
  bool elementwise = false;  // same-shape operands, result of that shape
  ShapeRule shape = nullptr;
  EvalFn eval = nullptr;
  VjpFn vjp = nullptr;       // null only for ops with no gradient (leaves, masks)
  bool noGradient = false;   // the op's output is piecewise constant (comparisons, masks)
  // Scalar kernels of elementwise ops, used by evaluation and constant folding.
  double (*scalar1)(double) = nullptr;
  double (*scalar2)(double, double) = nullptr;
  double (*scalar3)(double, double, double) = nullptr;
  JvpFn jvp = nullptr;       // null only for ops with no gradient
  LocalRule local = nullptr; // elementwise ops of one operand: their vjp and jvp use it
  // Lowering to compiled code.
  LoopKind loop = LoopKind::Leaf;
  ElementFn element = nullptr;   // LoopKind::Elementwise
  IndexMapFn indexMap = nullptr; // LoopKind::View
  bool replicates = false;       // reads one operand element for several result elements
  // LoopKind::Reduce: the accumulator's start and how an element joins it (acc, v).
  double reduceInit = 0;
  ElementFn reduceCombine = nullptr;
  /// The cost of one element, in simple arithmetic ops: what fusion weighs recomputing a
  /// value in each consumer against storing it once (calls to the math library cost 20).
  uint8_t cost = 1;
  /// A call of a user function: inlined (ir/Inline.h) before evaluation, differentiation or
  /// lowering, so it has no rules of its own beyond its type.
  bool inlinedFirst = false;
};

/// One axis of an index or index_grad node: an index (start) or a slice start:stop.
/// Such nodes keep 5 ints per axis: kind (0 index, 1 slice), start (sym, off), stop (sym, off).
struct IndexAxis {
  bool slice;
  Dim start, stop;
};
inline std::vector<IndexAxis> decodeIndexSpec(const std::vector<int64_t> &ints) {
  std::vector<IndexAxis> axes;
  for (size_t i = 0; i + 4 < ints.size(); i += 5)
    axes.push_back({ints[i] != 0, Dim{static_cast<int32_t>(ints[i + 1]), ints[i + 2]},
                    Dim{static_cast<int32_t>(ints[i + 3]), ints[i + 4]}});
  return axes;
}

/// The JVP of an op that is linear in its one operand: the same op on the tangent.
NodeId jvpLinear(JvpContext &c);

const OpInfo &opInfo(Op op);

/// The transpose permutation of a batch of matrices of rank `r`: the last two axes swapped,
/// the batch axes in place ({1, 0} for a matrix).
std::vector<int64_t> matrixTransposePerm(size_t r);
const char *opName(Op op);

// Each family of ops fills its entries of the table (one file per family).
void registerLeafOps(OpInfo *table);
void registerElementwiseOps(OpInfo *table);
void registerMathLibraryOps(OpInfo *table);
void registerStructureOps(OpInfo *table);
void registerViewOps(OpInfo *table);
void registerGatherOps(OpInfo *table);
void registerReductionOps(OpInfo *table);

} // namespace gradc
