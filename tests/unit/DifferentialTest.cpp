// DifferentialTest.cpp: the differential suite (issue 6). Random programs, scalar (every
// scalar op, fan-out, deep chains) and tensor (broadcasting, every reduction, matmuls,
// indexing, pick, softmax, every comparison; fixed shapes and a run-time dim), each run
// through four engines and two oracles:
//   - the interpreter (the reference) and central finite differences of it;
//   - forward mode against reverse mode: <J v, u> = <v, J^T u> for random u, v;
//   - the JIT against the interpreter;
//   - emitted C (gradc emit --c, every program in one translation unit, compiled by the
//     system C compiler with -std=c99 -pedantic -Wall -Wextra -Werror) against the JIT;
// values to 1e-10 relative (the C compiler and LLVM contract a*b+c differently, and 120
// statements of tanh and exp carry that rounding to a few 1e-12).
// The generators must produce every op of the op table (in the differentiated graphs).
// GRADC_DIFF_PROGRAMS (default 10,000) and GRADC_DIFF_SEED choose the run. To bound its time
// every program runs on the JIT's fast pipeline (level 0) but one in GRADC_DIFF_O3_EVERY
// (10), which gets O3. Every program (one in GRADC_DIFF_C_EVERY, default 1) also runs as
// emitted C, compiled at -O0 in groups of 500 programs per translation unit, two compilers
// at a time.
// A failure keeps the emitted C in a temporary directory (GRADC_KEEP=1 keeps it always).
#include "ProgramGenerator.h"
#include "TensorProgramGenerator.h"
#include "TestUtil.h"
#include "abi/Abi.h"
#include "ir/OpTable.h"
#include "pipeline/Compile.h"
#include "pipeline/Emit.h"
#include "pipeline/Invoke.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

using namespace gradc;
using namespace gradc::test;

