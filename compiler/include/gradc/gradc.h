/// gradc.h: the C++ API. Compile `.expr` source at run time and call the value and
/// gradient functions as plain function pointers, with the C ABI of `docs/ABI.md`:
///
///   gradc::Compiler compiler;
///   gradc::Module m = compiler.compileFile("model.expr", {.dims = {{"n", 4096}}});
///   if (!m.ok()) { std::cerr << m.errors(); return 1; }
///   auto grad = m.function<double(const double *, double *, void *)>("f_grad");
///   double value = grad(x, dx, nullptr);
///
/// Compilation is thread-safe: any number of threads may compile at once. A Module's
/// functions stay valid while the Module (or a copy of it) lives; the native code is
/// freed with the last copy.
#pragma once

#include "gradc/Diagnostics.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace gradc {

/// What to compile and how.
struct CompileOptions {
  /// Dims fixed at compile time (faster code; they are then not function arguments).
  std::map<std::string, int64_t> dims;
  /// Compile only this function of the file (default: all of them).
  std::string function;
  /// Allow rewrites exact only up to signed zeros and NaN (x + 0 -> x, x * 0 -> 0).
  bool fastMath = false;
  /// The CPU to generate code for: empty for the host's, "generic" for a baseline.
  std::string targetCpu;
  /// Large matrix products call OpenBLAS's CBLAS when gradc was built with it (the CMake
  /// option GRADC_USE_CBLAS); they then run on OpenBLAS's threads (OPENBLAS_NUM_THREADS).
  /// false keeps every product in gradc's own code, as emitted code always does.
  bool blas = true;
  /// Threads that lower and compile a long program's pieces in parallel: 0 for one per core
  /// (at most 8), 1 for the calling thread only. Short programs are one piece.
  unsigned threads = 0;
  /// Keep compiled code in the persistent cache and reuse it: a program compiled before (same
  /// source, options, CPU, gradc and LLVM) loads in milliseconds. The folder is
  /// $GRADC_CACHE_DIR, else $XDG_CACHE_HOME/gradc, else ~/.cache/gradc, bounded by
  /// $GRADC_CACHE_MAX_MB (default 512, least recently used entries evicted first);
  /// GRADC_CACHE=off turns it off for a process (docs/API.md).
  bool cache = true;
};

/// How Module::graph draws a function (docs/CLI.md, "gradc graph").
struct GraphOptions {
  std::string format = "dot";   // "dot" (text), "svg", "png" or "pdf"
  std::string stage = "source"; // "source" (as written), "grad" (forward and backward, as compiled), "opt"
  bool fullValues = false;      // every element of a tensor on its edge, not a summary
  bool expand = false;          // calls of the file's functions drawn open, not as one gate
  size_t maxNodes = 300;        // above it, statements (source lines) are grouped
};

/// One argument of an exported function, described as emitted code describes it
/// (`f_arg_name`, `f_arg_type`, `f_arg_shape`, docs/ABI.md): "W", "const double *", "[n, 3]".
struct Argument {
  std::string name;
  std::string type;  // its C type
  std::string shape; // "[n, 3]" in terms of the dim arguments, fixed dims as numbers; "" for dims and ws
};

/// A compile-time error with its place in the source.
struct SourceDiagnostic {
  std::string file;
  uint32_t line = 0, column = 0; // 1-based; 0 when the error has no place (a bad option)
  std::string message;
};

/// Thrown by Module::function for a name that does not exist or a signature that does
/// not match the function's C signature.
class LookupError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {
// The C spelling of the types a compiled function's signature may use.
template <typename T> struct CType;
#define GRADC_CTYPE(T, S)                                                                  \
  template <> struct CType<T> {                                                           \
    static constexpr const char *name = S;                                                \
  }
GRADC_CTYPE(void, "void");
GRADC_CTYPE(double, "double");
GRADC_CTYPE(float, "float");
GRADC_CTYPE(int32_t, "int32_t");
GRADC_CTYPE(int64_t, "int64_t");
GRADC_CTYPE(uint8_t, "uint8_t");
GRADC_CTYPE(size_t, "size_t");
GRADC_CTYPE(void *, "void *");
GRADC_CTYPE(const double *, "const double *");
GRADC_CTYPE(double *, "double *");
GRADC_CTYPE(const float *, "const float *");
GRADC_CTYPE(float *, "float *");
GRADC_CTYPE(const int32_t *, "const int32_t *");
GRADC_CTYPE(const int64_t *, "const int64_t *");
#undef GRADC_CTYPE
template <typename Sig> struct Signature;
template <typename R, typename... A> struct Signature<R(A...)> {
  static std::vector<std::string> types() { return {CType<R>::name, CType<A>::name...}; }
};
} // namespace detail

/// Thrown by a checked call (Module::checked) when an index or a `pick` label is out of range.
class RangeError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <typename Sig> class Checked;
} // namespace detail

