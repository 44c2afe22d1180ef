// Commands.h: the subcommands of the gradc tool.
#pragma once

#include "Inputs.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace gradc::cli {

/// Exit codes (docs/CLI.md, "Errors and exit codes").
enum ExitCode { kOk = 0, kUserError = 1, kBadCommandLine = 2, kCheckFailed = 3 };

struct CommonOptions {
  std::string file;
  std::string fn;
  std::string dump; // "", "ast", "ir", "grad", "opt", "llvm"
  std::string engine = "jit";
  bool stats = false;     // print node counts per pass and the time of each stage
  bool fastMath = false;  // rewrites exact only up to signed zeros and NaN
  bool noBlas = false;    // keep large matrix products in generated code
  bool noCache = false;   // neither read nor write the compile cache
  std::string targetCpu;  // empty: the host
  int optLevel = -1;      // -1: chosen by module size
  unsigned threads = 0;   // 0: one per core
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

struct RunOptions {
  CommonOptions common;
  InputSpec inputs;
  bool json = false;
};

struct CheckOptions {
  CommonOptions common;
  InputSpec inputs; // --at/--at-file: the point (default: random); --dim; --d-out
  uint64_t seed = 0;
  double tolerance = 1e-6;
};

struct EmitOptionsCli {
  CommonOptions common;
  std::string out;           // output base: out.h and out.o (default: FILE without .expr)
  bool objectFlag = false;   // --object: the default
  bool cSource = false;      // --c: self-contained C99
  bool gradcheck = false;    // --check: also f_gradcheck
  std::string prefix;
  std::vector<std::string> dims;
  std::string triple;
};

struct GraphOptions {
  CommonOptions common;
  InputSpec inputs;    // values on the edges when --at, --at-file or --d-out is given
  std::string out;     // the picture's file (its format by extension); empty: DOT to stdout
  bool fullValues = false;
  bool expand = false; // calls of the file's functions drawn open
  size_t maxNodes = 300;
  std::string stage = "source"; // source (as written), grad (forward and backward), opt (optimized)
};

int runCommand(const RunOptions &opts);
int graphCommand(const GraphOptions &opts);
int emitCommand(const EmitOptionsCli &opts);
int checkCommand(const CheckOptions &opts);

} // namespace gradc::cli