namespace {

constexpr int64_t kDimN = 5; // the symbolic tensor programs' n

struct Case {
  std::string src;
  std::vector<Tensor> at;        // parameters, then d_out for a non-scalar result
  std::vector<int64_t> dims;     // dim values by symbol
  std::vector<double> want;      // the JIT's value, then its gradients, flattened
};

int64_t envInt(const char *name, int64_t fallback) {
  const char *s = std::getenv(name);
  return s ? std::atoll(s) : fallback;
}

class Differential {
public:
  /// `fullJit`: the O3 pipeline (else the fast one, level 0); `withC`: emitted C too.
  void add(const std::string &src, std::mt19937_64 &rng, bool tensor, bool fullJit, bool withC);
  void emittedC();
  size_t programs = 0;
  size_t fdChecks = 0, fdSkipped = 0, identities = 0, jitValues = 0, cValues = 0;
  std::set<Op> opsSeen;

private:
  std::vector<Case> cases_;
};

void Differential::add(const std::string &src, std::mt19937_64 &rng, bool tensor, bool fullJit, bool withC) {
  SCOPED_TRACE(src);
  auto cs = compileOk(src);
  ASSERT_TRUE(cs);
  Function &fn = cs->program.funcs[0];
  Case c;
  c.src = src;
  c.dims.assign(fn.graph->dims().names.size(), kDimN);
  std::uniform_real_distribution<double> u(-1.5, 1.5);
  for (const ParamInfo &p : fn.params) {
    std::vector<int64_t> shape;
    for (const Dim &d : p.type.shape)
      shape.push_back(d.isLiteral() ? d.off : c.dims[static_cast<size_t>(d.sym)] + d.off);
    c.at.push_back(randomTensor(shape, rng));
    if (!tensor)
      c.at.back().data[0] = u(rng);
  }
  if (tensor)
    c.at[6].data = {3, 0, 2}; // labels
  Tensor value = valueOf(fn, c.at, c.dims);
  bool scalarResult = fn.graph->type(fn.result).isScalar();
  if (!scalarResult) {
    Tensor d = value;
    for (size_t i = 0; i < d.data.size(); ++i)
      d.data[i] = 0.25 * static_cast<double>(i % 4) - 0.3;
    c.at.push_back(d);
  }

  // The interpreter is the reference; central differences check it where f is smooth
  // (a few elements per parameter, scalar results).
  ValueGrad want = valueAndGrad(fn, c.at, c.dims);
  ASSERT_TRUE(want.error.empty()) << want.error;
  for (size_t n = 0; n < fn.graph->size(); ++n)
    opsSeen.insert(fn.graph->node(static_cast<NodeId>(n)).op);
  bool finite = true;
  for (double v : want.value.data)
    finite = finite && std::isfinite(v);
  if (finite && scalarResult)
    for (size_t p = 0; p < fn.params.size(); ++p) {
      if (fn.params[p].isConst)
        continue;
      for (int64_t i = 0; i < c.at[p].size(); i += 1 + c.at[p].size() / 3) {
        // Two steps: their difference estimates the finite difference's own error, which
        // is large where f oscillates fast (cos of a product of large values). Where they
        // differ by more than 10%, a kink lies within the steps (max, abs, relu of a value
        // within 4e-6 of its switch; seed 777 found one): the difference is no oracle there.
        double g = want.grads[p].data[static_cast<size_t>(i)];
        double fd = centralDifference(fn, c.at, p, static_cast<size_t>(i), c.dims, 1e-6);
        double coarse = centralDifference(fn, c.at, p, static_cast<size_t>(i), c.dims, 4e-6);
        if (relError(fd, coarse) > 0.1) {
          ++fdSkipped;
          continue;
        }
        EXPECT_LE(relError(g, fd), 1e-5 + 2 * relError(fd, coarse))
            << "d" << fn.params[p].name << "[" << i << "]: finite differences " << fd << " (step 1e-6), " << coarse
            << " (step 4e-6)";
        ++fdChecks;
      }
    }
  if (finite) {
    auto again = compileOk(src); // a fresh graph: differentiate() adds nodes
    std::vector<Tensor> params(c.at.begin(), c.at.begin() + static_cast<std::ptrdiff_t>(fn.params.size()));
    expectDotProductIdentity(again->program.funcs[0], params, c.dims, rng(), src);
    ++identities;
  }

  // The JIT against the interpreter.
  auto jitCs = compileOk(src);
  std::string error;
  BuildOptions build;
  build.codegen.optLevel = fullJit ? 3 : 0;
  auto cf = compileFunction(jitCs->program.funcs[0], build, error);
  ASSERT_TRUE(cf) << error;
  EvalResult got = invokeCompiled(*cf, jitCs->program.funcs[0], c.at, c.dims);
  ASSERT_TRUE(got.ok()) << got.error;
  ASSERT_EQ(got.outputs[0].data.size(), want.value.data.size());
  for (size_t i = 0; i < want.value.data.size(); ++i, ++jitValues)
    if (std::isfinite(want.value.data[i]))
      EXPECT_LE(relError(got.outputs[0].data[i], want.value.data[i]), 1e-10) << "value " << i;
  for (size_t p = 0; p < fn.params.size(); ++p) {
    ASSERT_EQ(got.outputs[p + 1].shape, fn.params[p].isConst ? std::vector<int64_t>{} : c.at[p].shape)
        << "d" << fn.params[p].name << " has its parameter's shape";
    for (size_t i = 0; finite && i < got.outputs[p + 1].data.size(); ++i, ++jitValues)
      EXPECT_LE(relError(got.outputs[p + 1].data[i], want.grads[p].data[i]), 1e-10) << "d" << fn.params[p].name << i;
  }
  if (!withC)
    return;
  for (const Tensor &t : got.outputs)
    c.want.insert(c.want.end(), t.data.begin(), t.data.end());
  cases_.push_back(std::move(c));
}

// Every case as emitted C with prefix p<k>_.
void Differential::emittedC() {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("gradc_differential_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // Groups of kGroup programs, each one translation unit and one compiler process: the
  // emitted files include their own (guarded) headers and every symbol is prefixed, so they
  // concatenate as they are; bounded groups keep the compiler's time and memory linear.
  constexpr size_t kGroup = 500;
  const char *cc = std::getenv("CC") ? std::getenv("CC") : "cc";
  struct Group {
    size_t first, last;
    std::string exe, out, build;
  };
  std::vector<Group> groups;
  for (size_t first = 0; first < cases_.size(); first += kGroup) {
    size_t last = std::min(cases_.size(), first + kGroup);
    std::string group = std::to_string(first / kGroup);
    std::string driver = "#include <stdio.h>\n", calls, files;
    for (size_t k = first; k < last; ++k) {
      auto cs = compileOk(cases_[k].src);
      ASSERT_TRUE(cs);
      Function &fn = cs->program.funcs[0];
      EmitOptions eo;
      eo.prefix = "p" + std::to_string(k) + "_";
      eo.sourceName = "case" + std::to_string(k) + ".expr";
      std::string base = (dir / ("case" + std::to_string(k))).string(), error;
      std::ofstream(base + ".expr") << cases_[k].src; // beside its C, to reproduce a failure
      ASSERT_TRUE(emitCSource({&fn}, *cs->program.dims, eo, base, error)) << error;
      AbiSet abi = describeAbi(fn, *cs->program.dims, {}, eo.prefix);
      driver += "#include \"case" + std::to_string(k) + ".h\"\n";
      calls += driverFor(k, fn, abi, cases_[k].at, cases_[k].dims);
      files += "#include \"case" + std::to_string(k) + ".c\"\n";
    }
    driver += "static double ws[1 << 14];\n" + calls + "int main(void) {\n";
    for (size_t k = first; k < last; ++k)
      driver += "  printf(\"case %d\\n\", " + std::to_string(k) + ");\n  run" + std::to_string(k) + "();\n";
    driver += "  return 0;\n}\n";
    std::ofstream((dir / ("driver" + group + ".c")).string()) << driver;
    std::ofstream((dir / ("all" + group + ".c")).string()) << files << "#include \"driver" << group << ".c\"\n";

    std::string exe = (dir / ("driver" + group)).string(), out = (dir / ("out" + group + ".txt")).string();
    std::string build = std::string(cc) + " -std=c99 -pedantic -Wall -Wextra -Werror -O0 -I " + dir.string() + " " +
                        (dir / ("all" + group + ".c")).string() + " -lm -o " + exe + " 2>&1";
    groups.push_back({first, last, exe, out, build});
  }
  // The compilers run two at a time (CI has two cores), each group then runs and is read.
  std::vector<int> built(groups.size(), -1);
  std::atomic<size_t> nextGroup{0};
  auto compileGroups = [&] {
    for (size_t g; (g = nextGroup++) < groups.size();)
      built[g] = std::system(groups[g].build.c_str());
  };
  std::thread helper(compileGroups);
  compileGroups();
  helper.join();
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const Group &grp = groups[gi];
    size_t last = grp.last;
    const std::string &out = grp.out;
    ASSERT_EQ(built[gi], 0) << grp.build;
    ASSERT_EQ(std::system((grp.exe + " > " + out).c_str()), 0);

    std::ifstream in(out);
    std::string line;
    int k = -1;
    size_t next = 0;
    auto finishCase = [&] {
      if (k >= 0)
        EXPECT_EQ(next, cases_[static_cast<size_t>(k)].want.size()) << cases_[static_cast<size_t>(k)].src;
    };
    while (std::getline(in, line)) {
      if (line.rfind("case ", 0) == 0) {
        finishCase();
        k = std::stoi(line.substr(5));
        next = 0;
        continue;
      }
      const Case &c = cases_[static_cast<size_t>(k)];
      ASSERT_LT(next, c.want.size()) << c.src;
      double got = std::strtod(line.c_str(), nullptr), want = c.want[next++];
      if (std::isfinite(want))
        EXPECT_LE(relError(got, want), 1e-10) << c.src << "output " << next - 1 << ": C " << got << ", JIT " << want;
      else
        EXPECT_TRUE(std::isnan(want) ? std::isnan(got) : got == want) << c.src;
      ++cValues;
    }
    finishCase();
    EXPECT_EQ(k + 1, static_cast<int>(last));
  }
  if (!::testing::Test::HasFailure() && !std::getenv("GRADC_KEEP"))
    fs::remove_all(dir);
  else
    std::cerr << "emitted C, driver and output kept in " << dir << "\n";
}

} // namespace

