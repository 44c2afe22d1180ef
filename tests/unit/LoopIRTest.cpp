// LoopIRTest.cpp: the loop IR's factories (typing, folding, hash-consing), its verifier (scopes,
// holes, signatures across functions met one at a time), the text printer and the LLVM
// printer on expressions as deep as a program.
#include "codegen/c/CPrinter.h"
#include "codegen/llvm/LlvmPrinter.h"
#include "codegen/llvm/Optimize.h"
#include "gradc/Diagnostics.h"
#include "loops/Builder.h"
#include "loops/LoopIR.h"
#include "loops/Printer.h"
#include "loops/Verifier.h"

#include "LoopText.h"

#include <gtest/gtest.h>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <cmath>
#include <regex>
#include <sstream>

using namespace gradc;
using namespace gradc::loops;

namespace {

std::unique_ptr<Func> scalarFunc(const std::string &symbol = "f") {
  return std::make_unique<Func>(symbol, kF64, std::vector<Param>{{"x", kF64, false}, {"n", kI64, false}});
}

std::string text(const Func &f) { return test::loopText(f); }

// double symbol(double x, int64_t n): the sum of x * i over i in [0, n), a rolled loop.
std::unique_ptr<Func> sumOverN(const std::string &symbol) {
  auto f = scalarFunc(symbol);
  Builder b(*f);
  int32_t acc = b.let(kF64, f->floatImm(kF64, 0.0), "acc");
  b.loop(f->i64(0), f->arg(1), [&](ExprId i) {
    b.assign(acc, f->add(f->localRef(acc), f->mul(f->arg(0), f->cast(kF64, i))));
  }, kRolled);
  b.emit(f->returnStmt(f->localRef(acc)));
  f->body = b.finish();
  return f;
}

// f printed as an LLVM module, as text.
std::string llvmText(const Func &f) {
  llvm::LLVMContext ctx;
  llvm::Module m(f.symbol, ctx);
  printLlvm(f, m);
  std::string ir;
  llvm::raw_string_ostream os(ir);
  m.print(os, nullptr);
  return ir;
}

} // namespace

TEST(LoopIR, ACompactLoopIsPrintedWithItsHintsAndMarksItsModule) {
  // loops/CompactLoops.h: one vector at a time, the tail in masked vectors, no unrolling (so
  // no runtime-unroll hint of its own), in the loop's own distinct node; and the module flag
  // that turns SLP off for the module.
  auto f = sumOverN("f");
  f->addLoopFlags(f->stmt(f->body).list[1], kCompact);
  ASSERT_EQ(verify(*f), "");
  std::string ir = llvmText(*f);
  std::smatch loop;
  ASSERT_TRUE(std::regex_search(ir, loop, std::regex("!llvm.loop (![0-9]+)"))) << ir;
  std::smatch node;
  ASSERT_TRUE(std::regex_search(ir, node, std::regex("\\n" + loop[1].str() + " = distinct !\\{" + loop[1].str() +
                                                          ", (![0-9]+), (![0-9]+), (![0-9]+)\\}")))
      << ir;
  std::string hints;
  for (size_t k = 1; k <= 3; ++k) {
    std::smatch h;
    ASSERT_TRUE(std::regex_search(ir, h, std::regex("\\n" + node[k].str() + " = (!\\{[^\\n]*\\})"))) << ir;
    hints += h[1].str() + "\n";
  }
  EXPECT_EQ(hints, "!{!\"llvm.loop.unroll.disable\"}\n"
                   "!{!\"llvm.loop.vectorize.predicate.enable\", i1 true}\n"
                   "!{!\"llvm.loop.interleave.count\", i32 1}\n");
  EXPECT_EQ(ir.find("unroll.runtime.disable"), std::string::npos) << ir;
  EXPECT_NE(ir.find("!{i32 7, !\"gradc.compact\", i32 1}"), std::string::npos) << ir;
}

