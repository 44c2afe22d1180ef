// main.cpp: the gradc command line: parses arguments and dispatches to a subcommand.
#include "Commands.h"

#include "gradc/Diagnostics.h"
#include "support/Numbers.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <iostream>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <latch>
#include <thread>
#include <vector>

using namespace gradc::cli;

// The heap in 2 MiB pages: a large compile touches hundreds of MiB of fresh heap, and every
// first touch of a 4 KiB page is a fault (on a VM, an exit to the hypervisor): `gradc run` on
// 10,000 nodes took 240 ms with them, 140-160 ms without (BENCHMARKS.md). glibc asks for
// transparent huge pages only under GLIBC_TUNABLES=glibc.malloc.hugetlb=1, which is read
// before main; so the heap's first quarter of RAM (at most 2 GiB) is reserved here, as
// address space only (pages are allocated when first touched), and advised.
static void hugePageHeap() {
  constexpr size_t kHuge = size_t(2) << 20, kBlock = size_t(16) << 20;
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0)
    return;
  size_t reserve = std::clamp(static_cast<size_t>(pages) * static_cast<size_t>(pageSize) / 4,
                              size_t(256) << 20, size_t(INT_MAX) - kHuge); // mallopt takes an int
  mallopt(M_TOP_PAD, static_cast<int>(reserve));
  char *start = static_cast<char *>(sbrk(0));
  // Below the mmap threshold, so from the heap, which grows by the pad and keeps it (the
  // trim threshold). `volatile`: the compiler may not drop the pair.
  void *volatile block = malloc(kBlock);
  free(block);
  char *end = static_cast<char *>(sbrk(0));
  mallopt(M_TOP_PAD, 64 << 20);
  auto up = [&](char *p) {
    return reinterpret_cast<char *>((reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1));
  };
  if (start != reinterpret_cast<char *>(-1) && end > up(start))
    madvise(up(start), static_cast<size_t>(end - up(start)), MADV_HUGEPAGE);
}

// Long programs are compiled on several threads (CompileOptions::threads), and glibc gives
// each thread its own arena: heaps of 64 MiB, mapped at 64 MiB boundaries, which grow page by
// page and so fault in 4 KiB at a time. Here, before any work, one short-lived thread per
// extra core grows an arena to nearly a full heap (address space only), advises the heap
// MADV_HUGEPAGE and exits; glibc keeps the arenas of exited threads for the next threads,
// which so start with huge pages. (GLIBC_TUNABLES=glibc.malloc.hugetlb=1 does this for every
// heap, but is read before main.) The compiler's threads then spend about 5 ms less of a
// 70 ms code generation at 10,000 nodes.
static void hugePageArenas() {
  constexpr uintptr_t kHeap = uintptr_t(64) << 20; // glibc's HEAP_MAX_SIZE on 64-bit
  constexpr size_t kBlock = size_t(31) << 20;      // under the mmap threshold: from the arena
  unsigned extra = std::clamp(std::thread::hardware_concurrency(), 1u, 8u) - 1;
  std::latch allHold(extra); // distinct threads alive at once get distinct arenas
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < extra; ++t)
    threads.emplace_back([&] {
      void *volatile a = malloc(kBlock);
      void *volatile b = malloc(kBlock);
      if (a)
        madvise(reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(a) & ~(kHeap - 1)), kHeap,
                MADV_HUGEPAGE);
      allHold.arrive_and_wait();
      free(a);
      free(b);
    });
  for (std::thread &t : threads)
    t.join();
}

static void addCommon(CLI::App *cmd, CommonOptions &o) {
  cmd->add_option("FILE", o.file, "the .expr source file")->required();
  cmd->add_option("--fn", o.fn, "the function to use (may be left out when the file defines one)");
  cmd->add_option("--dump", o.dump, "print a stage and stop: ast, ir (the checked graph), grad "
                                    "(the value-and-gradient graph), opt (after graph "
                                    "optimization), loops (the loop IR), llvm (the optimized LLVM IR)")
      ->check(CLI::IsMember({"ast", "ir", "grad", "opt", "loops", "llvm"}));
  cmd->add_option("--engine", o.engine, "how to evaluate: jit (native code, the default) or "
                                        "interp (the reference interpreter)")
      ->check(CLI::IsMember({"jit", "interp"}));
  cmd->add_flag("--stats", o.stats, "print node counts before and after each graph pass and "
                                    "the time of each compilation stage (to stderr)");
  cmd->add_flag("--fast-math", o.fastMath, "allow rewrites that are exact only up to signed "
                                           "zeros and NaN (x+0 -> x, x*0 -> 0, x-x -> 0)");
  cmd->add_option("--target-cpu", o.targetCpu, "generate code for this CPU (default: the "
                                               "host's; 'generic' for a baseline x86-64)");
  cmd->add_option("--opt-level", o.optLevel, "LLVM optimization: 3 (O3 with vectorization) or 0 "
                                             "(none, fast instruction selection); default: 3, "
                                             "or 0 for giant straight-line code")
      ->check(CLI::IsMember({0, 3}));
  cmd->add_option("--threads", o.threads, "threads that compile a long program's pieces in "
                                         "parallel (default: one per core, at most 8)")
      ->check(CLI::Range(1u, 256u));
  cmd->add_flag("--no-blas", o.noBlas, "keep large matrix products in gradc's generated code "
                                       "instead of calling CBLAS (when gradc is built with it)");
  cmd->add_flag("--no-cache", o.noCache, "compile afresh: neither read nor write the cache of compiled code "
                                         "(~/.cache/gradc, or GRADC_CACHE_DIR)");
}

