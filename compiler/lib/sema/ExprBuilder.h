// ExprBuilder.h: checks one function body's expressions and builds their IR nodes.
#pragma once

#include "frontend/Ast.h"
#include "gradc/Diagnostics.h"
#include "ir/Function.h"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace gradc {

class ExprBuilder {
public:
  /// `bodies[funcIndex[name]]` is each user function a body may call (checked before it).
  ExprBuilder(const Ast &ast, Diagnostics &diags, const std::vector<Function> &bodies,
              const std::unordered_map<std::string, size_t> &funcIndex, Graph &graph, size_t dimsVisible)
      : ast_(ast), diags_(diags), bodies_(bodies), funcIndex_(funcIndex), g_(graph), dimsVisible_(dimsVisible) {}


  /// Names in scope: parameters and earlier assignments.
  std::unordered_map<std::string, NodeId> env;

  /// Builds `root`; kNoNode after reporting an error (or when a sub-expression failed).
  NodeId build(ExprId root);
  /// Every expression built so far that has a value, with its node, by expression id.
  std::vector<std::pair<int32_t, NodeId>> exprValues() const;

private:
  struct Value {
    NodeId node = kNoNode;
    std::optional<Dim> dim; // set when the expression is a compile-time integer (index, size)
    bool failed = false;
  };

  void visit(ExprId id);
  Value name(const Expr &e);
  Value number(const Expr &e);
  Value binary(const Expr &e);
  Value compare(const Expr &e);
  // Subscript.cpp
  struct Subscript;
  Value index(const Expr &e);
  bool subscriptItem(ExprId id, size_t k, const Dim &size, Subscript &s);
  Value gatherIndexArrays(const Expr &e, NodeId indexed, Subscript &s);
  Value attr(const Expr &e);
  Value call(const Expr &e);
  Value builtin(const Expr &e, const std::vector<ExprId> &args, const std::vector<ExprId> &kws);
  Value reshapeBuiltin(const Expr &e, const std::vector<ExprId> &args);
  NodeId clampBuiltin(const SourceLoc &loc, NodeId x, NodeId lo, NodeId hi);
  // StructureBuiltins.cpp
  Value structureBuiltin(const Expr &e, const std::vector<ExprId> &args, std::optional<int64_t> axis);
  Value triangle(const Expr &e, NodeId a, const std::vector<ExprId> &kws);
  NodeId sliceOf(SourceLoc loc, NodeId x, size_t axis, int64_t k);
  NodeId diagOf(SourceLoc loc, NodeId v);
  Value crossOf(const Expr &e, NodeId a, NodeId b, int64_t axis);
  // TensorBuilders.cpp
  Value tensorBuilder(const Expr &e, const std::vector<ExprId> &args, std::optional<int64_t> axis);
  Value listValue(ExprId list);
  std::optional<Shape> shapeList(ExprId list, const std::string &fn);
  NodeId concatOf(SourceLoc loc, const std::vector<NodeId> &pieces, const std::vector<SourceLoc> &at, int64_t axis,
                  const char *what);
  NodeId stackOf(SourceLoc loc, const std::vector<NodeId> &pieces, const std::vector<SourceLoc> &at, int64_t axis,
                 const char *what);
  Value callUser(const Expr &e, size_t index, const std::vector<ExprId> &args);

  // Helpers that report at `loc` and return kNoNode on failure.
  NodeId make(SourceLoc loc, Op op, std::vector<NodeId> operands, Attrs attrs = {});
  bool broadcastAll(SourceLoc loc, const char *what, std::vector<NodeId> &operands);
  NodeId transposeOf(SourceLoc loc, NodeId x);
  NodeId reduce(SourceLoc loc, NodeId x, std::optional<int64_t> axis, bool mean, Op op = Op::Sum);
  NodeId batchedMatMul(SourceLoc loc, NodeId a, NodeId b);
  NodeId logSumExp(SourceLoc loc, NodeId x, std::optional<int64_t> axis, bool softmax);
  std::optional<int64_t> axisArg(const std::vector<ExprId> &kws, const char *fn, bool &ok);
  NodeId countOf(const Shape &shape, const std::vector<int64_t> &axes, DType dtype);
  std::optional<Dim> staticDim(ExprId id, const char *what);
  Value fail(SourceLoc loc, std::string message);
  std::string shapeStr(NodeId n) const { return g_.dims().str(g_.type(n).shape); }

  const Ast &ast_;
  Diagnostics &diags_;
  const std::vector<Function> &bodies_;
  const std::unordered_map<std::string, size_t> &funcIndex_;
  Graph &g_;
  size_t dimsVisible_;
  std::unordered_map<ExprId, Value> values_;
};

/// The dim named `name` among the first `visible` declared, or -1.
int32_t findDim(const DimTable &dims, const std::string &name, size_t visible);
bool isBuiltinFunction(const std::string &name);
/// tril, triu, diag, diagonal, trace, outer, cross, prod, norm, flip (StructureBuiltins.cpp).
bool isStructureBuiltin(const std::string &name);
/// zeros, ones, full, iota, eye, concat, stack (TensorBuilders.cpp).
bool isTensorBuilder(const std::string &name);
/// Whether argument `arg` of builtin `fn` is a shape list ([n, 3]) rather than a value.
bool takesShapeList(const std::string &fn, size_t arg);

} // namespace gradc