// void symbol(double *out): `stores` statements out[k] = out[k] + k, one after another.
std::unique_ptr<Func> straightLine(const std::string &symbol, int stores, bool noinline) {
  auto f = std::make_unique<Func>(symbol, kVoid, std::vector<Param>{{"out", kPtr, true}});
  f->noinline = noinline;
  Builder b(*f);
  int32_t out = f->argBuffer(0, kF64, "out");
  for (int k = 0; k < stores; ++k)
    b.store(out, f->i64(k), f->add(f->load(out, f->i64(k), kF64), f->floatImm(kF64, k)));
  b.emit(f->returnStmt());
  f->body = b.finish();
  return f;
}

TEST(LoopIR, LongStraightLineCodeIsCountedPerFunctionOrAcrossChunks) {
  // The O0 rule for giant straight-line code (chooseOptLevel) looks at one function at a
  // time: a file of several functions, each short, keeps O3 (ODE's file at n = 64 was
  // compiled at O0 and ran 5x slower). Functions compiled on their own (the chunks of one
  // long program) count together, and so do very many functions.
  llvm::LLVMContext ctx;
  auto module = [&](std::vector<std::unique_ptr<Func>> fs) {
    auto m = std::make_unique<llvm::Module>("m", ctx);
    for (auto &f : fs)
      printLlvm(*f, *m);
    return m;
  };
  std::vector<std::unique_ptr<Func>> two, one, chunks;
  two.push_back(straightLine("a", 400, false));
  two.push_back(straightLine("b", 400, false));
  auto twoShort = module(std::move(two));
  size_t each = twoShort->getFunction("a")->getInstructionCount();
  ASSERT_GT(each, 1000u); // (each below the limit, both together above it)
  ASSERT_LT(each, 3000u);
  ASSERT_GT(2 * each, 3000u);
  EXPECT_FALSE(straightLineInstructionsExceed(*twoShort, 3000));
  EXPECT_EQ(chooseOptLevel(*twoShort, -1), 3);
  one.push_back(straightLine("c", 800, false));
  auto oneLong = module(std::move(one));
  EXPECT_TRUE(straightLineInstructionsExceed(*oneLong, 3000));
  EXPECT_EQ(chooseOptLevel(*oneLong, -1), 0);
  chunks.push_back(straightLine("d.chunk0", 400, true));
  chunks.push_back(straightLine("d.chunk1", 400, true));
  EXPECT_TRUE(straightLineInstructionsExceed(*module(std::move(chunks)), 3000));
  // A file of very many short functions: O3's cost per function adds up.
  std::vector<std::unique_ptr<Func>> few, many;
  for (int k = 0; k < 1001; ++k)
    (k < 1000 ? few : many).push_back(straightLine("e" + std::to_string(k), 1, false));
  auto thousand = module(std::move(few));
  EXPECT_FALSE(straightLineInstructionsExceed(*thousand, 3000));
  printLlvm(*many[0], *thousand);
  EXPECT_TRUE(straightLineInstructionsExceed(*thousand, 3000));
}

TEST(LoopIR, EqualExpressionsAreOneNode) {
  auto f = scalarFunc();
  ExprId a = f->add(f->arg(0), f->floatImm(kF64, 1.0));
  ExprId b = f->add(f->arg(0), f->floatImm(kF64, 1.0));
  EXPECT_EQ(a, b);
  // Constants are compared by their bits: 0.0 and -0.0 are two numbers.
  EXPECT_NE(f->floatImm(kF64, 0.0), f->floatImm(kF64, -0.0));
  EXPECT_NE(f->floatImm(kF64, 1.0), f->floatImm(kF32, 1.0));
  EXPECT_EQ(f->expr(f->floatImm(kF64, -0.0)).f(), -0.0);
  EXPECT_TRUE(std::signbit(f->expr(f->floatImm(kF64, -0.0)).f()));
}

