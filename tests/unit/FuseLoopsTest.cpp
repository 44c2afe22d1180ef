// FuseLoopsTest.cpp: which adjacent loops loops::fuseLoops merges, and which it keeps apart
// because merging could change what a statement reads; which buffers loops::foldRows folds.
// (That merged and folded code computes what the loops apart did is the differential suite's
// check: it merges thousands of loops.)
#include "loops/Builder.h"
#include "loops/FoldRows.h"
#include "loops/FuseLoops.h"
#include "loops/LoopIR.h"
#include "loops/Printer.h"
#include "loops/Verifier.h"

#include <gtest/gtest.h>

#include <functional>
#include <sstream>

using namespace gradc;
using namespace gradc::loops;

namespace {

// void f(double *out, const double *in, const int64_t *idx, void *ws): buffers out, in and idx
// (the arguments; out and in noalias), a and b (workspace slots, disjoint from each other when
// `disjoint`).
struct Fixture {
  std::unique_ptr<Func> f = std::make_unique<Func>(
      "f", kVoid,
      std::vector<Param>{{"out", kPtr, true}, {"in", kPtr, true}, {"idx", kPtr, false}, {"ws", kPtr, false}});
  int32_t out, in, idx, a, b;
  explicit Fixture(bool disjoint = true) {
    out = f->argBuffer(0, kF64, "out");
    in = f->argBuffer(1, kF64, "in");
    idx = f->argBuffer(2, kI64, "idx");
    int32_t ws = f->argBuffer(3, kF64, "ws");
    a = f->viewBuffer(f->addr(ws, f->i64(0)), kF64, "a", disjoint ? 0 : -1);
    b = f->viewBuffer(f->addr(ws, f->i64(1024)), kF64, "b", disjoint ? 0 : -1);
  }
  // The two loops over [0, 8) that `first` and `second` fill, merged where allowed; the text.
  std::string fuse(const std::function<void(Builder &, ExprId)> &first,
                   const std::function<void(Builder &, ExprId)> &second) {
    Builder bld(*f);
    bld.loop(f->i64(0), f->i64(8), [&](ExprId i) { first(bld, i); });
    bld.loop(f->i64(0), f->i64(8), [&](ExprId i) { second(bld, i); });
    return finish(bld);
  }
  // The statements `bld` built, then a return, as f's body; merged; the text.
  std::string finish(Builder &bld) {
    bld.emit(f->returnStmt());
    f->body = bld.finish();
    fuseLoops(*f);
    EXPECT_EQ(verify(*f), "");
    std::ostringstream os;
    print(os, *f);
    return os.str();
  }
  ExprId load(int32_t buf, ExprId at) { return f->load(buf, at, kF64); }
};

// Loops at the top of the function's body.
size_t topLoopCount(const std::string &text) {
  size_t n = 0;
  for (size_t at = text.find("\n  for "); at != std::string::npos; at = text.find("\n  for ", at + 1))
    ++n;
  return n;
}

size_t loopCount(const std::string &text) {
  size_t n = 0;
  for (size_t at = text.find("for "); at != std::string::npos; at = text.find("for ", at + 1))
    ++n;
  return n;
}

} // namespace

TEST(FuseLoops, AConsumerOfTheSameRowJoinsItsProducer) {
  Fixture x;
  std::string text = x.fuse([&](Builder &b, ExprId i) { b.store(x.a, i, x.f->math(Math::Exp, x.load(x.in, i))); },
                            [&](Builder &b, ExprId i) { b.store(x.out, i, x.f->mul(x.load(x.a, i), x.load(x.in, i))); });
  EXPECT_EQ(loopCount(text), 1u) << text;
  EXPECT_NE(text.find("  for i0 in 0 .. 8 short {\n    a[i0] = exp(in[i0])\n    out[i0] = (a[i0] * in[i0])\n  }"),
            std::string::npos)
      << text;
}

