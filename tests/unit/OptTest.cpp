// OptTest.cpp: the graph passes one by one (constant folding, algebraic simplification,
// CSE, DCE) and the pass manager: what each rewrites, what it must leave alone under IEEE
// semantics, and that the optimized gradient still matches the interpreter on the original.
#include "TestUtil.h"
#include "opt/Passes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <sstream>

using namespace gradc;
using namespace gradc::test;

namespace {

// The optimized graph of f's value and gradient, printed (`--dump=opt`'s body).
std::string optimized(const std::string &src, bool fastMath = false,
                      std::vector<PassStat> *stats = nullptr) {
  auto cs = compileOk(src);
  if (!cs)
    return "";
  Function &fn = cs->program.funcs[0];
  GradientGraph gg = differentiate(fn);
  std::vector<NodeId> roots{gg.value};
  roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
  OptOptions opts;
  opts.fastMath = fastMath;
  RewriteResult r = optimizeGraph(*fn.graph, roots, opts, stats);
  std::ostringstream os;
  std::vector<std::string> names{"f"};
  for (const ParamInfo &p : fn.params)
    names.push_back("d_" + p.name);
  r.graph->print(os, r.roots, names);
  return os.str();
}

// The value of f alone, optimized: its node count.
size_t valueNodes(const std::string &src) {
  auto cs = compileOk(src);
  Function &fn = cs->program.funcs[0];
  differentiate(fn);
  RewriteResult r = optimizeGraph(*fn.graph, {fn.result}, {});
  return reachableCount(*r.graph, r.roots);
}

} // namespace

TEST(ConstantFold, StructuralOpsOnConstantsFold) {
  auto cs = compileOk("def f(x: [2, 3]) = x\n");
  Graph g(cs->program.dims);
  NodeId c = g.constant(2.5, {Dim::lit(2), Dim::lit(3)});
  Attrs t;
  t.ints = {1, 0};
  NodeId tr = g.make(Op::Transpose, {c}, t);
  RewriteResult r = rewriteGraph(g, {tr}, constantFoldRule);
  const Node &n = r.graph->node(r.roots[0]);
  EXPECT_EQ(n.op, Op::Const);
  EXPECT_EQ(n.num, 2.5);
  EXPECT_EQ(r.graph->dims().str(n.type.shape), "[3, 2]");
  // sum of a nonzero constant is not folded (it would change the rounding of the sum).
  Attrs all;
  all.ints = {0, 1};
  NodeId s = g.make(Op::Sum, {c}, all);
  EXPECT_FALSE(constantFoldMatches(g, g.node(s)));
  NodeId z = g.make(Op::Sum, {g.constant(0.0, {Dim::lit(2), Dim::lit(3)})}, all);
  EXPECT_TRUE(z == g.constant(0.0) || constantFoldMatches(g, g.node(z)));
}

TEST(Simplify, ExactIdentitiesApply) {
  // x - (-y) -> x + y; (-x) * (-y) -> x * y; pow(x, 2) -> x * x; pow(x, 1) -> x; and in the
  // gradient pow(y, 0) -> 1.
  const char *src = "def f(x, y) = (x - (-y)) + (-x) * (-y) + pow(x, 2) + pow(y, 1)\n";
  auto cs = compileOk(src);
  Function &fn = cs->program.funcs[0];
  RewriteResult value = optimizeGraph(*fn.graph, {fn.result}, {});
  std::ostringstream os;
  value.graph->print(os, value.roots, {"f"});
  EXPECT_EQ(os.str(), "  %0 = param {0} : f64\n  %1 = param {1} : f64\n  %2 = add %0, %1 : f64\n"
                      "  %3 = mul %0, %1 : f64\n  %4 = add %2, %3 : f64\n  %5 = mul %0, %0 : f64\n"
                      "  %6 = add %4, %5 : f64\n  %7 = add %6, %1 : f64\n  f = %7\n");
  EXPECT_EQ(optimized(src).find("pow"), std::string::npos) << optimized(src);
}

TEST(Simplify, ATransposeTransposedBackIsItsOperand) {
  // x.T.T, and the gradient of x @ W.T (which transposes W.T again: a second copy of W.T
  // would be made): no transpose is left reading a transpose.
  for (const char *src : {"def f(X: [3, 4], Y: [2, 3, 4]) = sum(X.T.T * X) + sum(Y.T.T)\n",
                          "def f(X: [9, 30], W: [20, 30]) = sum(sin(X @ W.T))\n"}) {
    SCOPED_TRACE(src);
    std::string grad = optimized(src);
    std::istringstream lines(grad);
    std::set<std::string> transposes; // "%N" of every transpose node
    for (std::string line; std::getline(lines, line);) {
      size_t eq = line.find(" = transpose %");
      if (eq == std::string::npos)
        continue;
      std::string operand = line.substr(eq + 13, line.find_first_of(" :", eq + 13) - (eq + 13));
      EXPECT_EQ(transposes.count(operand), 0u) << line << "\n" << grad;
      transposes.insert(line.substr(line.find('%'), eq - line.find('%')));
    }
    if (std::string(src).find('@') == std::string::npos)
      EXPECT_TRUE(transposes.empty()) << grad;
  }
}

