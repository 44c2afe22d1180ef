// SourceGraph.cpp: the picture is built from the syntax tree (so a builtin the compiler
// rewrites, such as logsumexp, is the one gate the user wrote), and its numbers come from the
// compiled graph: each expression's node (Function::exprValues), inlined and differentiated,
// evaluated once by the interpreter, for the edges drawn only.
#include "picture/SourceGraph.h"

#include "picture/SourceText.h"

#include "autodiff/ReverseMode.h"
#include "ir/Inline.h"
#include "sema/ExprBuilder.h"

#include <algorithm>
#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace gradc {

namespace {

constexpr size_t kGroupTextChars = 40; // of a statement's source, in its group's label
constexpr int kMaxExpandDepth = 8;     // --expand opens calls this deep; deeper ones stay boxes

class Builder {
public:
  Builder(const Ast &ast, const SourceFile &source, const Program &program, size_t index, const PictureOptions &options,
          Picture &out)
      : ast_(ast), source_(source), program_(program), index_(index), body_(program.bodies[index]),
        def_(ast.funcs[index]), options_(options), out_(out) {}

  void build() {
    out_.name = def_.name;
    for (size_t p = 0; p < def_.params.size(); ++p)
      paramOf_[def_.params[p].name] = p;
    size_t gates = 0;
    for (const Stmt &s : def_.body)
      postOrder(ast_, s.value, [&](ExprId id) { gates += isDrawn(ast_[id].kind) ? 1 : 0; });
    out_.operations = gates;
    if (gates + def_.params.size() + 1 > options_.maxNodes)
      buildGrouped();
    else
      buildWhole();
  }