TEST(FuseLoops, RowsOfInnerLoopsAreTheIterationsOwn) {
  // a[i * 4 + j], j < 4: iteration i writes and reads a[4i .. 4i + 3] only.
  Fixture x;
  auto row = [&](ExprId i, ExprId j) { return x.f->add(x.f->mul(i, x.f->i64(4)), j); };
  std::string text = x.fuse(
      [&](Builder &b, ExprId i) { b.loop(x.f->i64(0), x.f->i64(4), [&](ExprId j) { b.store(x.a, row(i, j), x.load(x.in, j)); }); },
      [&](Builder &b, ExprId i) {
        b.loop(x.f->i64(0), x.f->i64(4), [&](ExprId j) { b.store(x.out, row(i, j), x.load(x.a, row(i, j))); });
      });
  // Then the inner loops too: the enclosing i is the same in both.
  EXPECT_EQ(loopCount(text), 2u) << text;
  EXPECT_NE(text.find("    for i1 in 0 .. 4 short {\n      a[((i0 * 4) + i1)] = in[i1]\n      %0 = ((i0 * 4) + i1)\n      out[%0] = a[%0]\n"),
            std::string::npos)
      << text;
}

TEST(FuseLoops, AReadOfAnotherIterationsRowKeepsTheLoopsApart) {
  {
    // out[i] = a[i + 1]: merged, iteration i would read a[i + 1] before iteration i + 1 wrote it.
    Fixture x;
    std::string text = x.fuse([&](Builder &b, ExprId i) { b.store(x.a, i, x.load(x.in, i)); },
                              [&](Builder &b, ExprId i) {
                                b.store(x.out, i, x.load(x.a, x.f->add(i, x.f->i64(1))));
                              });
    EXPECT_EQ(loopCount(text), 2u) << text;
  }
  {
    // Inner rows of 5 in a stride of 4 overlap the next iteration's.
    Fixture x;
    auto row = [&](ExprId i, ExprId j) { return x.f->add(x.f->mul(i, x.f->i64(4)), j); };
    std::string text = x.fuse(
        [&](Builder &b, ExprId i) { b.loop(x.f->i64(0), x.f->i64(4), [&](ExprId j) { b.store(x.a, row(i, j), x.load(x.in, j)); }); },
        [&](Builder &b, ExprId i) {
          b.loop(x.f->i64(0), x.f->i64(5), [&](ExprId j) { b.store(x.out, row(i, j), x.load(x.a, row(i, j))); });
        });
    EXPECT_EQ(loopCount(text), 4u) << text;
  }
  {
    // A vector of 2 lanes at a[i]: it reaches the next row.
    Fixture x;
    std::string text = x.fuse([&](Builder &b, ExprId i) { b.store(x.a, i, x.load(x.in, i)); },
                              [&](Builder &b, ExprId i) {
                                b.store(x.out, x.f->mul(i, x.f->i64(2)), x.f->load(x.a, i, kF64.withLanes(2)));
                              });
    EXPECT_EQ(loopCount(text), 2u) << text;
  }
}

TEST(FuseLoops, AGatheredOrScatteredIndexKeepsTheLoopsApart) {
  {
    Fixture x;
    std::string text = x.fuse([&](Builder &b, ExprId i) { b.store(x.a, i, x.load(x.in, i)); },
                              [&](Builder &b, ExprId i) {
                                b.store(x.out, i, x.load(x.a, x.f->load(x.idx, i, kI64)));
                              });
    EXPECT_EQ(loopCount(text), 2u) << text;
  }
  {
    Fixture x;
    std::string text = x.fuse([&](Builder &b, ExprId i) { b.store(x.a, i, x.load(x.in, i)); },
                              [&](Builder &b, ExprId i) {
                                ExprId at = x.f->load(x.idx, i, kI64);
                                b.store(x.a, at, x.f->add(x.load(x.a, at), x.load(x.in, i)));
                              });
    EXPECT_EQ(loopCount(text), 2u) << text;
  }
}

