// ObjectCacheTest.cpp: the persistent cache of compiled objects. Entries round-trip; a
// corrupt, truncated or foreign entry is a miss and is removed; two processes storing one
// key at once both succeed; the least recently used entries are evicted beyond the bound;
// every part of the key changes it; a compile that hits runs the same code as one that did
// not.
#include "TestUtil.h"
#include "codegen/llvm/ObjectCache.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"

#include <gtest/gtest.h>
#include <llvm/Support/MemoryBuffer.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace gradc;
using namespace gradc::test;

namespace {

// A new folder under /tmp, removed when the test program ends.
std::string freshDir() {
  struct Folders {
    std::vector<std::string> made;
    ~Folders() {
      for (const std::string &d : made)
        if (std::system(("rm -rf '" + d + "'").c_str()) != 0)
          std::fprintf(stderr, "could not remove %s\n", d.c_str());
    }
  };
  static Folders folders;
  char tmpl[] = "/tmp/gradc-cache-test-XXXXXX";
  const char *d = mkdtemp(tmpl);
  if (d)
    folders.made.push_back(d);
  return d ? d : "";
}

std::string key(char c) { return std::string(64, c); }

std::vector<std::string> loaded(const ObjectCache &cache, const std::string &k) {
  std::vector<std::string> out;
  if (auto objects = cache.load(k))
    for (auto &o : *objects)
      out.push_back(o->getBuffer().str());
  return out;
}

std::string readFile(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

bool exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

TEST(ObjectCache, EntriesRoundTripAndBadOnesAreMissesThatAreRemoved) {
  ObjectCache cache({true, freshDir() + "/nested/dir", uint64_t(1) << 30});
  std::string a("first object\0with a zero", 24), b = "second";
  cache.store(key('a'), {a, b});
  EXPECT_EQ(loaded(cache, key('a')), (std::vector<std::string>{a, b}));
  EXPECT_TRUE(loaded(cache, key('b')).empty()); // absent
  std::string whole = readFile(cache.path(key('a')));
  // One byte of an object changed: the checksum differs.
  std::string corrupt = whole;
  corrupt[corrupt.size() - 2] ^= 1;
  writeFile(cache.path(key('a')), corrupt);
  EXPECT_TRUE(loaded(cache, key('a')).empty());
  EXPECT_FALSE(exists(cache.path(key('a'))));
  // Cut short.
  writeFile(cache.path(key('a')), whole.substr(0, whole.size() - 3));
  EXPECT_TRUE(loaded(cache, key('a')).empty());
  EXPECT_FALSE(exists(cache.path(key('a'))));
  // Another key's entry under this key's name, and a file that is not an entry at all.
  writeFile(cache.path(key('c')), whole);
  EXPECT_TRUE(loaded(cache, key('c')).empty());
  writeFile(cache.path(key('d')), "not a cache entry");
  EXPECT_TRUE(loaded(cache, key('d')).empty());
  // Replaced by the next store.
  cache.store(key('a'), {b});
  EXPECT_EQ(loaded(cache, key('a')), (std::vector<std::string>{b}));
  // Off: nothing read or written.
  ObjectCache off({false, freshDir(), uint64_t(1) << 30});
  off.store(key('a'), {a});
  EXPECT_FALSE(exists(off.path(key('a'))));
}

TEST(ObjectCache, TwoProcessesStoringOneKeyBothSucceed) {
  std::string dir = freshDir();
  ObjectCache cache({true, dir, uint64_t(1) << 30});
  std::string big(1 << 20, 'x'), other(1 << 20, 'y');
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    for (int i = 0; i < 30; ++i)
      cache.store(key('k'), {big});
    _exit(0);
  }
  int whole = 0;
  for (int i = 0; i < 30; ++i) {
    cache.store(key('k'), {other});
    std::vector<std::string> got = loaded(cache, key('k')); // always one writer's whole entry
    whole += got == std::vector<std::string>{big} || got == std::vector<std::string>{other};
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(whole, 30);
  std::vector<std::string> last = loaded(cache, key('k'));
  EXPECT_TRUE(last == std::vector<std::string>{big} || last == std::vector<std::string>{other});
  EXPECT_EQ(std::system(("test -z \"$(ls -A " + dir + " | grep tmp)\"").c_str()), 0) << "a temporary file was left";
}

TEST(ObjectCache, TheLeastRecentlyUsedEntriesAreEvicted) {
  std::string dir = freshDir();
  std::string obj(1000, 'o'); // each entry is about 1.1 kB: three fit in 3.5 kB
  ObjectCache cache({true, dir, 3500});
  cache.store(key('1'), {obj});
  cache.store(key('2'), {obj});
  cache.store(key('3'), {obj});
  // Entry 1 is used again: 2 is now the least recently used.
  struct timespec pause{0, 20 * 1000 * 1000};
  nanosleep(&pause, nullptr);
  EXPECT_FALSE(loaded(cache, key('1')).empty());
  nanosleep(&pause, nullptr);
  cache.store(key('4'), {obj});
  EXPECT_TRUE(exists(cache.path(key('1'))));
  EXPECT_FALSE(exists(cache.path(key('2'))));
  EXPECT_TRUE(exists(cache.path(key('3'))));
  EXPECT_TRUE(exists(cache.path(key('4'))));
}

TEST(ObjectCache, EveryPartOfTheKeyChangesIt) {
  auto cs = compileOk("dim n\ndef f(x: [n]) = sum(x * x)\ndef g(x: [n]) = sum(x)\n");
  ASSERT_TRUE(cs);
  Function &f = cs->program.funcs[0];
  BuildOptions base;
  base.source = cs->source->text;
  std::string k = cacheKeyOf(f, base);
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(k, cacheKeyOf(f, base));
  std::vector<std::pair<std::string, BuildOptions>> changed;
  auto variant = [&](const std::string &what, auto change) {
    BuildOptions o = base;
    change(o);
    changed.push_back({what, o});
  };
  variant("source", [](BuildOptions &o) { o.source += " "; });
  variant("bound dims", [](BuildOptions &o) { o.boundDims[0] = 4; });
  variant("fast math", [](BuildOptions &o) { o.opt.fastMath = true; });
  variant("opt level", [](BuildOptions &o) { o.codegen.optLevel = 0; });
  variant("target CPU", [](BuildOptions &o) { o.codegen.targetCpu = "generic"; });
  variant("prefix", [](BuildOptions &o) { o.lowering.prefix = "p_"; });
  variant("value entry", [](BuildOptions &o) { o.lowering.valueEntry = false; });
  variant("chunks", [](BuildOptions &o) { o.lowering.chunkThreshold = 10; });
  for (auto &[what, o] : changed)
    EXPECT_NE(cacheKeyOf(f, o), k) << what;
  EXPECT_NE(cacheKeyOf(cs->program.funcs[1], base), k) << "function";
  setenv("GRADC_BLAS", "off", 1);
  EXPECT_NE(cacheKeyOf(f, base), k) << "GRADC_BLAS";
  unsetenv("GRADC_BLAS");
  EXPECT_EQ(cacheKeyOf(f, base), k);
}

TEST(ObjectCache, ACompileThatHitsRunsTheSameCode) {
  const std::string src = "dim n\ndef f(x: [n], w) = sum(tanh(x * w)) + w * w\n";
  ObjectCache cache({true, freshDir(), uint64_t(1) << 30});
  std::vector<EvalResult> results;
  std::vector<bool> hits;
  for (int i = 0; i < 2; ++i) {
    auto cs = compileOk(src);
    ASSERT_TRUE(cs);
    BuildOptions o;
    o.cache = &cache;
    o.source = cs->source->text;
    std::string error;
    auto cf = compileFunction(cs->program.funcs[0], o, error);
    ASSERT_TRUE(cf) << error;
    hits.push_back(cf->stats.cacheHit);
    EXPECT_EQ(cf->stats.cacheEntry, cache.path(cacheKeyOf(cs->program.funcs[0], o)));
    results.push_back(invokeCompiled(*cf, cs->program.funcs[0], {vec({0.5, -1, 2}), scalar(0.7)}, {3}));
    ASSERT_TRUE(results.back().ok()) << results.back().error;
  }
  EXPECT_EQ(hits, (std::vector<bool>{false, true}));
  EXPECT_EQ(results[0].outputs[0].data, results[1].outputs[0].data);
  EXPECT_EQ(results[0].outputs[1].data, results[1].outputs[1].data);
  EXPECT_EQ(results[0].outputs[2].data, results[1].outputs[2].data);
  EXPECT_NEAR(results[1].outputs[0].data[0], std::tanh(0.35) + std::tanh(-0.7) + std::tanh(1.4) + 0.49, 1e-15);
}

} // namespace
