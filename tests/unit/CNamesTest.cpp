// CNamesTest.cpp: the naming rule of docs/ABI.md ("Names"). Examples of each class, then the
// whole reserved-name table at once: every name used as a function, parameter or dim name of
// one generated program, emitted as an object and as C (with --check), compiled with -Werror
// as C99 and C11 and included after every standard header from C11, C++17 and C++20, one
// compiler process each; the object's symbols checked against the table.
#include "TestUtil.h"

#include "abi/Abi.h"
#include "abi/CNames.h"
#include "pipeline/Emit.h"
#include "sema/ExprBuilder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace gradc {
namespace {

TEST(CNames, LibraryAndLanguageNamesAreReserved) {
  for (const char *name : {"exp2", "erf", "log1p", "floor", "cbrt", "read", "index", "j0", "exp10", "sincos",
                           "class", "new", "template", "and", "_Bool", "NAN", "isnan", "int64_t", "size_t",
                           "offsetof", "main", "E2BIG", "ERANGE", "x_t", "I", "FILE", "M_PI", "EOF"})
    EXPECT_TRUE(isReservedCName(name)) << name;
  for (const char *name : {"x", "weights", "total", "exp2_", "int_", "l2wx", "x_t_", "EXP_", "simple"})
    EXPECT_FALSE(isReservedCName(name)) << name;
  EXPECT_EQ(cIdentifier("exp2"), "exp2_");
  EXPECT_EQ(cIdentifier("int"), "int_");
  EXPECT_EQ(cIdentifier("weights"), "weights");
  EXPECT_EQ(unrenamableReason("_x"), "names beginning with '_' are reserved in C");
  EXPECT_EQ(unrenamableReason("a__b"), "names containing '__' are reserved in C++");
  EXPECT_EQ(unrenamableReason("gradc_x"), "names beginning with 'gradc_' or 'GRADC_' are reserved for gradc's own");
  EXPECT_EQ(unrenamableReason("x"), "");
}

TEST(CNames, GeneratedArgumentNamesComeFirst) {
  auto cs = test::compileOk("def f(x, d_x, ws, out) = x * d_x + ws * out\n");
  ASSERT_TRUE(cs);
  AbiSet abi = describeAbi(cs->program.funcs[0], *cs->program.dims, {});
  EXPECT_EQ(abi.grad.prototype(), "double f_grad(double x, double d_x_, double ws_, double out_, double *d_x, "
                                  "double *d_d_x, double *d_ws, double *d_out_, void *ws)");
}

TEST(CNames, APrefixMustStartAnIdentifier) {
  EXPECT_EQ(checkSymbolPrefix("m2_"), "");
  for (const char *bad : {"1bad", "a-b", "*/", "_x", "gradc_"})
    EXPECT_NE(checkSymbolPrefix(bad), "") << bad;
}

std::string run(const std::string &cmd) {
  std::string out;
  FILE *p = ::popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  while (p && std::fgets(buf, sizeof buf, p))
    out += buf;
  int rc = p ? ::pclose(p) : -1;
  return rc == 0 ? "" : "`" + cmd + "` failed:\n" + out.substr(0, 4000);
}

// Emits `src` as C and as an object (with --check when `gradcheck`) into `dir`/`base`.c/.o/.h and
// returns the functions' count; failures are test failures.
size_t emitBoth(const std::string &src, const std::filesystem::path &dir, const std::string &base, bool gradcheck) {
  auto cs = test::compileOk(src);
  if (!cs)
    return 0;
  std::vector<Function *> all;
  std::vector<const Function *> exported;
  for (Function &f : cs->program.funcs) {
    all.push_back(&f);
    exported.push_back(&f);
  }
  Diagnostics diags(cs->source);
  EXPECT_TRUE(checkExportedNames(exported, *cs->program.dims, "", gradcheck, true, diags)) << diags.rendered();
  EmitOptions eo;
  eo.sourceName = base + ".expr";
  eo.gradcheck = gradcheck;
  std::string error;
  EXPECT_TRUE(emitCSource(all, *cs->program.dims, eo, (dir / (base + "_c")).string(), error)) << error;
  EXPECT_TRUE(emitObject(all, *cs->program.dims, eo, (dir / base).string(), error)) << error;
  return all.size();
}

TEST(CNames, EveryReservedNameMakesCodeThatCompiles) {
  // The names a .expr program can spell: not gradc's own keywords and builtins.
  const std::set<std::string> exprWords{"def", "dim", "return", "const", "f32", "f64", "i32", "i64"};
  std::vector<std::string> names;
  for (const char *n : reservedCNameTable())
    if (!exprWords.count(n) && !isBuiltinFunction(n))
      names.push_back(n);
  ASSERT_GT(names.size(), 3000u);
  // Every name once: functions of eleven names each (the function, eight scalar parameters,
  // an array parameter and its dim), so that the emitted C stays small enough to compile in
  // a few seconds.
  constexpr size_t kPer = 11;
  size_t fns = names.size() / kPer;
  std::ostringstream table;
  table << "dim ";
  for (size_t i = 0; i < fns; ++i)
    table << (i ? ", " : "") << names[kPer * i + 10];
  table << "\n";
  for (size_t i = 0; i < fns; ++i) {
    const std::string *g = &names[kPer * i];
    table << "def " << g[0] << "(";
    for (size_t k = 1; k <= 8; ++k)
      table << g[k] << ", ";
    table << g[9] << ": [" << g[10] << "]) = ";
    for (size_t k = 1; k <= 8; ++k)
      table << g[k] << " + ";
    table << g[9] << "[0]\n";
  }
  // The parameters the generated argument names take precedence over (ws, out, x next to
  // d_x), and names like those gradc's generated code declares (arguments a0, temporaries t0,
  // loop variables i0, arrays v0; the gradient check's h, x, w, i, value, worst before it used
  // gradc_ names), with the gradient check, which calls each function by its name.
  const std::string generated = "dim n\ndef f(x: [n], d_x, ws, out) = sum(x) * d_x + ws * out\n"
                                "def h(w) = w * 2\ndef worst(i) = i * 3\ndef value(x) = x * x\n"
                                "def a0(t0) = t0 + 1\ndef t1(a0) = a0 * a0\ndef i0(v0) = v0 - 1\ndef w(h) = h * h\n";

  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("gradc_cnames_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ASSERT_EQ(emitBoth(table.str(), dir, "table", false), fns);
  ASSERT_EQ(emitBoth(generated, dir, "generated", true), 8u);

  // Every standard header first, with POSIX's and GNU's names: their macros must not meet a
  // name of the header.
  std::string headers;
  for (const char *h : {"assert.h", "complex.h", "ctype.h", "errno.h", "fenv.h", "float.h", "inttypes.h",
                        "iso646.h", "limits.h", "locale.h", "math.h", "setjmp.h", "signal.h", "stdarg.h",
                        "stdbool.h", "stddef.h", "stdint.h", "stdio.h", "stdlib.h", "string.h", "time.h",
                        "wchar.h", "wctype.h", "unistd.h"})
    headers += std::string("#include <") + h + ">\n";
  std::ofstream(dir / "host.c") << "#define _GNU_SOURCE\n" << headers << "#include \"table.h\"\n#include \"generated.h\"\n"
                                << "int main(void) { return h(1, 0) == 2 && gradc_abi_version() == 1 ? 0 : 1; }\n";
  std::string cppHeaders;
  for (const char *h : {"cmath", "cstdlib", "cstring", "cstdint", "cstddef", "cstdio", "cerrno", "climits",
                        "complex", "algorithm", "string", "vector", "math.h", "unistd.h"})
    cppHeaders += std::string("#include <") + h + ">\n";
  std::ofstream(dir / "host.cpp") << cppHeaders << "#include \"table.h\"\n#include \"generated.h\"\n"
                                  << "int main() { return gradc_abi_version() - 1; }\n";

  const std::string d = dir.string(), warn = " -Wall -Wextra -Werror ";
  for (const char *std : {"c99", "c11"})
    for (const char *base : {"table_c", "generated_c"})
      EXPECT_EQ(run(std::string("cc -std=") + std + " -pedantic" + warn + "-O0 -c " + d + "/" + base + ".c -o " + d +
                    "/" + base + ".o"),
                "");
  EXPECT_EQ(run("cc -std=c11" + warn + "-I " + d + " " + d + "/host.c " + d + "/table.o " + d + "/generated.o -lm -o " +
                d + "/host && " + d + "/host"),
            "");
  EXPECT_EQ(run("c++ -std=c++17" + warn + "-fsyntax-only -I " + d + " " + d + "/host.cpp"), "");
  EXPECT_EQ(run("c++ -std=c++20" + warn + "-fsyntax-only -I " + d + " " + d + "/host.cpp"), "");

  // No symbol of the objects is reserved: not a name of the C library or the language, no
  // "__" (renamed functions join their suffixes by one '_': exp2_grad), no leading '_'
  // (gradc_abi_version is gradc's own).
  size_t symbols = 0;
  for (const char *object : {"table.o", "generated.o"}) {
    FILE *p = ::popen(("nm --defined-only -g " + d + "/" + object).c_str(), "r");
    ASSERT_TRUE(p);
    char line[512];
    while (std::fgets(line, sizeof line, p)) {
      std::string sym = line;
      sym = sym.substr(sym.rfind(' ') + 1);
      sym.erase(sym.find_last_not_of("\n") + 1);
      ++symbols;
      if (sym != "gradc_abi_version")
        EXPECT_FALSE(isReservedCName(sym)) << sym;
    }
    ::pclose(p);
  }
  EXPECT_GT(symbols, fns * 5);
  fs::remove_all(dir);
}

} // namespace
} // namespace gradc