TEST(FuseLoops, BuffersThatMayOverlapKeepTheLoopsApart) {
  auto text = [](bool disjoint) {
    Fixture x(disjoint);
    return x.fuse([&](Builder &b, ExprId i) { b.store(x.a, i, x.load(x.in, i)); },
                  [&](Builder &b, ExprId i) { b.store(x.b, i, x.f->add(x.load(x.a, i), x.load(x.in, i))); });
  };
  EXPECT_EQ(loopCount(text(true)), 1u);  // workspace slots of one disjoint group
  EXPECT_EQ(loopCount(text(false)), 2u); // two views that could be one memory
  // The other way: the second loop writes b, which may be the a the first loop read.
  auto reverse = [](bool disjoint) {
    Fixture x(disjoint);
    return x.fuse([&](Builder &b, ExprId i) { b.store(x.out, i, x.load(x.a, i)); },
                  [&](Builder &b, ExprId i) { b.store(x.b, x.f->add(i, x.f->i64(1)), x.load(x.out, i)); });
  };
  EXPECT_EQ(loopCount(reverse(true)), 1u);
  EXPECT_EQ(loopCount(reverse(false)), 2u);
}

TEST(FuseLoops, LoopsThatShareNoMemoryStayApart) {
  Fixture x;
  std::string text = x.fuse([&](Builder &b, ExprId i) { b.store(x.a, i, x.load(x.in, i)); },
                            [&](Builder &b, ExprId i) { b.store(x.out, i, x.f->floatImm(kF64, 1.0)); });
  EXPECT_EQ(loopCount(text), 2u) << text;
}

TEST(FuseLoops, AReductionIntoAnOuterLocalStaysItsOwnLoop) {
  Fixture x;
  Builder bld(*x.f);
  int32_t acc = bld.let(kF64, x.f->floatImm(kF64, 0.0), "acc");
  bld.loop(x.f->i64(0), x.f->i64(8), [&](ExprId i) { bld.store(x.a, i, x.load(x.in, i)); });
  bld.loop(x.f->i64(0), x.f->i64(8), [&](ExprId i) {
    bld.emit(x.f->accumulate(acc, x.load(x.a, i), x.f->add(x.f->hole(0, kF64), x.f->hole(1, kF64)), kReassocAcc,
                             x.f->floatImm(kF64, 0.0)));
  });
  bld.store(x.out, x.f->i64(0), x.f->localRef(acc));
  std::string text = x.finish(bld);
  EXPECT_EQ(loopCount(text), 2u) << text;
}

TEST(FuseLoops, AFillJoinsTheLoopThatUsesItThenTheRunJoinsItsProducer) {
  // a[i] = exp(in[i]); b[i] = 0; b[i] += a[i] * in[i]: the fill goes with the sum, and the sum
  // reads what the first loop wrote, so all three are one loop.
  Fixture x;
  Builder bld(*x.f);
  auto loop = [&](const std::function<void(ExprId)> &body) { bld.loop(x.f->i64(0), x.f->i64(8), body); };
  loop([&](ExprId i) { bld.store(x.a, i, x.f->math(Math::Exp, x.load(x.in, i))); });
  loop([&](ExprId i) { bld.store(x.b, i, x.f->floatImm(kF64, 0.0)); });
  loop([&](ExprId i) { bld.store(x.b, i, x.f->add(x.load(x.b, i), x.f->mul(x.load(x.a, i), x.load(x.in, i)))); });
  // A fill of out that nothing after it reads stays where it is.
  loop([&](ExprId i) { bld.store(x.out, i, x.f->floatImm(kF64, 1.0)); });
  std::string text = x.finish(bld);
  EXPECT_EQ(loopCount(text), 2u) << text;
  EXPECT_NE(text.find("    a[i0] = exp(in[i0])\n    b[i0] = 0\n    b[i0] = (b[i0] + (a[i0] * in[i0]))\n  }\n"
                          "  for i3 in 0 .. 8 short {\n    out[i3] = 1\n"),
            std::string::npos)
      << text;
}

