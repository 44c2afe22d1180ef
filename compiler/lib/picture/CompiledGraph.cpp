// CompiledGraph.cpp: the graph gradc compiles, drawn as it is: how the chain rule became more
// graph (add distributes, mul switches, max routes, fan-out adds). Over the node limit, nodes
// are grouped by the source lines they came from.
#include "picture/SourceGraph.h"

#include "autodiff/ReverseMode.h"
#include "ir/OpTable.h"
#include "opt/Passes.h"
#include "support/Numbers.h"

#include <algorithm>
#include <map>
#include <set>

namespace gradc {

namespace {

std::string tooltipAt(const SourceFile &source, SourceLoc loc) {
  if (!loc.valid())
    return source.name + ": made by the compiler";
  std::string line = source.lineText(loc.line);
  size_t first = line.find_first_not_of(" \t");
  return source.name + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.col) + ": " +
         (first == std::string::npos ? "" : line.substr(first));
}

// Over the node limit: one picture node per run of source lines (a compiler-made node joins
// its consumer's line). picture[n] is graph node n's picture node.
void groupByLines(const Graph &g, const std::vector<NodeId> &live, size_t rootCount, const SourceFile &source,
                  const PictureOptions &options, Picture &out, std::vector<int32_t> &picture) {
  std::vector<uint32_t> line(g.size(), 0);
  for (NodeId n : live)
    line[static_cast<size_t>(n)] = g.loc(n).line;
  out.grouped = true;
  for (size_t k = live.size(); k-- > 0;) { // consumers have larger ids: a line flows down
    const Node &node = g.node(live[k]);
    for (NodeId o : node.operands)
      if (line[static_cast<size_t>(o)] == 0)
        line[static_cast<size_t>(o)] = line[static_cast<size_t>(live[k])];
  }
  std::set<uint32_t> lines;
  for (NodeId n : live)
    lines.insert(line[static_cast<size_t>(n)]);
  size_t room = options.maxNodes > rootCount + 1 ? options.maxNodes - rootCount : 1;
  size_t per = (lines.size() + room - 1) / room;
  std::map<uint32_t, int32_t> groupOf;
  std::vector<size_t> count;
  size_t k = 0;
  uint32_t first = 0;
  for (uint32_t l : lines) {
    if (k++ % per == 0) {
      first = l;
      PictureNode group;
      group.kind = PictureNode::Kind::Group;
      group.tooltip = tooltipAt(source, SourceLoc{l, 1});
      out.nodes.push_back(std::move(group));
      count.push_back(0);
    }
    groupOf[l] = static_cast<int32_t>(out.nodes.size() - 1);
    out.nodes.back().label = l == first ? (l == 0 ? "compiler-made" : "line " + std::to_string(l))
                                        : "lines " + std::to_string(first) + "-" + std::to_string(l);
  }
  for (NodeId n : live) {
    picture[static_cast<size_t>(n)] = groupOf[line[static_cast<size_t>(n)]];
    ++count[static_cast<size_t>(picture[static_cast<size_t>(n)])];
  }
  for (size_t gi = 0; gi < count.size(); ++gi)
    out.nodes[gi].label += "\n" + std::to_string(count[gi]) + " nodes";
}

// Under the limit: a picture node per operation, parameter and constant.
void nodePerOperation(const Graph &g, const std::vector<NodeId> &live, const std::vector<std::string> &paramNames,
                      const SourceFile &source, Picture &out, std::vector<int32_t> &picture) {
  for (NodeId n : live) {
    const Node &node = g.node(n);
    PictureNode p;
    p.tooltip = tooltipAt(source, g.loc(n));
    if (node.op == Op::Param) {
      size_t k = static_cast<size_t>(node.ints[0]);
      p.kind = PictureNode::Kind::Input;
      p.label = k < paramNames.size() ? paramNames[k] : "d_out";
      if (!node.type.isScalar())
        p.label += "\n" + g.dims().str(node.type.shape);
    } else if (node.op == Op::Const) {
      p.kind = PictureNode::Kind::Constant;
      p.label = shortestText(node.num) + (node.type.isScalar() ? "" : "\n" + g.dims().str(node.type.shape));
    } else {
      p.kind = PictureNode::Kind::Gate;
      p.label = opInfo(node.op).name;
    }
    picture[static_cast<size_t>(n)] = static_cast<int32_t>(out.nodes.size());
    out.nodes.push_back(std::move(p));
  }
}

} // namespace