// A point as `gradc run` takes it (run, graph).
static void addPoint(CLI::App *cmd, InputSpec &in) {
  cmd->add_option("--at", in.at, "NAME=V[,V...]: a parameter's values, row-major (repeat once per parameter)");
  cmd->add_option("--at-file", in.atFile,
                  "a JSON object of parameter values (numbers and nested arrays); --at entries override it");
  cmd->add_option("--dim", in.dims, "N=SIZE: the size of an unbound dim");
  cmd->add_option("--d-out", in.dOut, "V[,V...]: the upstream gradient for a non-scalar result (default: ones)");
  cmd->add_flag("--ignore-unknown", in.ignoreUnknown,
                "skip values of names the function does not take (one --at-file for several functions)");
}

// gradc graph, emit and check: their options.
static CLI::App *addGraphCommand(CLI::App &app, GraphOptions &graph) {
  CLI::App *graphCmd = app.add_subcommand(
      "graph", "draw a function's computational graph as written; at a point (--at, --at-file), "
               "each edge carries its value (green) and gradient (red)");
  graphCmd->add_option("FILE", graph.common.file, "the .expr source file")->required();
  graphCmd->add_option("--fn", graph.common.fn, "the function to draw (may be left out when the file defines one)");
  addPoint(graphCmd, graph.inputs);
  graphCmd->add_option("-o,--output", graph.out,
                       "write the picture here, in the format its name ends with: .dot, .svg, .png or .pdf "
                       "(default: DOT to standard output)");
  graphCmd->add_flag("--full-values", graph.fullValues, "write every element of a tensor, not a summary");
  graphCmd->add_flag("--expand", graph.expand,
                     "draw each call of the file's functions open, its gates in a box, instead of as one gate");
  graphCmd->add_option("--stage", graph.stage,
                       "source (the graph as written, the default), grad (the forward and backward graph "
                       "that is compiled) or opt (the same after optimization)")
      ->check(CLI::IsMember({"source", "grad", "opt"}));
  graphCmd->add_option("--max-nodes", graph.maxNodes,
                       "above this many nodes, statements are grouped (default 300)")
      ->check(CLI::Range(size_t{2}, size_t{1} << 20));
  return graphCmd;
}

static CLI::App *addEmitCommand(CLI::App &app, EmitOptionsCli &emit) {
  CLI::App *emitCmd = app.add_subcommand(
      "emit", "write a C header and an object file with the value and gradient functions of "
              "every function in the file (the C ABI of docs/ABI.md)");
  emitCmd->add_option("FILE", emit.common.file, "the .expr source file")->required();
  emitCmd->add_option("--fn", emit.common.fn, "emit only this function");
  emitCmd->add_option("-o,--output", emit.out, "OUT: write OUT.h and OUT.o (default: FILE without .expr)");
  emitCmd->add_flag("--object", emit.objectFlag, "write OUT.h and the object file OUT.o (the default)");
  emitCmd->add_flag("--c", emit.cSource, "write OUT.h and self-contained C99 source OUT.c");
  emitCmd->add_flag("--check", emit.gradcheck,
                    "also write F_gradcheck(...): the worst error of F_grad against central differences");
  emitCmd->add_option("--prefix", emit.prefix, "P: prepend P to every exported symbol");
  emitCmd->add_option("--dim", emit.dims, "N=SIZE: fix a dim at compile time (it is then not an argument)");
  emitCmd->add_option("--dump", emit.common.dump, "print a stage of what the file would define and write nothing: ast, "
                                                  "ir, grad, opt (as run prints them, for each function), loops (the "
                                                  "loop IR both --object and --c print), llvm (the object's optimized LLVM IR)")
      ->check(CLI::IsMember({"ast", "ir", "grad", "opt", "loops", "llvm"}));
  emitCmd->add_option("--target", emit.triple, "TRIPLE: generate code for another target (default: the host)");
  emitCmd->add_option("--target-cpu", emit.common.targetCpu, "CPU: tune for this CPU (default: the host's; 'generic' for any)");
  emitCmd->add_flag("--fast-math", emit.common.fastMath, "allow rewrites exact only up to signed zeros and NaN");
  emitCmd->add_option("--opt-level", emit.common.optLevel, "LLVM optimization of the object: 3 (O3 with "
                                                           "vectorization) or 0 (none); default: 3, or 0 for "
                                                           "giant straight-line code")
      ->check(CLI::IsMember({0, 3}));
  emitCmd->add_flag("--stats", emit.common.stats, "print what was written (to stderr)");
  return emitCmd;
}