TEST(FuseLoops, AWriteAfterAnotherIterationsReadKeepsTheLoopsApart) {
  // The first loop reads a[i + 7]; the second writes a[i + 8]. Apart, every read sees a as it
  // was; merged, iteration i would read the a[i + 7] that iteration i - 1 just wrote.
  Fixture x;
  std::string text = x.fuse([&](Builder &b, ExprId i) {
                              b.store(x.out, i, x.f->mul(x.load(x.a, x.f->add(i, x.f->i64(7))), x.load(x.in, i)));
                            },
                            [&](Builder &b, ExprId i) { b.store(x.a, x.f->add(i, x.f->i64(8)), x.load(x.in, i)); });
  EXPECT_EQ(loopCount(text), 2u) << text;
}

TEST(FuseLoops, RowsUnderDifferentOuterTermsAreNotTheSameRows) {
  // Inside an outer loop j: a[j * 8 + i] written, a[j * 16 + i] read: another j's rows.
  Fixture x;
  Builder bld(*x.f);
  bld.loop(x.f->i64(0), x.f->i64(4), [&](ExprId j) {
    auto at = [&](int64_t stride, ExprId i) { return x.f->add(x.f->mul(j, x.f->i64(stride)), i); };
    bld.loop(x.f->i64(0), x.f->i64(8), [&](ExprId i) { bld.store(x.a, at(8, i), x.load(x.in, i)); });
    bld.loop(x.f->i64(0), x.f->i64(8), [&](ExprId i) { bld.store(x.out, at(8, i), x.load(x.a, at(16, i))); });
  });
  std::string text = x.finish(bld);
  EXPECT_EQ(loopCount(text), 3u) << text;
}

TEST(FuseLoops, StreamingStoresCallsAndBoundsThatReadMemoryKeepTheLoopsApart) {
  {
    Fixture x;
    std::string text = x.fuse([&](Builder &b, ExprId i) { b.store(x.a, i, x.load(x.in, i)); },
                              [&](Builder &b, ExprId i) { b.store(x.out, i, x.load(x.a, i), kNone, kStreaming); });
    EXPECT_EQ(loopCount(text), 2u) << text;
  }
  {
    Fixture x;
    int32_t callee = x.f->callee({"g", kF64, {kPtr}, true});
    std::string text = x.fuse([&](Builder &b, ExprId i) { b.store(x.a, i, x.load(x.in, i)); },
                              [&](Builder &b, ExprId i) {
                                b.store(x.out, i, x.f->add(x.load(x.a, i), x.f->call(callee, {x.f->addr(x.a, i)})));
                              });
    EXPECT_EQ(loopCount(text), 2u) << text;
  }
  {
    // Two loops to n = idx[0]: merged, the second's bound would be read before the first ran.
    Fixture x;
    Builder bld(*x.f);
    ExprId n = x.f->load(x.idx, x.f->i64(0), kI64);
    bld.loop(x.f->i64(0), n, [&](ExprId i) { bld.store(x.a, i, x.load(x.in, i)); });
    bld.loop(x.f->i64(0), n, [&](ExprId i) { bld.store(x.out, i, x.load(x.a, i)); });
    std::string text = x.finish(bld);
    EXPECT_EQ(loopCount(text), 2u) << text;
  }
}