bool drawCompiledGraph(const Graph &g, const std::vector<NodeId> &roots, const std::vector<std::string> &rootNames,
                       const std::vector<std::string> &paramNames, const SourceFile &source, const std::string &name,
                       const PictureValues *values, const PictureOptions &options, Picture &out, EvalResult &failure) {
  out = Picture{};
  out.name = name;
  std::vector<bool> needed = reachableFrom(g, roots);
  std::vector<NodeId> live;
  for (size_t i = 0; i < g.size(); ++i)
    if (needed[i])
      live.push_back(static_cast<NodeId>(i));
  out.operations = live.size();
  bool grouped = live.size() + roots.size() > options.maxNodes;
  std::vector<int32_t> picture(g.size(), -1); // graph node -> picture node
  if (grouped)
    groupByLines(g, live, roots.size(), source, options, out, picture);
  else
    nodePerOperation(g, live, paramNames, source, out, picture);
  // Edges: each operand into its user (once per pair of groups when grouped), each root out.
  std::set<std::pair<int32_t, int32_t>> joined;
  std::vector<NodeId> carried; // the node each edge carries (kNoNode: none drawn)
  for (NodeId n : live)
    for (NodeId o : g.node(n).operands) {
      int32_t from = picture[static_cast<size_t>(o)], to = picture[static_cast<size_t>(n)];
      if (grouped && (from == to || !joined.insert({from, to}).second))
        continue;
      out.edges.push_back(PictureEdge{from, to, "", "", -1});
      carried.push_back(grouped ? kNoNode : o);
    }
  for (size_t r = 0; r < roots.size(); ++r) {
    if (roots[r] == kNoNode)
      continue;
    PictureNode p;
    p.kind = PictureNode::Kind::Output;
    p.label = r < rootNames.size() ? rootNames[r] : "out";
    p.tooltip = tooltipAt(source, g.loc(roots[r]));
    out.nodes.push_back(std::move(p));
    out.edges.push_back(PictureEdge{picture[static_cast<size_t>(roots[r])], static_cast<int32_t>(out.nodes.size() - 1),
                                    "", "", -1});
    carried.push_back(roots[r]);
  }
  if (!values)
    return true;
  std::vector<NodeId> wanted;
  std::map<NodeId, size_t> slot;
  for (NodeId c : carried)
    if (c != kNoNode && slot.emplace(c, wanted.size()).second)
      wanted.push_back(c);
  EvalResult r = evaluate(g, wanted, values->params, values->dimValues);
  if (!r.ok()) {
    failure = r;
    return false;
  }
  for (size_t e = 0; e < out.edges.size(); ++e)
    if (carried[e] != kNoNode)
      out.edges[e].value = edgeValueText(r.outputs[slot.at(carried[e])], options.fullValues);
  return true;
}

bool drawCompiledStage(Function &fn, bool optimized, const SourceFile &source, const PictureValues *values,
                       const PictureOptions &options, Picture &out, EvalResult &failure) {
  GradientGraph gg = differentiate(fn);
  std::vector<NodeId> roots{gg.value};
  std::vector<std::string> rootNames{fn.name}, paramNames;
  for (size_t p = 0; p < fn.params.size(); ++p) {
    paramNames.push_back(fn.params[p].name);
    if (gg.grads[p] != kNoNode) {
      roots.push_back(gg.grads[p]);
      rootNames.push_back("d_" + fn.params[p].name);
    }
  }
  std::shared_ptr<Graph> g = fn.graph;
  if (optimized) {
    RewriteResult opt = optimizeGraph(g, roots, OptOptions{});
    g = opt.graph;
    roots = opt.roots;
  }
  return drawCompiledGraph(*g, roots, rootNames, paramNames, source, fn.name, values, options, out, failure);
}

bool drawStage(const std::string &stage, const Ast &ast, const SourceFile &source, const Program &program,
               size_t index, Function &inlined, const PictureValues *values, const PictureOptions &options,
               Picture &out, EvalResult &failure) {
  if (stage == "source")
    return drawSourceGraph(ast, source, program, index, values, options, out, failure);
  return drawCompiledStage(inlined, stage == "opt", source, values, options, out, failure);
}

} // namespace gradc