/// The compiled functions of one source: for each `def f`, `f`, `f_grad` and
/// `f_workspace_size`, with the signatures of docs/ABI.md.
class Module {
public:
  Module();
  ~Module();
  Module(const Module &);
  Module &operator=(const Module &);
  Module(Module &&) noexcept;
  Module &operator=(Module &&) noexcept;

  /// True when the source compiled; otherwise see diagnostics(). A default-constructed
  /// Module holds no source: not ok(), and errors() says so.
  bool ok() const;
  /// The compile errors, in source order; empty when ok().
  const std::vector<SourceDiagnostic> &diagnostics() const;
  /// The errors rendered as a compiler prints them: `file:line:col: error: ...`, the
  /// source line and a caret.
  std::string errors() const;

  /// The exported C symbols (f, f_grad, f_workspace_size, ...).
  std::vector<std::string> symbols() const;
  /// The C prototype of a symbol, e.g. "double f_grad(double x, double *d_x, void *ws)".
  /// Throws LookupError when there is no such symbol (the message lists those there are).
  std::string prototype(const std::string &symbol) const;
  /// The arguments of `symbol` (an f or f_grad), in order: the strings emitted code's
  /// f_arg_name, f_arg_type and f_arg_shape return. Throws LookupError for a symbol that
  /// does not exist or has no argument metadata (f_workspace_size).
  std::vector<Argument> arguments(const std::string &symbol) const;

  /// The picture `gradc graph` draws of `function`: its DOT text, or the bytes of an SVG, PNG
  /// or PDF. With `values` (each parameter's elements in row-major order, by name, and `d_out`
  /// for a non-scalar result, else ones), every edge carries its value and gradient at that
  /// point; `dims` sizes the dims the module does not fix. Throws LookupError for an unknown
  /// function, dim or option, RangeError for values that do not fit their shapes or an index
  /// out of range (located in the source).
  std::string graph(const std::string &function, const std::map<std::string, std::vector<double>> &values = {},
                    const std::map<std::string, int64_t> &dims = {}, const GraphOptions &options = {}) const;

  /// The function `symbol` as a typed function pointer. Throws LookupError when there is
  /// no such symbol or when `Sig` is not its C signature (the message shows both).
  template <typename Sig> Sig *function(const std::string &symbol) const {
    return reinterpret_cast<Sig *>(lookup(symbol, detail::Signature<Sig>::types()));
  }

  /// Like function<Sig>(), as a callable that checks: when the value comes back NaN, it
  /// looks for an index or `pick` label out of range in the arguments and throws RangeError
  /// naming it, e.g. "gradc: f_grad: label y[3] = 7 is out of range for 5 classes
  /// (model.expr:4:20)". A NaN the arithmetic made is returned as it is. The check costs
  /// nothing unless the value is NaN.
  template <typename Sig> detail::Checked<Sig> checked(const std::string &symbol) const;

private:
  friend class Compiler;
  template <typename> friend class detail::Checked;
  void *lookup(const std::string &symbol, const std::vector<std::string> &types) const;
  /// After a call of `symbol` with the arguments at `args` (one address per argument):
  /// throws RangeError when an index or label is out of range. `valueIsNaN` says whether a
  /// returned value was NaN (false for functions that return void: their `out` is read).
  void diagnose(const std::string &symbol, const void *const *args, bool valueIsNaN) const;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

namespace detail {
template <typename R, typename... A> class Checked<R(A...)> {
public:
  Checked(Module module, std::string symbol, R (*fn)(A...))
      : module_(std::move(module)), symbol_(std::move(symbol)), fn_(fn) {}
  R operator()(A... args) const {
    const void *addresses[sizeof...(A) + 1] = {static_cast<const void *>(&args)...};
    if constexpr (std::is_void_v<R>) {
      fn_(args...);
      module_.diagnose(symbol_, addresses, false);
    } else {
      R value = fn_(args...);
      if (value != value)
        module_.diagnose(symbol_, addresses, true);
      return value;
    }
  }

private:
  Module module_;
  std::string symbol_;
  R (*fn_)(A...);
};
} // namespace detail

template <typename Sig> detail::Checked<Sig> Module::checked(const std::string &symbol) const {
  return detail::Checked<Sig>(*this, symbol, function<Sig>(symbol));
}

/// Compiles `.expr` programs to native code in this process.
class Compiler {
public:
  /// Compiles source text; `name` is the file name diagnostics show.
  Module compileSource(const std::string &source, const CompileOptions &options = {},
                       const std::string &name = "<source>") const;
  /// Reads and compiles a file.
  Module compileFile(const std::string &path, const CompileOptions &options = {}) const;
};

/// The gradc version, "MAJOR.MINOR.PATCH".
const char *version();

} // namespace gradc
