// EmittedCTest.cpp: differential test of `gradc emit --c`. Random scalar programs (every
// scalar op, fan-out, deep chains) and random tensor programs (broadcasting, reductions,
// matmuls, indexing, pick, softmax) are emitted as C with one prefix each, compiled as one
// translation unit by the system C compiler (C99, -pedantic -Wall -Wextra -Werror; clang-19
// checks the same flags), run by a generated driver, and every value and gradient is
// compared with the JIT's to 1e-12.
#include "ProgramGenerator.h"
#include "TensorProgramGenerator.h"
#include "TestUtil.h"
#include "backend/Abi.h"
#include "pipeline/Compile.h"
#include "pipeline/Emit.h"
#include "pipeline/Invoke.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace gradc;
using namespace gradc::test;

namespace {

struct Case {
  std::string src;
  std::vector<Tensor> at;      // parameters, then d_out for a non-scalar result
  std::vector<double> want;    // the JIT's value, then its gradients, flattened
};

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// A C array (or scalar) initializer for a tensor.
std::string cArray(const std::string &type, const std::string &name, const Tensor &t) {
  std::string s = "  static " + type + " " + name + "[" + std::to_string(std::max<int64_t>(1, t.size())) + "] = {";
  for (int64_t i = 0; i < t.size(); ++i)
    s += (i ? ", " : "") + number(t.data[static_cast<size_t>(i)]);
  return s + (t.size() ? "};\n" : "0};\n");
}

// The driver's function for case k: calls P_f_grad with the case's inputs and prints the
// value and every gradient, one number per line.
std::string driverFor(size_t k, const Function &fn, const AbiSet &abi, const Case &c) {
  std::ostringstream d;
  d << "static void run" << k << "(void) {\n";
  std::string call = abi.grad.symbol + "(";
  std::vector<std::string> prints;
  auto count = [](const Shape &s) {
    int64_t n = 1;
    for (const Dim &x : s)
      n *= x.off;
    return n;
  };
  for (size_t i = 0; i < abi.grad.args.size(); ++i) {
    const AbiArg &a = abi.grad.args[i];
    std::string name = "arg" + std::to_string(i);
    call += i ? ", " : "";
    switch (a.role) {
    case ArgRole::Param:
    case ArgRole::DOut: {
      const Tensor &t = c.at[a.role == ArgRole::DOut ? fn.params.size() : static_cast<size_t>(a.index)];
      if (!a.pointer) {
        call += number(t.data[0]);
        break;
      }
      d << cArray(cTypeName(a.dtype), name, t);
      call += name;
      break;
    }
    case ArgRole::Out:
    case ArgRole::Grad: {
      int64_t n = a.shape.empty() ? 1 : count(a.shape);
      d << "  static " << cTypeName(a.dtype) << " " << name << "[" << n << "];\n";
      call += name;
      prints.push_back("  for (i = 0; i < " + std::to_string(n) + "; ++i) printf(\"%.17g\\n\", (double)" + name + "[i]);\n");
      break;
    }
    case ArgRole::Workspace:
      call += "ws";
      break;
    case ArgRole::Dim:
      ADD_FAILURE() << "no dims in these programs";
    }
  }
  d << "  int i;\n  if (" << abi.workspaceSizeSymbol << "() > sizeof ws) { printf(\"ws\\n\"); return; }\n";
  if (abi.grad.returnsValue)
    d << "  printf(\"%.17g\\n\", (double)" << call << "));\n";
  else
    d << "  " << call << ");\n";
  for (const std::string &s : prints)
    d << s;
  d << "  (void)i;\n}\n";
  return d.str();
}

void addCase(std::vector<Case> &cases, const std::string &src, std::mt19937_64 &rng, bool tensor) {
  auto cs = compileOk(src);
  ASSERT_TRUE(cs) << src;
  Function &fn = cs->program.funcs[0];
  Case c;
  c.src = src;
  std::uniform_real_distribution<double> u(-1.5, 1.5);
  for (const ParamInfo &p : fn.params) {
    std::vector<int64_t> shape;
    for (const Dim &d : p.type.shape)
      shape.push_back(d.off);
    c.at.push_back(randomTensor(shape, rng));
    if (!tensor)
      c.at.back().data[0] = u(rng);
  }
  if (tensor)
    c.at[6].data = {3, 0, 2}; // labels
  if (!fn.graph->type(fn.result).isScalar()) {
    Tensor v = valueOf(fn, c.at);
    for (size_t i = 0; i < v.data.size(); ++i)
      v.data[i] = 0.25 * static_cast<double>(i % 4) - 0.3;
    c.at.push_back(v);
  }
  std::string error;
  auto cf = compileFunction(fn, {}, error);
  ASSERT_TRUE(cf) << error;
  EvalResult got = invokeCompiled(*cf, fn, c.at, {});
  ASSERT_TRUE(got.ok()) << got.error;
  for (const Tensor &t : got.outputs)
    c.want.insert(c.want.end(), t.data.begin(), t.data.end());
  cases.push_back(std::move(c));
}

} // namespace

