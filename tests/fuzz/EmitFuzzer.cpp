// EmitFuzzer.cpp: libFuzzer target for emitted C (`gradc emit --c`). The input chooses a
// program from the grammar-aware generators of the property tests (as PipelineFuzzer does:
// scalar programs, tensor programs with fixed shapes or a run-time dim), the dim's value and
// whether it is bound at compile time, whether f_gradcheck is emitted too, and the point to
// evaluate at. The program is emitted as C99 with a prefix, compiled together with a driver
// (tests/unit/TestUtil.h's driverFor) in one compiler process with
//   -std=c99 -pedantic -Wall -Wextra -Werror -O1 -fsanitize=address,undefined
// and run; every value and gradient it prints must equal the interpreter's within 1e-9
// relative. A compile error, a sanitizer report (a non-zero exit) or a mismatch aborts with
// the program; the scratch files stay in the directory it names.
// The C compiler is clang-19, or `cc` when clang-19 is not on PATH.
#include "../unit/ProgramGenerator.h"
#include "../unit/TensorProgramGenerator.h"
#include "../unit/TestUtil.h"
#include "autodiff/ReverseMode.h"
#include "abi/Abi.h"
#include "interp/Interpreter.h"
#include "pipeline/Emit.h"
#include "pipeline/Pipeline.h"

#include <fuzzer/FuzzedDataProvider.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// The scratch directory of this process, removed at a normal exit (a failure keeps it).
struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("gradc_emit_fuzz_" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(dir); }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

Scratch &scratch() {
  static Scratch s;
  return s;
}

const std::string &cCompiler() {
  static const std::string cc =
      std::system("command -v clang-19 > /dev/null 2>&1") == 0 ? "clang-19" : "cc";
  return cc;
}

std::string slurp(const fs::path &p, size_t limit = 16000) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  return text.size() > limit ? text.substr(0, limit) + "\n[...]\n" : text;
}

[[noreturn]] void fail(const std::string &what, const std::string &src) {
  std::fprintf(stderr, "EmitFuzzer: %s\n--- program ---\n%s--- files kept in %s ---\n",
               what.c_str(), src.c_str(), scratch().dir.c_str());
  std::abort();
}