TEST(Differential, RandomProgramsThroughEveryEngine) {
  int64_t programs = envInt("GRADC_DIFF_PROGRAMS", 10000);
  uint64_t seed = static_cast<uint64_t>(envInt("GRADC_DIFF_SEED", 2026));
  auto start = std::chrono::steady_clock::now();
  Differential diff;
  std::mt19937_64 rng(seed);
  ProgramGenerator scalarGen(seed + 1);
  TensorProgramGenerator tensorGen(seed + 2), symbolicGen(seed + 3, true);
  int64_t fullJitEvery = envInt("GRADC_DIFF_O3_EVERY", 10), cEvery = envInt("GRADC_DIFF_C_EVERY", 1);
  for (int64_t k = 0; k < programs && !::testing::Test::HasFatalFailure(); ++k) {
    bool full = k % fullJitEvery == 0, withC = k % cEvery == 0;
    switch (k % 4) {
    case 0: // deep chains now and then
      diff.add(scalarGen.generate(1 + static_cast<int>(k % 5), k % 40 == 0 ? 120 : 1 + static_cast<int>(k % 30)), rng,
               false, full, withC);
      break;
    case 1:
    case 2:
      diff.add(tensorGen.program(), rng, true, full, withC);
      break;
    default:
      diff.add(symbolicGen.program(), rng, true, full, withC);
    }
    ++diff.programs;
  }
  // Sums that ride on a gradient's loop (Schedule.h's SumRider; the generators make none),
  // through every engine and as emitted C.
  for (const char *src :
       {"def f(A: [3, 4], b: [4], c: [3, 1], s, M: [4, 3], v: [3], y: const i32[3]) =\n"
        "  sum(100*(b[1:4]-b[0:3]^2)^2 + (1-b[0:3])^2)\n",
        "dim n\ndef f(A: [3, n], b: [n], c: [3, 1], s, M: [n, 3], v: [3], y: const i32[3]) =\n"
        "  sum(100*(b[1:n]-b[0:n-1]^2)^2 + (1-b[0:n-1])^2)\n",
        "dim n\ndef f(A: [3, n], b: [n], c: [3, 1], s, M: [n, 3], v: [3], y: const i32[3]) =\n"
        "  sum(tanh(b[2:n] - b[0:n-2]) * s)\n",
        "dim n\ndef f(A: [3, n], b: [n], c: [3, 1], s, M: [n, 3], v: [3], y: const i32[3]) =\n"
        "  sum(b[1:n] * b[0:n-1]) + sum(exp(b[0:n-1]) * b[1:n]) * s\n"}) {
    diff.add(src, rng, true, true, true);
    ++diff.programs;
  }
  ASSERT_FALSE(::testing::Test::HasFailure());
  diff.emittedC();

  // Coverage: a new op in the op table must be reached by the generators.
  std::string missing;
  for (int op = 0; op < kNumOps; ++op)
    if (!diff.opsSeen.count(static_cast<Op>(op)) && !opInfo(static_cast<Op>(op)).inlinedFirst)
      missing += std::string(" ") + opInfo(static_cast<Op>(op)).name;
  EXPECT_EQ(missing, "") << "ops no generated program (or its gradient) uses";
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Kinks within the steps are rare: a generator or rule change that makes them common would
  // hollow the finite-difference checks out.
  EXPECT_LT(diff.fdSkipped * 100, diff.fdChecks + 1) << diff.fdSkipped << " checks skipped at kinks";
  std::cout << diff.programs << " programs (seed " << seed << "): " << diff.fdChecks << " finite-difference checks ("
            << diff.fdSkipped << " skipped at kinks), "
            << diff.identities << " JVP/VJP identities, " << diff.jitValues << " JIT values, " << diff.cValues
            << " emitted-C values, " << seconds << " s\n";
}