TEST(EmittedC, RandomProgramsMatchTheJit) {
  std::vector<Case> cases;
  std::mt19937_64 rng(7);
  ProgramGenerator scalarGen(2027);
  for (int k = 0; k < 300; ++k)
    addCase(cases, scalarGen.generate(1 + k % 4, 1 + k % 25), rng, false);
  TensorProgramGenerator tensorGen(2028);
  for (int k = 0; k < 150; ++k)
    addCase(cases, tensorGen.program(), rng, true);

  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("gradc_emitted_c_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string driver = "#include <stdio.h>\n";
  std::string calls, files;
  for (size_t k = 0; k < cases.size(); ++k) {
    auto cs = compileOk(cases[k].src);
    ASSERT_TRUE(cs);
    Function &fn = cs->program.funcs[0];
    EmitOptions eo;
    eo.prefix = "p" + std::to_string(k) + "_";
    eo.sourceName = "case" + std::to_string(k) + ".expr";
    std::string base = (dir / ("case" + std::to_string(k))).string(), error;
    ASSERT_TRUE(emitCSource({&fn}, *cs->program.dims, eo, base, error)) << error;
    AbiSet abi = describeAbi(fn, *cs->program.dims, {}, eo.prefix);
    driver += "#include \"case" + std::to_string(k) + ".h\"\n";
    calls += driverFor(k, fn, abi, cases[k]);
    files += "#include \"case" + std::to_string(k) + ".c\"\n";
  }
  driver += "static double ws[1 << 14];\n" + calls + "int main(void) {\n";
  for (size_t k = 0; k < cases.size(); ++k)
    driver += "  printf(\"case %d\\n\", " + std::to_string(k) + ");\n  run" + std::to_string(k) + "();\n";
  driver += "  return 0;\n}\n";
  std::ofstream((dir / "driver.c").string()) << driver;
  // One translation unit, so one compiler process: the emitted files include their own
  // headers (guarded) and every symbol is prefixed, so they concatenate as they are.
  std::ofstream((dir / "all.c").string()) << files << "#include \"driver.c\"\n";

  const char *cc = std::getenv("CC") ? std::getenv("CC") : "cc";
  std::string exe = (dir / "driver").string(), out = (dir / "out.txt").string();
  std::string flags = " -std=c99 -pedantic -Wall -Wextra -Werror -I " + dir.string() + " " + (dir / "all.c").string();
  std::string build = std::string(cc) + flags + " -O1 -lm -o " + exe + " 2>&1";
  ASSERT_EQ(std::system(build.c_str()), 0) << build;
  if (std::system("command -v clang-19 > /dev/null") == 0) {
    std::string check = "clang-19 -fsyntax-only" + flags + " 2>&1";
    ASSERT_EQ(std::system(check.c_str()), 0) << check;
  }
  ASSERT_EQ(std::system((exe + " > " + out).c_str()), 0);

  std::ifstream in(out);
  std::string line;
  int k = -1;
  size_t next = 0, compared = 0;
  auto finishCase = [&] {
    if (k >= 0)
      EXPECT_EQ(next, cases[static_cast<size_t>(k)].want.size()) << cases[static_cast<size_t>(k)].src;
  };
  while (std::getline(in, line)) {
    if (line.rfind("case ", 0) == 0) {
      finishCase();
      k = std::stoi(line.substr(5));
      next = 0;
      continue;
    }
    const Case &c = cases[static_cast<size_t>(k)];
    ASSERT_LT(next, c.want.size()) << c.src;
    double got = std::strtod(line.c_str(), nullptr), want = c.want[next++];
    if (std::isfinite(want))
      EXPECT_LE(relError(got, want), 1e-12) << c.src << "output " << next - 1 << ": C " << got << ", JIT " << want;
    else
      EXPECT_TRUE(std::isnan(want) ? std::isnan(got) : got == want) << c.src;
    ++compared;
  }
  finishCase();
  EXPECT_EQ(k + 1, static_cast<int>(cases.size()));
  EXPECT_GT(compared, 6000u);
  if (!::testing::Test::HasFailure() && !std::getenv("GRADC_KEEP"))
    fs::remove_all(dir);
  else
    std::cerr << "emitted C, driver and output kept in " << dir << "\n";
}
