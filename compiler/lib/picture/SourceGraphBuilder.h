// SourceGraphBuilder.h: the builder of a source picture (SourceGraph.h), shared by the files
// that draw its gates (SourceGraph.cpp) and write its numbers (SourceGraphNumbers.cpp).
// Internal to the picture stage.
#pragma once

#include "picture/SourceGraph.h"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace gradc::source_graph {

struct Numbers; // SourceGraphNumbers.cpp

class Builder {
public:
  Builder(const Ast &ast, const SourceFile &source, const Program &program, size_t index, const PictureOptions &options,
          Picture &out)
      : ast_(ast), source_(source), program_(program), index_(index), body_(program.bodies[index]),
        def_(ast.funcs[index]), options_(options), out_(out) {}

  void build();

  // The numbers of the edges drawn: their expressions' nodes in the inlined graph and their
  // adjoints, evaluated at `values`.
  bool label(const PictureValues &values, EvalResult &failure, double gradientScale = 1);

private:
  bool labelChildren(const Numbers &n, const PictureValues &values, EvalResult &failure);
  // Expression e's node in the inlined graph, or kNoNode.
  NodeId inlinedNode(const Numbers &n, ExprId e) const;

  // The parts of an expression that are written in their parent's label, not drawn: sizes
  // and integer indices, slices, keyword arguments, shapes.
  void hideLabelParts(ExprId root);

  // Every operation a gate, every value an edge.
  void buildWhole();

  // A parameter's name, and its shape in terms of the dims (the structure without values).
  std::string paramLabel(const ParamDecl &decl) const;

  // Over the node limit: one node per run of consecutive statements (one statement each while
  // they fit), an edge where a statement names a value made in another run. A parameter is
  // drawn beside each run that reads it: one input wired to every run would cross the whole
  // picture as many times, and laying those edges out costs more than the rest.
  void buildGrouped();

  // A node tied to the source it came from: its location and line, the tooltip of the SVG.
  int32_t add(PictureNode::Kind kind, std::string label, SourceLoc loc);

  // An edge from `from` into `to` that carries expression e's value.
  void connect(int32_t from, int32_t to, ExprId e);

  // An index item that is a value of its own: an integer array, or an integer parameter (an
  // index known only at run time). Literals and sizes are part of the subscript's label.
  bool isIndexArray(ExprId item) const;

  NodeId bodyNode(ExprId e) const;

  // A call drawn open (--expand): the callee's gates in a box of its own, wired to the
  // arguments' producers; what it returns is the call's value.
  int32_t expand(const Expr &e, size_t callee, const std::vector<ExprId> &args);

  // An edge inside an expanded call that carries one of its arguments: numbered by the caller.
  bool fromCaller(size_t k) const;

  int32_t gate(const Expr &e);

  const Ast &ast_;
  const SourceFile &source_;
  const Program &program_;
  size_t index_;
  const Function &body_;
  const FuncDef &def_;
  const PictureOptions &options_;
  Picture &out_;
  std::unordered_map<ExprId, int32_t> made_;
  std::unordered_set<ExprId> hidden_;
  std::unordered_map<std::string, int32_t> named_;
  std::unordered_map<std::string, size_t> paramOf_;
  std::vector<size_t> groupOps_;
  std::vector<size_t> edges_; // this function's edges in the picture
  std::unordered_map<NodeId, int32_t> producerOf_; // a body node -> the picture node drawing it
  std::unordered_set<int32_t> ownGates_;           // gates this function drew
  // An expanded call's inside: the callee's builder, the call and its positional arguments.
  struct Child {
    std::unique_ptr<Builder> child;
    ExprId call;
    std::vector<ExprId> args;
  };
  std::vector<Child> children_;
  ExprId currentCall_ = kNoExpr;
  bool isChild_ = false;                // drawn inside its caller
  int depth_ = 0;                       // calls open around it
  int32_t cluster_ = -1;                // the box it is drawn in
  std::vector<int32_t> paramProducer_;  // child: the caller's nodes of its arguments
  int32_t result_ = -1;                 // child: the node of what it returns
  std::vector<std::pair<std::string, std::string>> argText_; // child: its arguments' numbers
};

} // namespace gradc::source_graph