  // The numbers of the edges drawn: their expressions' nodes in the inlined graph and their
  // adjoints, evaluated at `values`.
  bool label(const PictureValues &values, EvalResult &failure, double gradientScale = 1) {
    std::vector<NodeId> map;
    Function inlined = inlineCalls(program_, index_, &map);
    GradientGraph gg = differentiate(inlined);
    auto adjointOf = [&](NodeId v) {
      return static_cast<size_t>(v) < gg.adjoints.size() ? gg.adjoints[static_cast<size_t>(v)] : kNoNode;
    };
    // A value that depends on no differentiable parameter (a constant) has no gradient drawn;
    // one that does but does not reach the result has gradient 0.
    const Graph &g = *inlined.graph;
    std::vector<bool> active(g.size(), false);
    for (const ParamInfo &p : inlined.params)
      if (!p.isConst && p.node != kNoNode)
        active[static_cast<size_t>(p.node)] = true;
    for (size_t i = 0; i < g.size(); ++i)
      if (!opInfo(g.node(static_cast<NodeId>(i)).op).noGradient)
        for (NodeId o : g.node(static_cast<NodeId>(i)).operands)
          if (active[static_cast<size_t>(o)])
            active[i] = true;
    std::vector<NodeId> roots;
    std::unordered_map<NodeId, size_t> slot;
    auto root = [&](NodeId v) {
      if (v != kNoNode && slot.emplace(v, roots.size()).second)
        roots.push_back(v);
    };
    std::vector<std::pair<NodeId, bool>> carried(out_.edges.size(), {kNoNode, false}); // (node, differentiable)
    for (size_t k : edges_) {
      ExprId e = out_.edges[k].source;
      if (e < 0 || fromCaller(k))
        continue;
      NodeId v = kNoNode;
      bool differentiable = false;
      if (NodeId b = bodyNode(e); b != kNoNode && static_cast<size_t>(b) < map.size()) {
        v = map[static_cast<size_t>(b)];
      } else if (ast_[e].kind == ExprKind::Name && paramOf_.count(ast_[e].text)) {
        v = inlined.params[paramOf_.at(ast_[e].text)].node; // named, never read
      }
      if (v == kNoNode)
        continue;
      differentiable = isFloat(g.type(v).dtype) && active[static_cast<size_t>(v)];
      carried[k] = {v, differentiable};
      root(v);
      if (differentiable)
        root(adjointOf(v));
    }
    // An expanded call's arguments and its adjoint: what its inside is evaluated with.
    auto nodeOf = [&](ExprId e) {
      NodeId b = bodyNode(e);
      return b != kNoNode && static_cast<size_t>(b) < map.size() ? map[static_cast<size_t>(b)] : kNoNode;
    };
    for (const Child &c : children_) {
      for (ExprId a : c.args) {
        root(nodeOf(a));
        root(adjointOf(nodeOf(a)));
      }
      root(nodeOf(c.call));
      root(adjointOf(nodeOf(c.call)));
    }
    EvalResult r = evaluate(*inlined.graph, roots, values.params, values.dimValues);
    if (!r.ok()) {
      failure = r;
      return false;
    }
    auto scaled = [&](Tensor t) {
      for (double &x : t.data)
        x *= gradientScale;
      return t;
    };
    for (size_t k : edges_) {
      auto [v, differentiable] = carried[k];
      if (v == kNoNode)
        continue;
      PictureEdge &edge = out_.edges[k];
      edge.value = edgeValueText(r.outputs[slot.at(v)], options_.fullValues);
      if (differentiable) {
        NodeId a = adjointOf(v);
        edge.gradient = a != kNoNode ? edgeValueText(scaled(r.outputs[slot.at(a)]), options_.fullValues) : "0";
      }
    }
    for (size_t k : edges_)
      if (fromCaller(k)) {
        const auto &[value, gradient] = argText_[paramOf_.at(ast_[out_.edges[k].source].text)];
        out_.edges[k].value = value;
        out_.edges[k].gradient = gradient;
      }
    // Inside an expanded call: its body evaluated on the call's arguments, its gradients those
    // of the caller's result (d_out, or the scale of a scalar result, is the call's adjoint).
    for (Child &c : children_) {
      PictureValues inside;
      inside.dimValues = values.dimValues;
      bool complete = true;
      for (ExprId a : c.args) {
        NodeId v = nodeOf(a);
        complete = complete && v != kNoNode;
        if (v != kNoNode)
          inside.params.push_back(r.outputs[slot.at(v)]);
      }
      NodeId call = nodeOf(c.call), adjoint = adjointOf(call);
      if (!complete || call == kNoNode)
        continue; // dead code: drawn without numbers
      Tensor upstream = r.outputs[slot.at(call)];
      if (adjoint != kNoNode)
        upstream = scaled(r.outputs[slot.at(adjoint)]);
      else
        std::fill(upstream.data.begin(), upstream.data.end(), 0.0);
      double scale = 1;
      if (upstream.shape.empty())
        scale = upstream.data.empty() ? 0 : upstream.data[0];
      else
        inside.params.push_back(upstream);
      // The arguments' edges inside carry the caller's numbers: their whole gradients, with
      // what flows to the rest of the caller.
      c.child->argText_.clear();
      for (ExprId a : c.args) {
        NodeId v = nodeOf(a);
        bool d = isFloat(g.type(v).dtype) && active[static_cast<size_t>(v)];
        NodeId adj = d ? adjointOf(v) : kNoNode;
        std::string grad = !d ? "" : adj != kNoNode ? edgeValueText(scaled(r.outputs[slot.at(adj)]), options_.fullValues) : "0";
        c.child->argText_.push_back({edgeValueText(r.outputs[slot.at(v)], options_.fullValues), grad});
      }
      if (!c.child->label(inside, failure, scale))
        return false;
    }
    return true;
  }

private:
  // The parts of an expression that are written in their parent's label, not drawn: sizes
  // and integer indices, slices, keyword arguments, shapes.
  void hideLabelParts(ExprId root) {
    auto hide = [&](ExprId k) { postOrder(ast_, k, [&](ExprId id) { hidden_.insert(id); }); };
    postOrder(ast_, root, [&](ExprId id) {
      const Expr &e = ast_[id];
      if (e.kind == ExprKind::Index) {
        for (size_t k = 1; k < e.kids.size(); ++k)
          if (!isIndexArray(e.kids[k]))
            hide(e.kids[k]);
      } else if (e.kind == ExprKind::Call) {
        size_t positional = 0;
        for (ExprId k : e.kids) {
          if (ast_[k].kind == ExprKind::KwArg)
            hide(k);
          else if (ast_[k].kind == ExprKind::List && takesShapeList(e.text, positional++))
            hide(k);
        }
      }
    });
  }

