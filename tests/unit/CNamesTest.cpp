// CNamesTest.cpp: the naming rule of docs/ABI.md ("Names"). Examples of each class, then the
// whole reserved-name table at once: every name used as a function, parameter or dim name of
// one generated program, emitted as an object and as C (with --check), compiled with -Werror
// as C99 and C11 and included after every standard header from C11, C++17 and C++20, one
// compiler process each; the object's symbols checked against the table.
#include "TestUtil.h"

#include "backend/Abi.h"
#include "backend/CNames.h"
#include "pipeline/Emit.h"
#include "sema/ExprBuilder.h"

#include <gtest/gtest.h>

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

TEST(CNames, EveryReservedNameMakesCodeThatCompiles) {
  // The names a .expr program can spell: not gradc's own keywords and builtins.
  const std::set<std::string> exprWords{"def", "dim", "return", "const", "f32", "f64", "i32", "i64"};
  std::vector<std::string> names;
  for (const char *n : reservedCNameTable())
    if (!exprWords.count(n) && !isBuiltinFunction(n))
      names.push_back(n);
  ASSERT_GT(names.size(), 3000u);
  // Three disjoint parts: function names, parameter names, dim names. Each function also has
  // the parameters the issue names (ws, out, x next to d_x), whose names the generated ones take.
  std::ostringstream src;
  size_t fns = names.size() / 3;
  src << "dim ";
  for (size_t i = 0; i < fns; ++i)
    src << (i ? ", " : "") << names[3 * i + 2];
  src << "\n";
  for (size_t i = 0; i < fns; ++i)
    src << "def " << names[3 * i] << "(" << names[3 * i + 1] << ": [" << names[3 * i + 2]
        << "], x, d_x, ws, out) = sum(" << names[3 * i + 1] << ") * x + d_x * ws + out\n";
  auto cs = test::compileOk(src.str());
  ASSERT_TRUE(cs);
  std::vector<Function *> all;
  std::vector<const Function *> exported;
  for (Function &f : cs->program.funcs) {
    all.push_back(&f);
    exported.push_back(&f);
  }
  Diagnostics diags(cs->source);
  ASSERT_TRUE(checkExportedNames(exported, *cs->program.dims, "", true, true, diags)) << diags.rendered();

  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("gradc_cnames_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  EmitOptions eo;
  eo.sourceName = "reserved.expr";
  eo.gradcheck = true;
  std::string error;
  ASSERT_TRUE(emitCSource(all, *cs->program.dims, eo, (dir / "names").string(), error)) << error;
  ASSERT_TRUE(emitObject(all, *cs->program.dims, eo, (dir / "obj").string(), error)) << error;

  // Every standard header first, with POSIX's and GNU's names: their macros must not meet a
  // name of the header.
  std::string headers;
  for (const char *h : {"assert.h", "complex.h", "ctype.h", "errno.h", "fenv.h", "float.h", "inttypes.h",
                        "iso646.h", "limits.h", "locale.h", "math.h", "setjmp.h", "signal.h", "stdarg.h",
                        "stdbool.h", "stddef.h", "stdint.h", "stdio.h", "stdlib.h", "string.h", "time.h",
                        "wchar.h", "wctype.h", "unistd.h"})
    headers += std::string("#include <") + h + ">\n";
  std::ofstream(dir / "host.c") << "#define _GNU_SOURCE\n" << headers << "#include \"obj.h\"\n"
                                << "int main(void) { return gradc_abi_version() == 1 ? 0 : 1; }\n";
  std::string cppHeaders;
  for (const char *h : {"cmath", "cstdlib", "cstring", "cstdint", "cstddef", "cstdio", "cerrno", "climits",
                        "complex", "algorithm", "string", "vector", "math.h", "unistd.h"})
    cppHeaders += std::string("#include <") + h + ">\n";
  std::ofstream(dir / "host.cpp") << cppHeaders << "#include \"obj.h\"\nint main() { return gradc_abi_version() - 1; }\n";

  const std::string d = dir.string(), warn = " -Wall -Wextra -Werror ";
  EXPECT_EQ(run("cc -std=c99 -pedantic" + warn + "-O0 -c " + d + "/names.c -o " + d + "/names_c99.o"), "");
  EXPECT_EQ(run("cc -std=c11 -pedantic" + warn + "-O0 -c " + d + "/names.c -o " + d + "/names_c11.o"), "");
  EXPECT_EQ(run("cc -std=c11" + warn + "-I " + d + " " + d + "/host.c " + d + "/obj.o -lm -o " + d + "/host && " + d + "/host"), "");
  EXPECT_EQ(run("c++ -std=c++17" + warn + "-fsyntax-only -I " + d + " " + d + "/host.cpp"), "");
  EXPECT_EQ(run("c++ -std=c++20" + warn + "-fsyntax-only -I " + d + " " + d + "/host.cpp"), "");

  // No symbol of the object is a name of the C library or the language (gradc_abi_version is
  // gradc's own, weak).
  FILE *p = ::popen(("nm --defined-only -g " + d + "/obj.o").c_str(), "r");
  ASSERT_TRUE(p);
  char line[512];
  size_t symbols = 0;
  while (std::fgets(line, sizeof line, p)) {
    std::string sym = line;
    sym = sym.substr(sym.rfind(' ') + 1);
    sym.erase(sym.find_last_not_of("\n") + 1);
    if (sym == "gradc_abi_version")
      continue;
    ++symbols;
    EXPECT_FALSE(isReservedCName(sym)) << sym;
  }
  ::pclose(p);
  EXPECT_GT(symbols, fns * 5);
  fs::remove_all(dir);
}

} // namespace
} // namespace gradc