TEST(LoopIR, IntegerArithmeticAndComparisonsFoldSignedAndUnsigned) {
  auto f = scalarFunc();
  EXPECT_EQ(f->expr(f->add(f->i64(2), f->i64(3))).i, 5);
  EXPECT_EQ(f->expr(f->compare(Op::Lt, f->i64(-1), f->i64(0))).i, 1);
  // As unsigned, -1 is the largest number.
  EXPECT_EQ(f->expr(f->compare(Op::Lt, f->u64(UINT64_MAX), f->u64(0))).i, 0);
  EXPECT_EQ(f->expr(f->compare(Op::Le, f->u64(3), f->u64(uint64_t{1} << 56))).i, 1);
  EXPECT_EQ(f->expr(f->compare(Op::Gt, f->u64(UINT64_MAX), f->u64(1))).i, 1);
  ExprId n = f->arg(1);
  EXPECT_EQ(f->expr(f->logic(Op::And, f->boolImm(true), f->compare(Op::Lt, n, f->i64(4)))).op, Op::Lt);
  EXPECT_EQ(f->expr(f->logic(Op::Or, f->boolImm(true), f->compare(Op::Lt, n, f->i64(4)))).i, 1);
  // min and max absorb: a loop part's bounds fold to a dim, and an empty part to nothing.
  ExprId m = f->sub(n, f->i64(1));
  EXPECT_EQ(f->min(n, n), n);
  EXPECT_EQ(f->max(n, f->min(f->i64(1), n)), n);
  EXPECT_EQ(f->max(f->min(n, m), n), n);
  EXPECT_EQ(f->min(f->max(m, n), m), m);
  EXPECT_EQ(f->expr(f->max(m, f->min(f->i64(1), n))).op, Op::Max); // n - 1 may be below 1
}

TEST(LoopIR, FactoriesRefuseIllTypedNodes) {
  auto f = scalarFunc();
  EXPECT_THROW(f->add(f->arg(0), f->arg(1)), InternalError);             // f64 + i64
  EXPECT_THROW(f->logic(Op::And, f->arg(1), f->boolImm(true)), InternalError); // not a condition
  EXPECT_THROW(f->argBuffer(0, kF64, "x"), InternalError);                // x is no pointer
}

TEST(LoopIR, TheVerifierFindsLocalsAndVariablesOutOfScope) {
  {
    auto f = scalarFunc();
    int32_t l = f->local(kF64, "t");
    f->body = f->block({f->returnStmt(f->localRef(l)), f->let(l, f->arg(0))});
    EXPECT_EQ(verify(*f), "function f: a returned value reads local t before its let");
  }
  {
    auto f = scalarFunc();
    Builder b(*f);
    ExprId i = kNone;
    b.loop(f->i64(0), f->arg(1), [&](ExprId v) { i = v; });
    b.emit(f->returnStmt(f->cast(kF64, i)));
    f->body = b.finish();
    EXPECT_EQ(verify(*f), "function f: a returned value reads loop variable i0 outside its loop");
  }
  {
    auto f = scalarFunc();
    Builder b(*f);
    b.emit(f->returnStmt(f->add(f->hole(0, kF64), f->arg(0))));
    f->body = b.finish();
    EXPECT_EQ(verify(*f), "function f: a returned value reads a hole");
  }
  {
    // A local declared inside a loop's body is out of scope after the loop, even where the
    // same expression was found in scope before (the verifier remembers what it checked).
    auto f = scalarFunc();
    Builder b(*f);
    int32_t l = kNone;
    ExprId use = kNone;
    b.loop(f->i64(0), f->arg(1), [&](ExprId) {
      l = b.let(kF64, f->arg(0), "t");
      use = f->mul(f->localRef(l), f->arg(0));
      b.emit(f->eval(f->math(Math::Sin, use)));
    });
    b.emit(f->returnStmt(use));
    f->body = b.finish();
    EXPECT_EQ(verify(*f), "function f: a returned value reads local t before its let");
  }
}

TEST(LoopIR, CallsMustMatchTheirCalleeWhicheverComesFirst) {
  auto callee = std::make_unique<Func>("g", kF64, std::vector<Param>{{"a", kF64, false}});
  callee->body = callee->block({callee->returnStmt(callee->arg(0))});
  auto caller = [](Ty argTy) {
    auto f = std::make_unique<Func>("h", kF64, std::vector<Param>{{"a", argTy, false}});
    f->body = f->block({f->returnStmt(f->cast(kF64, f->call(f->callee({"g", kF64, {argTy}}), {f->arg(0)})))});
    return f;
  };
  {
    ModuleVerifier v;
    EXPECT_EQ(v.add(*callee), "");
    EXPECT_EQ(v.add(*caller(kF64)), "");
  }
  {
    ModuleVerifier v; // the call first, then the definition
    EXPECT_EQ(v.add(*caller(kI64)), "");
    EXPECT_EQ(v.add(*callee), "function h calls g with another signature");
  }
  {
    ModuleVerifier v;
    EXPECT_EQ(v.add(*callee), "");
    EXPECT_EQ(v.add(*caller(kI64)), "function h calls g with another signature");
    EXPECT_EQ(v.add(*callee), "function g is defined twice");
  }
}