  // Every operation a gate, every value an edge.
  void buildWhole() {
    for (size_t p = 0; p < def_.params.size(); ++p) {
      const ParamDecl &decl = def_.params[p];
      named_[decl.name] = isChild_ ? paramProducer_[p] : add(PictureNode::Kind::Input, paramLabel(decl), decl.loc);
      if (NodeId n = body_.params[p].node; n != kNoNode)
        producerOf_[n] = named_[decl.name];
    }
    for (const Stmt &s : def_.body) {
      hideLabelParts(s.value);
      postOrder(ast_, s.value, [&](ExprId id) {
        currentCall_ = id;
        if (hidden_.count(id))
          return;
        // Gates the compiler computes as one value (the same expression written twice, `x * 1`
        // folded to `x`) are drawn as that one value, used where each was written: each edge
        // then carries the gradient of what is computed, and the chain rule holds on the
        // picture.
        NodeId n = isGate(ast_[id].kind) ? bodyNode(id) : kNoNode;
        if (auto it = producerOf_.find(n); n != kNoNode && it != producerOf_.end() && it->second >= 0) {
          made_[id] = it->second;
          return;
        }
        made_[id] = gate(ast_[id]);
        if (n != kNoNode && made_[id] >= 0)
          producerOf_[n] = made_[id];
      });
      int32_t made = made_[s.value];
      if (s.kind == Stmt::Return && isChild_) { // the caller wires it on
        result_ = made;
        continue;
      }
      if (s.kind == Stmt::Return) {
        int32_t output = add(PictureNode::Kind::Output, def_.name, s.loc);
        connect(made, output, s.value);
        continue;
      }
      if (made >= 0 && ownGates_.count(made))
        out_.nodes[static_cast<size_t>(made)].label += "\n" + s.name;
      named_[s.name] = made;
    }
  }

  // A parameter's name, and its shape in terms of the dims (the structure without values).
  std::string paramLabel(const ParamDecl &decl) const {
    std::string label = (decl.isConst ? "const " : "") + decl.name;
    const Type &t = body_.params[paramOf_.at(decl.name)].type;
    return t.isScalar() ? label : label + "\n" + program_.dims->str(t.shape);
  }

  // Over the node limit: one node per run of consecutive statements (one statement each while
  // they fit), an edge where a statement names a value made in another run. A parameter is
  // drawn beside each run that reads it: one input wired to every run would cross the whole
  // picture as many times, and laying those edges out costs more than the rest.
  void buildGrouped() {
    out_.grouped = true;
    size_t statements = def_.body.size();
    size_t room = options_.maxNodes > def_.params.size() + 2 ? options_.maxNodes - def_.params.size() - 1 : 1;
    size_t per = (statements + room - 1) / room;
    std::unordered_map<std::string, std::pair<int32_t, ExprId>> maker; // name -> (node, its value)
    int32_t group = -1;
    std::unordered_set<int64_t> connected;
    auto key = [](int64_t a, int64_t b) { return (a << 32) | static_cast<uint32_t>(b); };
    std::unordered_map<int64_t, int32_t> paramCopy; // (run, parameter) -> its node there
    for (size_t i = 0; i < statements; ++i) {
      const Stmt &s = def_.body[i];
      size_t operations = 0;
      postOrder(ast_, s.value, [&](ExprId id) { operations += isGate(ast_[id].kind) ? 1 : 0; });
      if (i % per == 0) {
        std::string label;
        if (per == 1) {
          std::string text = source_.lineText(s.loc.line);
          text = text.substr(std::min(text.size(), text.find_first_not_of(" \t")));
          label = text.size() > kGroupTextChars ? text.substr(0, kGroupTextChars - 3) + "..." : text;
        } else {
          size_t last = std::min(statements, i + per);
          label = "statements " + std::to_string(i + 1) + "-" + std::to_string(last) + "\nlines " +
                  std::to_string(s.loc.line) + "-" + std::to_string(def_.body[last - 1].loc.line);
        }
        group = add(PictureNode::Kind::Group, label, s.loc);
        groupOps_.push_back(0);
      }
      groupOps_.back() += operations;
      postOrder(ast_, s.value, [&](ExprId id) {
        const Expr &e = ast_[id];
        if (e.kind != ExprKind::Name)
          return;
        if (auto m = maker.find(e.text); m != maker.end()) {
          if (m->second.first != group && connected.insert(key(m->second.first, group)).second)
            connect(m->second.first, group, per == 1 ? id : kNoExpr);
        } else if (auto p = paramOf_.find(e.text); p != paramOf_.end()) {
          auto [copy, fresh] = paramCopy.emplace(key(group, static_cast<int64_t>(p->second)), -1);
          if (fresh) {
            const ParamDecl &decl = def_.params[p->second];
            copy->second = add(PictureNode::Kind::Constant, paramLabel(decl), decl.loc);
            connect(copy->second, group, id);
          }
        }
      });
      if (s.kind == Stmt::Return) {
        int32_t output = add(PictureNode::Kind::Output, def_.name, s.loc);
        connect(group, output, s.value);
      } else {
        maker[s.name] = {group, s.value};
      }
    }
    size_t g = 0;
    for (PictureNode &n : out_.nodes)
      if (n.kind == PictureNode::Kind::Group)
        n.label += "\n" + std::to_string(groupOps_[g++]) + " operations";
  }

