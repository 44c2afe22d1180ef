// CompactLoopsTest.cpp: which loops loops::compactLoops marks. (What LLVM makes of the mark,
// and that such code computes what the interpreter does: JitTest's
// AFunctionOfManyLoopsIsCompiledCompactly.)
#include "loops/Builder.h"
#include "loops/CompactLoops.h"
#include "loops/LoopIR.h"
#include "loops/Printer.h"
#include "loops/Verifier.h"

#include "LoopText.h"

#include <gtest/gtest.h>

using namespace gradc;
using namespace gradc::loops;

namespace {

std::string text(const Func &f) { return test::loopText(f); }

using test::occurrences;

// void f(int64_t n, double *out): `long` loops over [0, n) adding 1 to out, then one loop
// over 8 elements (short: LLVM vectorizes it one vector at a time already) around a loop of
// 8 (vectorized within an iteration).
std::unique_ptr<Func> loopsOverN(int longLoops) {
  auto f = std::make_unique<Func>("f", kVoid, std::vector<Param>{{"n", kI64, false}, {"out", kPtr, true}});
  Builder b(*f);
  int32_t out = f->argBuffer(1, kF64, "out");
  for (int k = 0; k < longLoops; ++k)
    b.loop(f->i64(0), f->arg(0), [&](ExprId i) {
      b.store(out, i, f->add(f->load(out, i, kF64), f->floatImm(kF64, 1.0)));
    }, kRolled);
  b.loop(f->i64(0), f->i64(8), [&](ExprId i) {
    b.loop(f->i64(0), f->i64(8), [&](ExprId j) {
      ExprId at = f->add(f->mul(i, f->i64(8)), j);
      b.store(out, at, f->add(f->load(out, at, kF64), f->floatImm(kF64, 2.0)));
    });
  });
  b.emit(f->returnStmt());
  f->body = b.finish();
  return f;
}

} // namespace

TEST(CompactLoops, AFunctionOfManyLoopsHasItsLongLoopsMarked) {
  // 62 + 2 loops: kCompactLoops. The loop of 8 around a row of 8 and that row stay as they
  // were: LLVM already vectorizes them without copies.
  static_assert(kCompactLoops == 64);
  std::unique_ptr<Func> f = loopsOverN(62);
  EXPECT_TRUE(compactLoops(*f));
  std::string s = text(*f);
  EXPECT_EQ(verify(*f), "") << s;
  EXPECT_EQ(occurrences(s, "for "), 64u) << s;
  EXPECT_EQ(occurrences(s, " in 0 .. n rolled compact {"), 62u) << s;
  EXPECT_EQ(occurrences(s, " compact"), 62u) << s;
  EXPECT_EQ(occurrences(s, " in 0 .. 8 short within {"), 1u) << s;
  EXPECT_EQ(occurrences(s, " in 0 .. 8 short {"), 1u) << s;
}

TEST(CompactLoops, AFunctionOfFewerLoopsIsLeftAsItIs) {
  std::unique_ptr<Func> f = loopsOverN(61);
  std::string before = text(*f);
  EXPECT_FALSE(compactLoops(*f));
  EXPECT_EQ(text(*f), before);
  EXPECT_EQ(occurrences(before, " compact"), 0u) << before;
}

TEST(CompactLoops, OnlyLoopsTakeTheMark) {
  std::unique_ptr<Func> f = loopsOverN(1);
  StmtId ret = f->stmt(f->body).list.back();
  EXPECT_ANY_THROW(f->addLoopFlags(ret, kCompact));
  StmtId loop = f->stmt(f->body).list.front();
  EXPECT_ANY_THROW(f->addLoopFlags(loop, kRolled)); // not a hint that may be added later
  f->addLoopFlags(loop, kCompact);
  EXPECT_NE(text(*f).find(" in 0 .. n rolled compact {"), std::string::npos) << text(*f);
}
