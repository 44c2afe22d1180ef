// Inline.cpp: one frame per callee being copied, on an explicit stack: a frame walks its
// body's nodes in id order (a topological order) and pauses at a call until the callee's
// frame, pushed on top, has its result.
#include "ir/Inline.h"

#include "ir/OpTable.h"

#include <map>

namespace gradc {

namespace {

struct Frame {
  const Function *body;
  std::vector<NodeId> args; // the callee's parameters, as nodes of the new graph
  std::vector<NodeId> map;  // body node -> new node (kNoNode: not needed or not yet made)
  std::vector<bool> needed; // the nodes the body's result depends on
  size_t next = 0;          // the next body node to copy
  std::pair<size_t, std::vector<NodeId>> key; // (callee, args): what the caller memoizes
};

std::vector<bool> neededNodes(const Graph &g, NodeId result) {
  std::vector<bool> needed(static_cast<size_t>(result) + 1, false);
  needed[static_cast<size_t>(result)] = true;
  for (size_t i = needed.size(); i-- > 0;)
    if (needed[i])
      for (NodeId o : g.node(static_cast<NodeId>(i)).operands)
        needed[static_cast<size_t>(o)] = true;
  return needed;
}

} // namespace

bool hasCalls(const Function &fn) {
  for (size_t i = 0; i < fn.graph->size(); ++i)
    if (opInfo(fn.graph->node(static_cast<NodeId>(i)).op).inlinedFirst)
      return true;
  return false;
}

bool callKeepsItsType(const std::vector<Function> &bodies, size_t callee, const Graph &g,
                      const std::vector<NodeId> &args) {
  const Function &body = bodies[callee];
  for (size_t k = 0; k < args.size(); ++k)
    if (g.type(args[k]).dtype != body.params[k].type.dtype)
      return false;
  return true;
}

NodeId inlineBody(const std::vector<Function> &bodies, size_t callee, const std::vector<NodeId> &args, Graph &g,
                  bool keepCalls, std::vector<NodeId> *calleeMap) {
  std::map<std::pair<size_t, std::vector<NodeId>>, NodeId> done; // (callee, args) -> result
  auto start = [&](size_t c, std::vector<NodeId> a) {
    const Function *body = &bodies[c];
    return Frame{body, a, std::vector<NodeId>(static_cast<size_t>(body->result) + 1, kNoNode),
                 neededNodes(*body->graph, body->result), 0, {c, std::move(a)}};
  };
  std::vector<Frame> stack;
  stack.push_back(start(callee, args));
  NodeId finished = kNoNode; // the result of the frame popped last
  while (true) {
    Frame &f = stack.back();
    const Graph &body = *f.body->graph;
    if (finished != kNoNode) { // the call at f.next - 1 has its value
      f.map[f.next - 1] = finished;
      finished = kNoNode;
    }
    bool paused = false;
    for (; f.next < f.map.size(); ++f.next) {
      size_t i = f.next;
      if (!f.needed[i])
        continue;
      const Node &n = body.node(static_cast<NodeId>(i));
      std::vector<NodeId> ops;
      ops.reserve(n.operands.size());
      for (NodeId o : n.operands)
        ops.push_back(f.map[static_cast<size_t>(o)]);
      Attrs a;
      a.num = n.num;
      a.ints = n.ints;
      a.type = n.type;
      if (n.op == Op::Param) {
        f.map[i] = f.args[static_cast<size_t>(n.ints[0])];
      } else if (n.op == Op::Const) {
        f.map[i] = g.constant(n.num, n.type.shape, n.type.dtype);
      } else if (opInfo(n.op).inlinedFirst && keepCalls &&
                 callKeepsItsType(bodies, static_cast<size_t>(n.ints[0]), g, ops)) {
        f.map[i] = g.make(n.op, std::move(ops), std::move(a));
      } else if (opInfo(n.op).inlinedFirst) {
        std::pair<size_t, std::vector<NodeId>> key{static_cast<size_t>(n.ints[0]), ops};
        if (auto it = done.find(key); it != done.end()) {
          f.map[i] = it->second;
        } else {
          f.next = i + 1; // resumes there with the callee's result
          paused = true;
          stack.push_back(start(key.first, std::move(ops))); // `f` is not used after this
          break;
        }
      } else {
        f.map[i] = g.make(n.op, std::move(ops), std::move(a));
      }
      if (f.map[i] != kNoNode && !g.loc(f.map[i]).valid())
        g.setLoc(f.map[i], body.loc(static_cast<NodeId>(i)));
    }
    if (paused)
      continue;
    NodeId result = f.map[static_cast<size_t>(f.body->result)];
    done[f.key] = result;
    if (stack.size() == 1 && calleeMap)
      *calleeMap = std::move(f.map);
    stack.pop_back();
    if (stack.empty())
      return result;
    finished = result;
  }
}

Function inlineCalls(const Program &program, size_t index, std::vector<NodeId> *bodyMap) {
  const Function &root = program.bodies[index];
  Function out;
  out.name = root.name;
  out.loc = root.loc;
  out.params = root.params;
  out.graph = std::make_shared<Graph>(program.dims);
  Graph &g = *out.graph;
  std::vector<NodeId> rootArgs;
  for (ParamInfo &p : out.params) {
    NodeId old = p.node;
    p.node = g.param(static_cast<int64_t>(&p - out.params.data()), p.type);
    g.setLoc(p.node, root.graph->loc(old));
    rootArgs.push_back(p.node);
  }
  out.result = inlineBody(program.bodies, index, rootArgs, g, false, bodyMap);
  return out;
}

} // namespace gradc