TEST(LoopIR, PrintedLocalNamesAreUnique) {
  auto f = scalarFunc();
  f->local(kF64, "a");
  f->local(kF64, "a_1");
  f->local(kF64, "a");
  f->local(kF64, "a");
  EXPECT_EQ(uniqueLocalNames(*f), (std::vector<std::string>{"a", "a_1", "a_2", "a_3"}));
}

TEST(LoopIR, DeepExpressionsPrintAsNamedSteps) {
  auto f = scalarFunc();
  ExprId e = f->arg(0);
  for (int k = 0; k < 20; ++k)
    e = f->math(Math::Sin, e);
  f->body = f->block({f->returnStmt(e)});
  ASSERT_EQ(verify(*f), "");
  EXPECT_EQ(text(*f), "func f(x: f64, n: i64) -> f64 {\n"
                      "  %0 = sin(sin(sin(sin(sin(sin(sin(sin(x))))))))\n"
                      "  %1 = sin(sin(sin(sin(sin(sin(sin(sin(%0))))))))\n"
                      "  return sin(sin(sin(sin(%1))))\n"
                      "}\n");
}

// The LLVM printer evaluates operands with a stack of its own: an expression a million
// nodes deep (a fused chain) prints without recursion.
TEST(LoopIR, TheLlvmPrinterPrintsAMillionDeepExpression) {
  auto f = scalarFunc();
  ExprId e = f->arg(0);
  for (int k = 0; k < 1000000; ++k)
    e = f->add(f->mul(e, f->arg(0)), f->floatImm(kF64, static_cast<double>(k % 7)));
  f->body = f->block({f->returnStmt(e)});
  ASSERT_EQ(verify(*f), "");
  llvm::LLVMContext ctx;
  llvm::Module m("deep", ctx);
  printLlvm(*f, m);
  std::string err;
  llvm::raw_string_ostream os(err);
  EXPECT_FALSE(llvm::verifyModule(m, &os)) << os.str();
  EXPECT_EQ(m.getFunction("f")->getEntryBlock().size(), 2000001u); // mul, add per level; ret
}

// A stack buffer's alignment is the loop IR's decision; both printers spell it.
TEST(LoopIR, StackBuffersKeepTheirAlignmentInEveryPrinter) {
  auto f = std::make_unique<Func>("f", kF64, std::vector<Param>{{"x", kF64, false}});
  int32_t pack = f->stackBuffer(kF64, 8, "pack", 64);
  f->body = f->block({f->store(pack, f->i64(0), f->arg(0)), f->returnStmt(f->load(pack, f->i64(0), kF64))});
  ASSERT_EQ(verify(*f), "");
  EXPECT_NE(text(*f).find("buffer pack: f64[8] on the stack, aligned to 64"), std::string::npos) << text(*f);
  std::string ir = llvmText(*f);
  EXPECT_NE(ir.find("alloca [8 x double], align 64"), std::string::npos) << ir;
  cgen::CModulePrinter c;
  c.add(*f);
  std::string code = c.text();
  EXPECT_NE(code.find("#define GRADC_ALIGNED(n) __attribute__((aligned(n)))"), std::string::npos) << code;
  EXPECT_NE(code.find("double pack[8] GRADC_ALIGNED(64);"), std::string::npos) << code;
  EXPECT_THROW(f->stackBuffer(kF64, 8, "odd", 48), std::exception);
}