TEST(Simplify, ASumOverAProductsRowsOrColumnsMultipliesTheSummedOperand) {
  // The gradient of a mean subtracted before a product (GMM's means): d_m = -sum(G @ W.T,
  // axis=0) becomes -(sum(G, axis=0) @ W.T), a product of one row. The only product with the
  // data's 6 rows left is the forward one.
  const char *src = "def f(m: [4], X: const [6, 4], W: [4, 3]) = sum(((X - m) @ W) ^ 2)\n";
  std::string grad = optimized(src);
  size_t rows = 0;
  std::istringstream lines(grad);
  for (std::string line; std::getline(lines, line);)
    if (line.find(" = matmul ") != std::string::npos && line.find(": f64[6, ") != std::string::npos)
      ++rows;
  EXPECT_EQ(rows, 1u) << grad;
  EXPECT_NE(grad.find(" = matmul "), std::string::npos);
  EXPECT_NE(grad.find(": f64[1, 4]"), std::string::npos) << grad; // the summed row, then its product

  // Every form: rows, columns, both, a batch, a negated product; the values agree with the
  // unoptimized graph (up to the rounding of a reordered sum).
  const char *forms = "def f(A: [2, 5, 4], B: [4, 3]) = sum(sin(sum(A @ B, axis=1))) + sum(cos(sum(A @ B, axis=2)))"
                      " + sum(-(A @ B), axis=2)[1, 2] + sum(A @ B)\n";
  auto cs = compileOk(forms);
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  std::vector<Tensor> at{randomTensor({2, 5, 4}, 11), randomTensor({4, 3}, 12)};
  ValueGrad want = valueAndGrad(fn, at);
  GradientGraph gg = differentiate(fn);
  std::vector<NodeId> roots{gg.value};
  roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
  RewriteResult r = optimizeGraph(*fn.graph, roots, {});
  for (NodeId id = 0; id < static_cast<NodeId>(r.graph->size()); ++id) // no product of A's 5 rows by 3
    if (r.graph->node(id).op == Op::MatMul)
      EXPECT_NE(r.graph->dims().str(r.graph->type(id).shape), "[2, 5, 3]") << r.graph->nodeToString(id);
  EvalResult got = evaluate(*r.graph, r.roots, at, {});
  ASSERT_TRUE(got.ok());
  EXPECT_LE(relError(got.outputs[0].data[0], want.value.data[0]), 1e-13);
  for (size_t p = 0; p < 2; ++p)
    for (size_t i = 0; i < want.grads[p].data.size(); ++i)
      EXPECT_LE(relError(got.outputs[p + 1].data[i], want.grads[p].data[i]), 1e-13) << p << " " << i;
}

TEST(Simplify, IdentitiesWrongForSignedZeroOrNaNNeedFastMath) {
  // x + 0 is -0 -> +0 and x * 0 is inf -> NaN: kept unless --fast-math.
  const char *src = "def f(x) = (x + 0) * (x * 0 + 1) + (x - x)\n";
  std::string strict = optimized(src);
  EXPECT_NE(strict.find("const 0"), std::string::npos) << strict;
  EXPECT_NE(strict.find("sub %0, %0"), std::string::npos) << strict;
  std::string fast = optimized(src, true);
  EXPECT_EQ(fast.find("sub %0, %0"), std::string::npos) << fast;
  EXPECT_EQ(fast.find("const 0 "), std::string::npos) << fast;
}

TEST(CommonSubexpr, CommutedOperandsMerge) {
  std::vector<PassStat> stats;
  std::string out = optimized("def f(x, y) = sin(x * y) + cos(y * x)\n", false, &stats);
  size_t muls = 0;
  for (size_t at = out.find("= mul"); at != std::string::npos; at = out.find("= mul", at + 1))
    ++muls;
  // One product x*y feeds sin and cos (and the gradient's products are shared too).
  EXPECT_NE(out.find("sin %2"), std::string::npos) << out;
  EXPECT_NE(out.find("cos %2"), std::string::npos) << out;
  bool cseShrank = false;
  for (const PassStat &p : stats)
    cseShrank = cseShrank || (p.pass == "cse" && p.after < p.before);
  EXPECT_TRUE(cseShrank);
}

