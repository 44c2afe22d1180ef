// SourceGraph.cpp: the picture is built from the syntax tree (so a builtin the compiler
// rewrites, such as logsumexp, is the one gate the user wrote); its numbers come from the
// compiled graph (SourceGraphNumbers.cpp).
#include "picture/SourceGraph.h"

#include "picture/SourceGraphBuilder.h"
#include "picture/SourceText.h"

#include "sema/ExprBuilder.h"

#include <algorithm>
#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace gradc {

namespace source_graph {

namespace {

constexpr size_t kGroupTextChars = 40; // of a statement's source, in its group's label
constexpr int kMaxExpandDepth = 8;     // --expand opens calls this deep; deeper ones stay boxes

} // namespace

void Builder::build() {
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

void Builder::hideLabelParts(ExprId root) {
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

void Builder::buildWhole() {
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

std::string Builder::paramLabel(const ParamDecl &decl) const {
  std::string label = (decl.isConst ? "const " : "") + decl.name;
  const Type &t = body_.params[paramOf_.at(decl.name)].type;
  return t.isScalar() ? label : label + "\n" + program_.dims->str(t.shape);
}

void Builder::buildGrouped() {
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

int32_t Builder::add(PictureNode::Kind kind, std::string label, SourceLoc loc) {
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

void Builder::connect(int32_t from, int32_t to, ExprId e) {
  if (from < 0)
    return;
  PictureEdge edge;
  edge.from = from;
  edge.to = to;
  edge.source = e;
  edges_.push_back(out_.edges.size());
  out_.edges.push_back(std::move(edge));
}

bool Builder::isIndexArray(ExprId item) const {
  NodeId n = ast_[item].kind == ExprKind::Slice ? kNoNode : bodyNode(item);
  return n != kNoNode && isInteger(body_.graph->type(n).dtype);
}

NodeId Builder::bodyNode(ExprId e) const {
  auto it = std::lower_bound(body_.exprValues.begin(), body_.exprValues.end(), std::make_pair(e, NodeId{-1}));
  return it != body_.exprValues.end() && it->first == e ? it->second : kNoNode;
}

int32_t Builder::expand(const Expr &e, size_t callee, const std::vector<ExprId> &args) {
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

bool Builder::fromCaller(size_t k) const {
  ExprId e = out_.edges[k].source;
  return isChild_ && e >= 0 && ast_[e].kind == ExprKind::Name && paramOf_.count(ast_[e].text) &&
         paramOf_.at(ast_[e].text) < argText_.size();
}

int32_t Builder::gate(const Expr &e) {
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


} // namespace source_graph

bool drawSourceGraph(const Ast &ast, const SourceFile &source, const Program &program, size_t index,
                     const PictureValues *values, const PictureOptions &options, Picture &out, EvalResult &failure) {
  out = Picture{};
  source_graph::Builder b(ast, source, program, index, options, out);
  b.build();
  return !values || b.label(*values, failure);
}

} // namespace gradc