// A loop around a short row of a vector or more (8 elements) is vectorized within an iteration
// only: LLVM otherwise unrolled the row and read across rows with gathers. The LLVM printer
// turns loop vectorization off for it (the SLP vectorizer still joins the row's elements).
TEST(LoopIR, ALoopAroundAShortRowIsVectorizedWithinAnIteration) {
  auto f = scalarFunc();
  StmtId empty = f->block({});
  auto around = [&](int64_t row, ExprId rows) {
    int32_t outer = f->var(), inner = f->var();
    StmtId body = f->block({f->forLoop(inner, f->i64(0), f->i64(row), empty)});
    return f->stmt(f->forLoop(outer, f->i64(0), rows, body)).flags;
  };
  EXPECT_TRUE(around(kWithinIterationTrips, f->arg(1)) & kWithinIteration);
  EXPECT_TRUE(around(64, f->i64(1000)) & kWithinIteration);
  EXPECT_FALSE(around(kWithinIterationTrips - 1, f->arg(1)) & kWithinIteration); // [n, 3]: across rows
  EXPECT_FALSE(around(kShortLoopTrips, f->arg(1)) & kWithinIteration);           // not unrolled
  int32_t v = f->var(), w = f->var();
  EXPECT_FALSE(f->stmt(f->forLoop(v, f->i64(0), f->arg(1), f->forLoop(w, f->i64(0), f->arg(1), empty))).flags &
               kWithinIteration);

  Builder bld(*f);
  bld.loop(f->i64(0), f->arg(1), [&](ExprId) { bld.loop(f->i64(0), f->i64(10), [&](ExprId) {}); });
  bld.emit(f->returnStmt(f->floatImm(kF64, 0.0)));
  f->body = bld.finish();
  ASSERT_EQ(verify(*f), "");
  EXPECT_NE(text(*f).find(" .. n within {"), std::string::npos) << text(*f);
  std::string ir = llvmText(*f);
  EXPECT_NE(ir.find("!{!\"llvm.loop.vectorize.enable\", i1 false}"), std::string::npos) << ir;
}

// A loop of few iterations known now is marked short, and the LLVM printer asks for it to be
// vectorized without interleaving; a longer or symbolic one is not.
TEST(LoopIR, ShortLoopsAreVectorizedWithoutInterleaving) {
  auto f = scalarFunc();
  int32_t a = f->var(), b = f->var(), c = f->var();
  StmtId empty = f->block({});
  EXPECT_TRUE(f->stmt(f->forLoop(a, f->i64(1), f->i64(1 + kShortLoopTrips - 1), empty)).flags & kShort);
  EXPECT_FALSE(f->stmt(f->forLoop(b, f->i64(0), f->i64(kShortLoopTrips), empty)).flags & kShort);
  EXPECT_FALSE(f->stmt(f->forLoop(c, f->i64(0), f->arg(1), empty)).flags & kShort);
  int32_t acc = f->local(kF64, "acc");
  Builder bld(*f);
  bld.emit(f->let(acc, f->floatImm(kF64, 0.0)));
  bld.loop(f->i64(0), f->i64(63), [&](ExprId i) {
    bld.assign(acc, f->add(f->localRef(acc), f->mul(f->arg(0), f->cast(kF64, i))));
  }, kRolled);
  bld.emit(f->returnStmt(f->localRef(acc)));
  f->body = bld.finish();
  ASSERT_EQ(verify(*f), "");
  EXPECT_NE(text(*f).find("for i3 in 0 .. 63 rolled short {"), std::string::npos) << text(*f);
  std::string ir = llvmText(*f);
  EXPECT_NE(ir.find("!{!\"llvm.loop.interleave.count\", i32 1}"), std::string::npos) << ir;
  EXPECT_NE(ir.find("!{!\"llvm.loop.unroll.runtime.disable\"}"), std::string::npos) << ir;
  // The same loop over n (or 256 iterations) is interleaved as LLVM chooses.
  auto g = sumOverN("g");
  ASSERT_EQ(verify(*g), "");
  std::string gir = llvmText(*g);
  EXPECT_EQ(gir.find("llvm.loop.interleave.count"), std::string::npos) << gir;
  EXPECT_NE(gir.find("!{!\"llvm.loop.unroll.runtime.disable\"}"), std::string::npos) << gir;
}
