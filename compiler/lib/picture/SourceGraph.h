// SourceGraph.h: the computational graph of a function as its source writes it, the picture of
// the backpropagation lecture: inputs on the left, a gate per operation, each edge carrying the
// value that flows forward and its gradient (the adjoint of that value) flowing back.
#pragma once

#include "frontend/Ast.h"
#include "interp/Interpreter.h"
#include "ir/Function.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc {

struct PictureNode {
  enum class Kind : uint8_t {
    Input,    // a parameter
    Constant, // a literal, or a dim used as a number
    Gate,     // one operation of the source
    Call,     // a call of a user function: one gate (the lecture's "sigmoid gate")
    Output,   // the function's result
    Group,    // many statements, drawn as one (a large graph)
  };
  Kind kind = Kind::Gate;
  std::string label;
  std::string tooltip; // where it comes from: "file:line:col: source text"
  int32_t cluster = -1; // the box of an expanded call it is drawn in (Picture::clusters)
};

struct PictureEdge {
  int32_t from = 0, to = 0;
  std::string value, gradient; // empty: no values given, or not computed
  int32_t source = -1;         // the expression whose value it carries (-1: none drawn)
};

struct Picture {
  struct Cluster {
    std::string label;   // the function called
    int32_t parent = -1; // the box it is drawn in
  };
  std::string name; // the function's
  std::vector<PictureNode> nodes;
  std::vector<PictureEdge> edges;
  size_t operations = 0; // nodes the whole picture would have (before grouping)
  bool grouped = false;  // over the node limit: one node per run of statements
  std::vector<Cluster> clusters; // expanded calls, each before those inside it
};

/// Values to write on the edges: the parameters (then d_out for a non-scalar result) and
/// the dim values, as the interpreter takes them.
struct PictureValues {
  std::vector<Tensor> params;
  std::vector<int64_t> dimValues;
};

struct PictureOptions {
  bool fullValues = false; // every element of a tensor, not a summary
  size_t maxNodes = 300;   // above it, statements are grouped
  bool expand = false;     // draw calls of the file's functions open, not as one box
};

/// The graph of `program.bodies[index]` (parsed as `ast.funcs[index]`, from `source`), with
/// values and gradients on its edges when `values` is given. False with a located run-time
/// error in `failure` (an index out of range).
bool drawSourceGraph(const Ast &ast, const SourceFile &source, const Program &program, size_t index,
                     const PictureValues *values, const PictureOptions &options, Picture &out, EvalResult &failure);

/// A compiled graph (`--stage grad`: the forward and backward graph; `--stage opt`: the same
/// after optimization): a gate per node needed by `roots`, named by its op and tied to the
/// source location it came from, parameters (`paramNames`, by number) on the left, each root
/// an output named by `rootNames`. With `values`, each edge carries the value it moves.
bool drawCompiledGraph(const Graph &g, const std::vector<NodeId> &roots, const std::vector<std::string> &rootNames,
                       const std::vector<std::string> &paramNames, const SourceFile &source, const std::string &name,
                       const PictureValues *values, const PictureOptions &options, Picture &out, EvalResult &failure);

/// `fn` (whole, calls inlined) as compiled: differentiated (its graph gains the adjoint
/// nodes), optimized when `optimized`, and drawn by drawCompiledGraph with the value and each
/// gradient (`d_x`) as outputs.
bool drawCompiledStage(Function &fn, bool optimized, const SourceFile &source, const PictureValues *values,
                       const PictureOptions &options, Picture &out, EvalResult &failure);

/// The picture of `stage`: "source" (drawSourceGraph of program.funcs[index]) or "grad" /
/// "opt" (drawCompiledStage of `inlined`, that function with its calls inlined).
bool drawStage(const std::string &stage, const Ast &ast, const SourceFile &source, const Program &program,
               size_t index, Function &inlined, const PictureValues *values, const PictureOptions &options,
               Picture &out, EvalResult &failure);

/// How a value reads on an edge: a number as `gradc run` prints it, a tensor as its shape and
/// its elements (a summary of a large one unless `full`).
std::string edgeValueText(const Tensor &t, bool full);

} // namespace gradc