  // A node tied to the source it came from: its location and line, the tooltip of the SVG.
  int32_t add(PictureNode::Kind kind, std::string label, SourceLoc loc) {
    PictureNode n;
    n.kind = kind;
    n.label = std::move(label);
    n.cluster = cluster_;
    std::string line = source_.lineText(loc.line);
    size_t first = line.find_first_not_of(" \t");
    n.tooltip = source_.name + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.col) + ": " +
                (first == std::string::npos ? "" : line.substr(first));
    out_.nodes.push_back(std::move(n));
    return static_cast<int32_t>(out_.nodes.size() - 1);
  }

  // An edge from `from` into `to` that carries expression e's value.
  void connect(int32_t from, int32_t to, ExprId e) {
    if (from < 0)
      return;
    PictureEdge edge;
    edge.from = from;
    edge.to = to;
    edge.source = e;
    edges_.push_back(out_.edges.size());
    out_.edges.push_back(std::move(edge));
  }

  // An index item that is a value of its own: an integer array, or an integer parameter (an
  // index known only at run time). Literals and sizes are part of the subscript's label.
  bool isIndexArray(ExprId item) const {
    NodeId n = ast_[item].kind == ExprKind::Slice ? kNoNode : bodyNode(item);
    return n != kNoNode && isInteger(body_.graph->type(n).dtype);
  }

  NodeId bodyNode(ExprId e) const {
    auto it = std::lower_bound(body_.exprValues.begin(), body_.exprValues.end(), std::make_pair(e, NodeId{-1}));
    return it != body_.exprValues.end() && it->first == e ? it->second : kNoNode;
  }

  // A call drawn open (--expand): the callee's gates in a box of its own, wired to the
  // arguments' producers; what it returns is the call's value.
  int32_t expand(const Expr &e, size_t callee, const std::vector<ExprId> &args) {
    out_.clusters.push_back(Picture::Cluster{e.text, cluster_});
    auto child = std::make_unique<Builder>(ast_, source_, program_, callee, options_, out_);
    child->isChild_ = true;
    child->depth_ = depth_ + 1;
    child->cluster_ = static_cast<int32_t>(out_.clusters.size() - 1);
    for (const ParamDecl &d : child->def_.params)
      child->paramOf_[d.name] = child->paramOf_.size();
    for (ExprId a : args) {
      auto it = made_.find(a);
      child->paramProducer_.push_back(it != made_.end() ? it->second : -1);
    }
    child->buildWhole();
    int32_t result = child->result_;
    children_.push_back(Child{std::move(child), currentCall_, args});
    return result;
  }