TEST(FuseLoops, ACallThatSaysWhatItTouchesMergesByItsRows) {
  // k(n, A, C) reads A[0 .. n) and writes C[0 .. n): called on row i of a and of b (rows of 4),
  // it joins the loop that fills a (with a let-bound inner range, as a tiled copy's) and the
  // loop that reads b. A footprint past the row, or of a size unknown now, keeps them apart.
  auto build = [](ExprId (*count)(Fixture &)) {
    Fixture x;
    Callee k{"k", kVoid, {kI64, kPtr, kPtr}, true};
    k.footprints = {{1, false, {{0, kNone}}}, {2, true, {{0, kNone}}}};
    int32_t callee = x.f->callee(k);
    Builder bld(*x.f);
    auto row = [&](ExprId i, ExprId j) { return x.f->add(x.f->mul(i, x.f->i64(4)), j); };
    bld.loop(x.f->i64(0), x.f->i64(8), [&](ExprId i) {
      bld.loop(x.f->i64(0), x.f->i64(2), [&](ExprId t) {
        int32_t lo = bld.let(kI64, x.f->mul(t, x.f->i64(2)), "lo");
        bld.loop(x.f->localRef(lo), x.f->add(x.f->localRef(lo), x.f->i64(2)),
                 [&](ExprId j) { bld.store(x.a, row(i, j), x.load(x.in, j)); });
      });
    });
    bld.loop(x.f->i64(0), x.f->i64(8), [&](ExprId i) {
      bld.emit(x.f->eval(x.f->call(callee, {count(x), x.f->addr(x.a, row(i, x.f->i64(0))),
                                            x.f->addr(x.b, row(i, x.f->i64(0)))})));
    });
    bld.loop(x.f->i64(0), x.f->i64(8), [&](ExprId i) {
      bld.loop(x.f->i64(0), x.f->i64(4), [&](ExprId j) { bld.store(x.out, row(i, j), x.load(x.b, row(i, j))); });
    });
    return x.finish(bld);
  };
  std::string merged = build([](Fixture &x) { return x.f->i64(4); });
  EXPECT_EQ(topLoopCount(merged), 1u) << merged;
  EXPECT_NE(merged.find("    %0 = (i0 * 4)\n    k(4, &a[%0], &b[%0])\n"), std::string::npos) << merged;
  for (ExprId (*count)(Fixture &) : {+[](Fixture &x) { return x.f->i64(5); },
                                     +[](Fixture &x) { return x.f->load(x.idx, x.f->i64(0), kI64); }}) {
    std::string apart = build(count);
    EXPECT_EQ(topLoopCount(apart), 3u) << apart;
  }
}

// Loops over rows of 4 (the look-ahead applies where an iteration sweeps a row): `row(b, i, fn)`
// stores fn(i * 4 + j) into b for each j.
struct RowLoops : Fixture {
  Builder bld{*f};
  ExprId at(ExprId i, ExprId j) { return f->add(f->mul(i, f->i64(4)), j); }
  void rows(const std::function<void(ExprId i, ExprId j)> &body) {
    bld.loop(f->i64(0), f->i64(8), [&](ExprId i) { bld.loop(f->i64(0), f->i64(4), [&](ExprId j) { body(i, j); }); });
  }
};

TEST(FuseLoops, LoopsKeepTheirOrder) {
  // a = in; out = 1; b = a * 2, by rows: the fill of out shares nothing with the others, and
  // stays between them (moved first, the reader of a could join a's loop; for bundle adjustment
  // that merged a scatter into the observation loop and ran slower).
  RowLoops x;
  x.rows([&](ExprId i, ExprId j) { x.bld.store(x.a, x.at(i, j), x.load(x.in, x.at(i, j))); });
  x.rows([&](ExprId i, ExprId j) { x.bld.store(x.out, x.at(i, j), x.f->floatImm(kF64, 1.0)); });
  x.rows([&](ExprId i, ExprId j) { x.bld.store(x.b, x.at(i, j), x.f->mul(x.load(x.a, x.at(i, j)), x.f->floatImm(kF64, 2.0))); });
  std::string text = x.finish(x.bld);
  EXPECT_EQ(topLoopCount(text), 3u) << text;
  EXPECT_LT(text.find("a[%"), text.find("out[(")) << text;
  EXPECT_LT(text.find("out[("), text.find("b[%")) << text;
}