TEST(CommonSubexpr, ReordersOperandsOnlyToMerge) {
  // y * x alone has no twin x * y: reordering it would merge nothing, so the pass does not
  // run (it would copy the whole graph for nothing).
  auto cs = compileOk("def f(x, y) = sin(y * x)\n");
  Function &fn = cs->program.funcs[0];
  const Graph &g = *fn.graph;
  for (size_t i = 0; i < g.size(); ++i)
    EXPECT_FALSE(commonSubexprMatches(g, g.node(static_cast<NodeId>(i)))) << g.nodeToString(static_cast<NodeId>(i));
  // With the twin there, the pass does run.
  auto twin = compileOk("def f(x, y) = sin(y * x) + cos(x * y)\n");
  const Graph &tg = *twin->program.funcs[0].graph;
  bool any = false;
  for (size_t i = 0; i < tg.size(); ++i)
    any = any || commonSubexprMatches(tg, tg.node(static_cast<NodeId>(i)));
  EXPECT_TRUE(any);
}

TEST(PassManager, AGraphNothingChangesIsNotCopied) {
  // No pass applies and every node is needed: the result is the graph itself. When a pass
  // applies, it is a new graph of the needed nodes.
  auto cs = compileOk("def f(x, y) = sin(x) * exp(y)\n");
  Function &fn = cs->program.funcs[0];
  RewriteResult same = optimizeGraph(fn.graph, {fn.result}, {});
  EXPECT_EQ(same.graph.get(), fn.graph.get());
  EXPECT_EQ(same.roots, std::vector<NodeId>{fn.result});
  RewriteResult copied = optimizeGraph(*fn.graph, {fn.result}, {}); // the copying form
  EXPECT_NE(copied.graph.get(), fn.graph.get());
  auto folds = compileOk("def f(x) = sin(x) * (2 + 3)\n");
  Function &ff = folds->program.funcs[0];
  RewriteResult folded = optimizeGraph(ff.graph, {ff.result}, {});
  EXPECT_NE(folded.graph.get(), ff.graph.get());
  // A graph with nodes the roots do not need is copied without them.
  auto dead = compileOk("def f(x) {\n  unused = exp(x)\n  return sin(x)\n}\n");
  ASSERT_TRUE(dead);
  Function &fd = dead->program.funcs[0];
  ASSERT_LT(reachableCount(*fd.graph, {fd.result}), fd.graph->size()); // exp(x) is there
  RewriteResult trimmed = optimizeGraph(fd.graph, {fd.result}, {});
  EXPECT_NE(trimmed.graph.get(), fd.graph.get());
  EXPECT_EQ(trimmed.graph->size(), reachableCount(*fd.graph, {fd.result}));
}

TEST(DeadCode, TheValueAloneComputesNoGradient) {
  const char *src = "def f(x, y) = sin(x) * exp(y)\n";
  auto cs = compileOk(src);
  Function &fn = cs->program.funcs[0];
  size_t forward = reachableCount(*fn.graph, {fn.result});
  EXPECT_EQ(valueNodes(src), forward); // the gradient nodes are dropped for f
}

TEST(DeadCode, AGradientComputesOnlyTheForwardPartItNeeds) {
  // d/dx (x * c + big(y)) with y const needs nothing of big(y) but the value does:
  // the gradient alone is one node.
  auto cs = compileOk("def f(x, y: const) = x * 3 + exp(sin(cos(y)))\n");
  Function &fn = cs->program.funcs[0];
  GradientGraph gg = differentiate(fn);
  RewriteResult r = optimizeGraph(*fn.graph, {gg.grads[0]}, {});
  EXPECT_EQ(reachableCount(*r.graph, r.roots), 1u); // the constant 3
}

TEST(PassManager, OptimizedGradientsMatchTheUnoptimized) {
  const char *srcs[] = {
      "def f(x, y) = (x - (-y)) * (-x) * (-y) + pow(x, 2) * pow(y, 1) + where(x > y, x, x)\n",
      "def f(x: [3], y: [3]) = sum(x * y + y * x - (-x)) + sum(pow(x - y, 2))\n",
  };
  for (const char *src : srcs) {
    auto cs = compileOk(src);
    Function &fn = cs->program.funcs[0];
    bool isVector = !fn.params[0].type.isScalar();
    std::vector<Tensor> at = isVector ? std::vector<Tensor>{vec({0.3, -1.2, 2.0}), vec({1.5, 0.25, -0.75})}
                                 : std::vector<Tensor>{scalar(0.7), scalar(-1.3)};
    ValueGrad want = valueAndGrad(fn, at);
    GradientGraph gg = differentiate(fn);
    std::vector<NodeId> roots{gg.value};
    roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
    RewriteResult r = optimizeGraph(*fn.graph, roots, {});
    EvalResult got = evaluate(*r.graph, r.roots, at, {});
    ASSERT_TRUE(got.ok());
    EXPECT_LE(relError(got.outputs[0].data[0], want.value.data[0]), 1e-15) << src;
    for (size_t p = 0; p < 2; ++p)
      for (size_t i = 0; i < want.grads[p].data.size(); ++i)
        EXPECT_LE(relError(got.outputs[p + 1].data[i], want.grads[p].data[i]), 1e-15) << src;
  }
}