  // An edge inside an expanded call that carries one of its arguments: numbered by the caller.
  bool fromCaller(size_t k) const {
    ExprId e = out_.edges[k].source;
    return isChild_ && e >= 0 && ast_[e].kind == ExprKind::Name && paramOf_.count(ast_[e].text) &&
           paramOf_.at(ast_[e].text) < argText_.size();
  }

  int32_t gate(const Expr &e) {
    auto node = [&](PictureNode::Kind kind, std::string label) {
      int32_t n = add(kind, std::move(label), e.loc);
      if (kind == PictureNode::Kind::Gate || kind == PictureNode::Kind::Call)
        ownGates_.insert(n);
      return n;
    };
    auto input = [&](ExprId k, int32_t to) {
      auto it = made_.find(k);
      connect(it != made_.end() ? it->second : -1, to, k);
    };
    switch (e.kind) {
    case ExprKind::Number:
      return node(PictureNode::Kind::Constant, e.text);
    case ExprKind::Name:
      if (auto it = named_.find(e.text); it != named_.end())
        return it->second;
      return node(PictureNode::Kind::Constant, e.text); // a dim used as a number
    case ExprKind::Slice:
    case ExprKind::KwArg:
      return -1; // part of its parent's label
    case ExprKind::Neg: {
      int32_t g = node(PictureNode::Kind::Gate, "neg");
      input(e.kids[0], g);
      return g;
    }
    case ExprKind::Binary:
    case ExprKind::Compare: {
      int32_t g = node(PictureNode::Kind::Gate, e.text);
      input(e.kids[0], g);
      input(e.kids[1], g);
      return g;
    }
    case ExprKind::Attr: {
      int32_t g = node(PictureNode::Kind::Gate, "." + e.text);
      input(e.kids[0], g);
      return g;
    }
    case ExprKind::List: {
      int32_t g = node(PictureNode::Kind::Gate, "[...]");
      for (ExprId k : e.kids)
        input(k, g);
      return g;
    }
    case ExprKind::Index: {
      std::string label = "[";
      std::vector<ExprId> arrays;
      for (size_t k = 1; k < e.kids.size(); ++k) {
        label += (k > 1 ? ", " : "") + infix(ast_, e.kids[k]);
        if (isIndexArray(e.kids[k]))
          arrays.push_back(e.kids[k]);
      }
      int32_t g = node(PictureNode::Kind::Gate, label + "]");
      input(e.kids[0], g);
      for (ExprId k : arrays)
        input(k, g);
      return g;
    }
    case ExprKind::Call:
      break;
    }
    // A call: its positional arguments are inputs, except a shape (zeros([n, 3])); keyword
    // arguments are part of its label.
    std::string label = e.text;
    std::vector<ExprId> inputs;
    size_t positional = 0;
    for (ExprId k : e.kids) {
      const Expr &arg = ast_[k];
      if (arg.kind == ExprKind::KwArg) {
        label += "\n" + arg.text + "=" + infix(ast_, arg.kids[0]);
        continue;
      }
      if (arg.kind == ExprKind::List && takesShapeList(e.text, positional))
        label += "\n" + infix(ast_, k);
      else
        inputs.push_back(k);
      ++positional;
    }
    const Function *callee = program_.find(e.text);
    // Opened only while the picture stays under the node limit: boxes inside boxes grow as
    // the product of the calls' fan-outs.
    if (callee && options_.expand && depth_ < kMaxExpandDepth && out_.nodes.size() < options_.maxNodes)
      return expand(e, static_cast<size_t>(callee - program_.funcs.data()), inputs);
    int32_t g = node(callee ? PictureNode::Kind::Call : PictureNode::Kind::Gate, label);
    for (ExprId k : inputs)
      input(k, g);
    return g;
  }

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

} // namespace

bool drawSourceGraph(const Ast &ast, const SourceFile &source, const Program &program, size_t index,
                     const PictureValues *values, const PictureOptions &options, Picture &out, EvalResult &failure) {
  out = Picture{};
  Builder b(ast, source, program, index, options, out);
  b.build();
  return !values || b.label(*values, failure);
}

} // namespace gradc