static CLI::App *addCheckCommand(CLI::App &app, CheckOptions &check) {
  CLI::App *checkCmd = app.add_subcommand(
      "check", "compare the gradient with central finite differences at a random point "
               "(exit code 3 when they disagree)");
  addCommon(checkCmd, check.common);
  checkCmd->add_option("--seed", check.seed, "seed of the random point (default 0)")
      ->check(CLI::Validator(
          [](std::string &s) {
            return s.find_first_not_of("0123456789") == std::string::npos && !s.empty()
                       ? std::string()
                       : "the seed is an integer from 0 to 18446744073709551615, not '" + s + "'";
          },
          "SEED"));
  checkCmd->add_option("--dim", check.inputs.dims, "N=SIZE: the size of a dim (default 3)");
  checkCmd->add_option("--at", check.inputs.at, "NAME=V[,V...]: check at this point (as run takes it) instead of a "
                                                "random one; every parameter is then given");
  checkCmd->add_option("--at-file", check.inputs.atFile, "a JSON object of the point's values (as run takes it)");
  checkCmd->add_option("--d-out", check.inputs.dOut,
                       "V[,V...]: with --at/--at-file, the upstream gradient for a non-scalar result (default: random)");
  checkCmd->add_flag("--ignore-unknown", check.inputs.ignoreUnknown,
                     "skip values of names the function does not take");
  checkCmd->add_option("--tolerance", check.tolerance,
                       "largest accepted relative error (default 1e-6)")
      ->check(CLI::Validator(
          [](std::string &s) {
            double v;
            return gradc::parseReal(s, v) == gradc::NumberStatus::Ok && v >= 0
                       ? std::string()
                       : "the tolerance is a number >= 0, not '" + s + "'";
          },
          "TOLERANCE"));
  return checkCmd;
}

int main(int argc, char **argv) {
  // Keep freed memory in the process: big graphs grow and free large arrays, and giving
  // them back to the kernel only to fault them in again costs more than the memory.
  mallopt(M_MMAP_THRESHOLD, 32 << 20); // glibc's maximum on 64-bit
  mallopt(M_TRIM_THRESHOLD, INT_MAX); // and never give the reserved heap back
  hugePageHeap();
  hugePageArenas();
  CLI::App app{"gradc: a compiler for differentiable math. It differentiates .expr programs in "
               "reverse mode and evaluates values and gradients.",
               "gradc"};
  app.set_version_flag("--version", std::string("gradc ") + GRADC_VERSION);
  app.require_subcommand(1);

  RunOptions run;
  CLI::App *runCmd = app.add_subcommand("run", "print a function's value and the gradient of "
                                               "every non-const parameter");
  addCommon(runCmd, run.common);
  addPoint(runCmd, run.inputs);
  runCmd->add_flag("--json", run.json, "print one JSON object");
  GraphOptions graph;
  CLI::App *graphCmd = addGraphCommand(app, graph);
  EmitOptionsCli emit;
  CLI::App *emitCmd = addEmitCommand(app, emit);
  CheckOptions check;
  addCheckCommand(app, check);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int code = app.exit(e);
    return code == 0 ? kOk : kBadCommandLine;
  }
  try {
    if (runCmd->parsed())
      return runCommand(run);
    if (emitCmd->parsed())
      return emitCommand(emit);
    if (graphCmd->parsed())
      return graphCommand(graph);
    return checkCommand(check);
  } catch (const gradc::InternalError &e) {
    std::cerr << "gradc: " << e.what() << "\n(this is a bug in gradc; please report it with the "
              << "input that caused it)\n";
    return 70;
  } catch (const std::bad_alloc &) {
    std::cerr << "gradc: error: out of memory\n";
    return kUserError;
  }
}