TEST(FuseLoops, ALoopThatReadsWhatTwoLoopsWroteJoinsBoth) {
  // a = in; b = in * 2; out = a + b, by rows: the two fills share nothing, but the third reads
  // both, so the three are one loop.
  RowLoops x;
  x.rows([&](ExprId i, ExprId j) { x.bld.store(x.a, x.at(i, j), x.load(x.in, x.at(i, j))); });
  x.rows([&](ExprId i, ExprId j) { x.bld.store(x.b, x.at(i, j), x.f->mul(x.load(x.in, x.at(i, j)), x.f->floatImm(kF64, 2.0))); });
  x.rows([&](ExprId i, ExprId j) { x.bld.store(x.out, x.at(i, j), x.f->add(x.load(x.a, x.at(i, j)), x.load(x.b, x.at(i, j)))); });
  std::string text = x.finish(x.bld);
  EXPECT_EQ(topLoopCount(text), 1u) << text;
}

// FoldRows: rows of a workspace slot that one loop alone touches become one row.
TEST(FoldRows, AWorkspaceRowThatOneLoopWritesAndReadsIsReused) {
  auto build = [](bool disjoint, bool readAfter, bool otherRow) {
    RowLoops x;
    if (!disjoint)
      x.a = x.f->viewBuffer(x.f->addr(x.out, x.f->i64(0)), kF64, "a_any", -1);
    x.rows([&](ExprId i, ExprId j) { x.bld.store(x.a, x.at(i, j), x.load(x.in, x.at(i, j))); });
    x.rows([&](ExprId i, ExprId j) {
      ExprId from = otherRow ? x.f->add(x.at(i, j), x.f->i64(4)) : x.at(i, j);
      x.bld.store(x.b, x.at(i, j), x.f->mul(x.load(x.a, from), x.f->floatImm(kF64, 2.0)));
    });
    if (readAfter)
      x.bld.store(x.out, x.f->i64(0), x.load(x.a, x.f->i64(5)));
    x.bld.emit(x.f->returnStmt());
    x.f->body = x.bld.finish();
    fuseLoops(*x.f);
    foldRows(*x.f);
    EXPECT_EQ(verify(*x.f), "");
    std::ostringstream os;
    print(os, *x.f);
    return os.str();
  };
  // Merged into one loop, a and b are its own: both fold to row 0 (index j).
  std::string folded = build(true, false, false);
  EXPECT_EQ(topLoopCount(folded), 1u) << folded;
  EXPECT_NE(folded.find("      a[i1] = in[((i0 * 4) + i1)]\n"), std::string::npos) << folded;
  EXPECT_NE(folded.find("      b[i1] = (a[i1] * 2)\n"), std::string::npos) << folded;
  // Read after the loop, a keeps its rows (b still folds).
  std::string kept = build(true, true, false);
  EXPECT_NE(kept.find("a[%0] = in[%0]"), std::string::npos) << kept;
  EXPECT_NE(kept.find("out[0] = a[5]"), std::string::npos) << kept;
  // Not a workspace slot of a disjoint group (it may be memory the caller reads): kept.
  std::string any = build(false, false, false);
  EXPECT_NE(any.find("a_any[%0] = in[%0]"), std::string::npos) << any;
  // Reading the next row: the loops stay apart, a is touched by both and keeps its rows; b,
  // the second loop's own, folds.
  std::string apart = build(true, false, true);
  EXPECT_EQ(topLoopCount(apart), 2u) << apart;
  EXPECT_NE(apart.find("      a[%0] = in[%0]\n"), std::string::npos) << apart;
  EXPECT_NE(apart.find("      b[i3] = (a[(((i2 * 4) + i3) + 4)] * 2)\n"), std::string::npos) << apart;
}
