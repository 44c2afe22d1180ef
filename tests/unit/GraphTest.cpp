// GraphTest.cpp: hash-consing, folding, and the completeness of the op table.
#include "TestUtil.h"

#include "ir/OpTable.h"

#include <gtest/gtest.h>

using namespace gradc;

static std::shared_ptr<DimTable> noDims() { return std::make_shared<DimTable>(); }

TEST(Graph, EqualNodesAreOneNode) {
  Graph g(noDims());
  NodeId x = g.param(0, Type{});
  NodeId y = g.param(1, Type{});
  NodeId a = g.make(Op::Mul, {x, y});
  NodeId b = g.make(Op::Mul, {x, y});
  EXPECT_EQ(a, b);
  EXPECT_NE(g.make(Op::Mul, {y, x}), a); // no commutativity assumed here
  EXPECT_EQ(g.constant(2.0), g.constant(2.0));
  EXPECT_NE(g.constant(0.0), g.constant(-0.0)); // constants compare by bits
}

TEST(Graph, ConstantsFoldAndIdentitiesVanish) {
  Graph g(noDims());
  NodeId x = g.param(0, Type{});
  NodeId c = g.make(Op::Add, {g.constant(2.0), g.constant(3.0)});
  EXPECT_TRUE(g.isConstant(c, 5.0));
  EXPECT_EQ(g.make(Op::Mul, {x, g.constant(1.0)}), x);     // x*1 -> x
  EXPECT_EQ(g.make(Op::Mul, {g.constant(1.0), x}), x);     // 1*x -> x
  EXPECT_EQ(g.make(Op::Div, {x, g.constant(1.0)}), x);     // x/1 -> x
  EXPECT_EQ(g.make(Op::Neg, {g.make(Op::Neg, {x})}), x);   // --x -> x
  // x + 0 is not x when x is -0.0, so it stays.
  EXPECT_NE(g.make(Op::Add, {x, g.constant(0.0)}), x);
}

TEST(Graph, OperandsPrecedeUsersSoIdOrderIsTopological) {
  auto cs = test::compileOk("def f(x, y) {\n  a = x * y\n  b = a + sin(a)\n  return b * a\n}\n");
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  differentiate(fn);
  for (size_t i = 0; i < fn.graph->size(); ++i)
    for (NodeId o : fn.graph->node(static_cast<NodeId>(i)).operands)
      EXPECT_LT(static_cast<size_t>(o), i);
}

TEST(Graph, IllTypedNodesAreRejectedByTheShapeRule) {
  Graph g(noDims());
  NodeId a = g.param(0, Type{DType::F64, {Dim::lit(3)}});
  NodeId b = g.param(1, Type{DType::F64, {Dim::lit(4)}});
  std::string error;
  EXPECT_EQ(g.tryMake(Op::Add, {a, b}, {}, error), kNoNode);
  EXPECT_EQ(error, "operand shapes differ: [3] and [4]");
  EXPECT_THROW(g.make(Op::Add, {a, b}), InternalError);
}

// The verifier of the op table: every op has a shape rule, every op but a parameter an
// evaluator, and every op both derivative rules (reverse and forward) unless it is
// declared to have no gradient.
TEST(OpTable, EveryOpIsComplete) {
  for (int i = 0; i < kNumOps; ++i) {
    const OpInfo &info = opInfo(static_cast<Op>(i));
    SCOPED_TRACE(info.name);
    EXPECT_NE(info.shape, nullptr);
    if (info.inlinedFirst) { // a call: replaced by its callee's body before any rule is needed
      EXPECT_TRUE(!info.eval && !info.vjp && !info.jvp && !info.element);
      continue;
    }
    if (static_cast<Op>(i) != Op::Param)
      EXPECT_NE(info.eval, nullptr);
    EXPECT_TRUE(info.vjp != nullptr || info.noGradient);
    EXPECT_TRUE(info.jvp != nullptr || info.noGradient);
    EXPECT_FALSE((info.vjp != nullptr || info.jvp != nullptr) && info.noGradient);
    if (info.elementwise)
      EXPECT_TRUE(info.scalar1 || info.scalar2 || info.scalar3);
    // Lowering: every op says how compiled code computes it.
    if (info.elementwise)
      EXPECT_TRUE(info.loop == LoopKind::Elementwise && info.element);
    if (info.loop == LoopKind::View)
      EXPECT_NE(info.indexMap, nullptr);
    if (info.loop == LoopKind::Reduce)
      EXPECT_TRUE(info.reduceCombine && info.scalar2);
    if (info.loop == LoopKind::Leaf)
      EXPECT_TRUE(static_cast<Op>(i) == Op::Param || static_cast<Op>(i) == Op::Const ||
                  static_cast<Op>(i) == Op::DimValue);
  }
}