// A run of f_gradcheck (emit --check) with a workspace of exactly its size: it prints
// "gradcheck <worst error>". Not compared (kinks make it large), only run under the sanitizers.
std::string gradcheckDriver(const gradc::Function &fn, const gradc::AbiSet &abi,
                            const std::vector<gradc::Tensor> &at,
                            const std::vector<int64_t> &dims) {
  using namespace gradc;
  std::string d = "static void check0(void) {\n", call = abi.gradcheck.symbol + "(";
  for (size_t i = 0; i < abi.gradcheck.args.size(); ++i) {
    const AbiArg &a = abi.gradcheck.args[i];
    call += i ? ", " : "";
    switch (a.role) {
    case ArgRole::Dim:
      call += std::to_string(dims[static_cast<size_t>(a.index)]);
      break;
    case ArgRole::Param:
    case ArgRole::DOut: {
      const Tensor &t =
          at[a.role == ArgRole::DOut ? fn.params.size() : static_cast<size_t>(a.index)];
      if (!a.pointer) {
        call += test::cNumber(t.data[0]);
      } else {
        d += test::cArray(cTypeName(a.dtype), "c" + std::to_string(i), t);
        call += "c" + std::to_string(i);
      }
      break;
    }
    case ArgRole::Workspace:
      call += "ws";
      break;
    default:
      fail("f_gradcheck has an output argument", "");
    }
  }
  std::string size = abi.gradcheckWorkspaceSizeSymbol + "(";
  for (size_t i = 0; i < abi.dimArgs.size(); ++i)
    size += (i ? ", " : "") + std::to_string(dims[static_cast<size_t>(abi.dimArgs[i])]);
  size += ")";
  d += "  void *ws = malloc(" + size + " ? " + size + " : 1);\n";
  d += "  if (!ws) { printf(\"ws\\n\"); return; }\n";
  d += "  printf(\"gradcheck %.17g\\n\", (double)" + call + "));\n  free(ws);\n}\n";
  return d;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzedDataProvider in(data, size);
  // About two executions a second (a C compiler and a sanitized program per input): in a
  // bounded run libFuzzer's inputs stay a few bytes long. So what the input has no bytes left
  // for (the generator's seed needs 8) comes from its hash: every input a different program,
  // of any size, at a point of its own.
  uint64_t hash = 14695981039346656037ull; // FNV-1a
  for (size_t i = 0; i < size; ++i)
    hash = (hash ^ data[i]) * 1099511628211ull;
  std::mt19937_64 rng(hash);
  auto choose = [&](int lo, int hi) {
    return in.remaining_bytes() ? in.ConsumeIntegralInRange(lo, hi)
                                : std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  int kind = choose(0, 2); // scalar, tensor, tensor with a run-time dim
  bool gradcheck = choose(0, 3) == 0;
  bool bindDim = choose(0, 1) == 1;
  int64_t n = choose(4, 7); // the run-time dim (the generator needs >= 4)
  int params = choose(1, 4), statements = choose(1, 40);
  uint64_t seed = in.remaining_bytes() >= 8 ? in.ConsumeIntegral<uint64_t>() : rng();
  std::uniform_real_distribution<double> uniform(-1.5, 1.5);
  auto coordinate = [&] {
    return in.remaining_bytes() ? in.ConsumeFloatingPointInRange(-1.5, 1.5) : uniform(rng);
  };
  std::string src = kind == 0 ? gradc::test::ProgramGenerator(seed).generate(params, statements)
                              : gradc::test::TensorProgramGenerator(seed, kind == 2).program();

  // The reference: the interpreter on the differentiated graph, at a point from the input.
  auto source = std::make_shared<gradc::SourceFile>(gradc::SourceFile{"gen.expr", src});
  gradc::Diagnostics diags(source);
  gradc::CompiledSource cs;
  if (!gradc::compileSource(source, diags, cs))
    fail("a generated program did not compile:\n" + diags.rendered(), src);
  gradc::Function &fn = cs.program.funcs[0];
  std::vector<int64_t> dims(fn.graph->dims().names.size(), n);
  std::vector<gradc::Tensor> at;
  for (const gradc::ParamInfo &p : fn.params) {
    gradc::Tensor t;
    for (const gradc::Dim &d : p.type.shape)
      t.shape.push_back(d.isLiteral() ? d.off : dims[static_cast<size_t>(d.sym)] + d.off);
    int64_t count = gradc::test::elementCount(p.type.shape, dims);
    for (int64_t i = 0; i < count; ++i)
      t.data.push_back(coordinate());
    at.push_back(t);
  }
  if (kind != 0)
    at[6].data = {3, 0, 2}; // pick's labels, in range
  gradc::GradientGraph gg = gradc::differentiate(fn);
  const gradc::Type &resultType = fn.graph->type(fn.result);
  if (!resultType.isScalar()) { // d_out
    gradc::Tensor u;
    for (const gradc::Dim &d : resultType.shape)
      u.shape.push_back(d.isLiteral() ? d.off : dims[static_cast<size_t>(d.sym)] + d.off);
    int64_t count = gradc::test::elementCount(resultType.shape, dims);
    for (int64_t i = 0; i < count; ++i)
      u.data.push_back(0.25 * static_cast<double>(i % 4) - 0.3);
    at.push_back(u);
  }
  // The value, then the gradients of the non-const parameters: the driver's order.
  std::vector<gradc::NodeId> roots{gg.value};
  for (gradc::NodeId g : gg.grads)
    if (g != gradc::kNoNode)
      roots.push_back(g);
  gradc::EvalResult want = gradc::evaluate(*fn.graph, roots, at, dims);
  if (!want.ok())
    fail("the interpreter failed: " + want.error, src);
  std::vector<double> expected;
  for (const gradc::Tensor &t : want.outputs)
    expected.insert(expected.end(), t.data.begin(), t.data.end());

  // Emitted C, from a fresh graph (differentiate() added nodes to this one).
  gradc::CompiledSource ecs;
  gradc::Diagnostics ediags(source);
  if (!gradc::compileSource(source, ediags, ecs))
    fail("a generated program did not compile the second time:\n" + ediags.rendered(), src);
  gradc::Function &efn = ecs.program.funcs[0];
  gradc::EmitOptions eo;
  eo.prefix = "z_";
  eo.sourceName = "gen.expr";
  eo.gradcheck = gradcheck;
  if (bindDim)
    for (int32_t sym = 0; sym < static_cast<int32_t>(dims.size()); ++sym)
      eo.build.boundDims[sym] = n;
  gradc::Diagnostics nameDiags(source);
  if (!gradc::checkExportedNames({&efn}, *ecs.program.dims, eo.prefix, eo.gradcheck, true,
                                 nameDiags))
    fail("the exported names were refused:\n" + nameDiags.rendered(), src);
  const fs::path &dir = scratch().dir;
  std::string error;
  if (!gradc::emitCSource({&efn}, *ecs.program.dims, eo, (dir / "gen").string(), error))
    fail("emitCSource failed: " + error, src);
  gradc::AbiSet abi = gradc::describeAbi(efn, *ecs.program.dims, eo.build.boundDims, eo.prefix);

  std::string driver = "#include <stdio.h>\n#include <stdlib.h>\n#include \"gen.h\"\n" +
                       gradc::test::driverFor(0, efn, abi, at, dims, true);
  if (gradcheck)
    driver += gradcheckDriver(efn, abi, at, dims);
  driver += "int main(void) {\n  run0();\n";
  if (gradcheck)
    driver += "  check0();\n";
  driver += "  return 0;\n}\n";
  std::ofstream(dir / "driver.c") << driver;
  // One translation unit, one compiler process.
  std::ofstream(dir / "all.c") << "#include \"gen.c\"\n#include \"driver.c\"\n";

  fs::path exe = dir / "prog", ccOut = dir / "cc.txt", out = dir / "out.txt", err = dir / "err.txt";
  fs::remove(exe);
  std::string build = cCompiler() +
                      " -std=c99 -pedantic -Wall -Wextra -Werror -O1 -fsanitize=address,undefined"
                      " -fno-sanitize-recover=all -I " +
                      dir.string() + " " + (dir / "all.c").string() + " -lm -o " + exe.string() +
                      " > " + ccOut.string() + " 2>&1";
  if (std::system(build.c_str()) != 0)
    fail("the emitted C did not compile:\n" + build + "\n" + slurp(ccOut), src);
  // LeakSanitizer cannot run under ptrace-like environments; the driver frees what it mallocs.
  std::string run = "env ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 " +
                    exe.string() + " > " + out.string() + " 2> " + err.string();
  if (int status = std::system(run.c_str()); status != 0)
    fail("the emitted C failed (" +
             (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                : "wait status " + std::to_string(status)) +
             "; a sanitizer report?):\n" + slurp(err) + "--- output ---\n" + slurp(out),
         src);

  std::ifstream lines(out);
  std::string line;
  size_t next = 0;
  bool checked = false;
  while (std::getline(lines, line)) {
    std::string text = line;
    bool isCheck = text.rfind("gradcheck ", 0) == 0;
    if (isCheck)
      text = text.substr(10);
    char *end = nullptr;
    double got = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0')
      fail("the driver printed '" + line + "'", src);
    if (isCheck) {
      checked = true;
      continue;
    }
    if (next >= expected.size())
      fail("the driver printed more than the " + std::to_string(expected.size()) +
               " expected numbers",
           src);
    double w = expected[next++];
    if (std::isnan(w) && std::isnan(got))
      continue;
    if (!std::isfinite(w)) // a non-finite reference is not compared (as in DifferentialTest)
      continue;
    if (!(gradc::test::relError(got, w) <= 1e-9))
      fail("output " + std::to_string(next - 1) + ": interpreter " + gradc::test::cNumber(w) +
               ", emitted C " + gradc::test::cNumber(got) + (bindDim ? " (dims bound)" : ""),
           src);
  }
  if (next != expected.size())
    fail("the driver printed " + std::to_string(next) + " of " + std::to_string(expected.size()) +
             " numbers",
         src);
  if (gradcheck && !checked)
    fail("f_gradcheck printed nothing", src);
  return 0;
}
