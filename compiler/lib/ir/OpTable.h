// OpTable.h: the single source of truth for every op: its shape rule, reference
// evaluation, reverse-mode (VJP) rule and scalar kernels, side by side.
#pragma once

#include "ir/Graph.h"

#include <span>
#include <string>
#include <vector>

namespace gradc {

/// A dense tensor of the reference interpreter (row-major, always double).
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;
  int64_t size() const { return static_cast<int64_t>(data.size()); }
};

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
  NodeId konst(double v, NodeId like) { return g.constant(v, g.type(like).shape); }

private:
  const std::vector<bool> &active_;
  std::vector<NodeId> &contrib_;
};
using VjpFn = void (*)(VjpContext &c);

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
};

const OpInfo &opInfo(Op op);
const char *opName(Op op);

// Each family of ops fills its entries of the table (one file per family).
void registerLeafOps(OpInfo *table);
void registerElementwiseOps(OpInfo *table);
void registerStructureOps(OpInfo *table);
void registerReductionOps(OpInfo *table);

} // namespace gradc
