// SplitTailTest.cpp: where loops::splitTail cuts a function of many loops, what the second
// half takes from the first, and that both halves are valid loop IR that call each other as
// declared. (That the halves compute what the whole did is checked through the JIT: JitTest's
// AFunctionOfManyLoopsIsCompiledInTwoHalves.)
#include "loops/Builder.h"
#include "loops/LoopIR.h"
#include "loops/Printer.h"
#include "loops/SplitTail.h"
#include "loops/Verifier.h"

#include "LoopText.h"

#include <gtest/gtest.h>

using namespace gradc;
using namespace gradc::loops;

namespace {

std::string text(const Func &f) { return test::loopText(f); }

// double f(double *out, void *ws): `loops` loops, each filling a workspace slot (at a
// let-bound address) from the one before; a scalar of the first loop's slot, summed at the
// end with a local that only the second half declares.
std::unique_ptr<Func> chainOfLoops(int loops) {
  auto f = std::make_unique<Func>("f", kF64, std::vector<Param>{{"out", kPtr, true}, {"ws", kPtr, false}});
  Builder b(*f);
  int32_t out = f->argBuffer(0, kF64, "out");
  int32_t ws = f->argBuffer(1, kF64, "ws");
  std::vector<int32_t> slots;
  for (int k = 0; k < loops; ++k) {
    int32_t at = b.let(kPtr, f->addr(ws, f->i64(8 * k)), "w" + std::to_string(k) + "_at");
    slots.push_back(f->viewBuffer(f->localRef(at), kF64, "w" + std::to_string(k), 0));
  }
  int32_t first = kNone;
  for (int k = 0; k < loops; ++k) {
    b.loop(f->i64(0), f->i64(8), [&](ExprId i) {
      ExprId v = k == 0 ? f->floatImm(kF64, 1.0) : f->load(slots[static_cast<size_t>(k - 1)], i, kF64);
      b.store(slots[static_cast<size_t>(k)], i, f->add(v, f->floatImm(kF64, 1.0)));
    });
    if (k == 0)
      first = b.let(kF64, f->load(slots[0], f->i64(3), kF64), "first");
  }
  int32_t last = b.let(kF64, f->load(slots.back(), f->i64(7), kF64), "last");
  b.store(out, f->i64(0), f->localRef(last));
  b.emit(f->returnStmt(f->add(f->localRef(first), f->localRef(last))));
  f->body = b.finish();
  return f;
}

} // namespace

TEST(SplitTail, AFunctionOfManyLoopsIsCutInTheMiddle) {
  std::unique_ptr<Func> f = chainOfLoops(30);
  std::unique_ptr<Func> tail = splitTail(*f, "f.tail", 24);
  ASSERT_TRUE(tail);
  std::string head = text(*f), rest = text(*tail);
  EXPECT_EQ(verify(*f), "") << head;
  EXPECT_EQ(verify(*tail), "") << rest;
  // 15 loops on each side; the head returns what the tail returns, passing the addresses of
  // the slots the tail uses (w14 is read by the first loop of the tail) and `first`, in the
  // order of their ids.
  EXPECT_EQ(test::occurrences(head, "  for "), 15u) << head;
  EXPECT_EQ(test::occurrences(rest, "  for "), 15u) << rest;
  EXPECT_NE(head.find("  return f.tail(out, ws, w14_at, w15_at, w16_at, w17_at, w18_at, w19_at, w20_at, "
                      "w21_at, w22_at, w23_at, w24_at, w25_at, w26_at, w27_at, w28_at, w29_at, first)\n"),
            std::string::npos)
      << head;
  EXPECT_NE(rest.find("func f.tail(out: ptr noalias, ws: ptr, w14_at: ptr, "), std::string::npos) << rest;
  EXPECT_NE(rest.find("  let first: f64 = first\n"), std::string::npos) << rest;
  EXPECT_EQ(rest.find("w13_at: ptr"), std::string::npos) << rest; // not passed: the tail never reads w13
  EXPECT_NE(rest.find("  let last: f64 = w29[7]\n"), std::string::npos) << rest;
  // The two as one module: the call matches the callee.
  Module m;
  m.add(std::move(f));
  m.add(std::move(tail));
  EXPECT_EQ(verify(m), "");
}

TEST(SplitTail, AFunctionOfFewLoopsIsLeftWhole) {
  std::unique_ptr<Func> f = chainOfLoops(23);
  std::string before = text(*f);
  EXPECT_FALSE(splitTail(*f, "f.tail", 24));
  EXPECT_EQ(text(*f), before);
}

TEST(SplitTail, AFunctionWithAStackBufferIsLeftWhole) {
  // The tail would have a stack buffer of its own: what the head wrote there would be lost.
  std::unique_ptr<Func> f = chainOfLoops(30);
  f->stackBuffer(kF64, 4, "scratch");
  std::string before = text(*f);
  EXPECT_FALSE(splitTail(*f, "f.tail", 24));
  EXPECT_EQ(text(*f), before);
}
