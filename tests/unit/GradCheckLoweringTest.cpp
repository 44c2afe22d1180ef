// GradCheckLoweringTest.cpp: f_gradcheck and its size function as loop IR (loops/
// LowerGradCheck.h), verified with the program's own functions (their calls typed as those
// functions are), printed with them into one LLVM module, compiled for the baseline CPU into
// a shared library and called. Where the result can be computed, it is computed here the
// same way and compared exactly: the baseline CPU has no fused multiply-add, so the library
// and this file round alike.
#include "TestUtil.h"

#include "codegen/llvm/ObjectEmitter.h"
#include "codegen/llvm/LlvmPrinter.h"
#include "loops/LowerGradCheck.h"
#include "loops/LowerModule.h"
#include "loops/Verifier.h"
#include "opt/Passes.h"

#include <gtest/gtest.h>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <cmath>
#include <cstdio>
#include <dlfcn.h>
#include <filesystem>
#include <functional>
#include <limits>
#include <unistd.h>

namespace gradc {
namespace {

namespace fs = std::filesystem;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kMax = int64_t(1) << 56; // kMaxElements

uint64_t align64(uint64_t v) { return (v + 63) / 64 * 64; }

// Every function of `src` (with `bound` dims, by name) lowered as `gradc emit --check` does,
// in a shared library that is loaded until the object is destroyed.
class Library {
public:
  Library(const std::string &src, const std::map<std::string, int64_t> &bound = {}) { build(src, bound); }
  ~Library() {
    if (handle_)
      ::dlclose(handle_);
    fs::remove_all(dir_);
  }
  bool ok() const { return handle_ != nullptr; }
  template <class F> F *fn(const std::string &symbol) const {
    void *p = handle_ ? ::dlsym(handle_, symbol.c_str()) : nullptr;
    EXPECT_TRUE(p) << symbol;
    return reinterpret_cast<F *>(p);
  }

private:
  void build(const std::string &src, const std::map<std::string, int64_t> &bound) {
    static int serial = 0;
    dir_ = fs::temp_directory_path() / ("gradc_gcl_" + std::to_string(::getpid()) + "_" + std::to_string(serial++));
    fs::create_directories(dir_);
    cs_ = test::compileOk(src);
    if (!cs_)
      return;
    llvm::LLVMContext ctx;
    llvm::Module module("gradcheck", ctx);
    for (Function &fn : cs_->program.funcs)
      lower(fn, bound, module);
    std::string err;
    llvm::raw_string_ostream os(err);
    ASSERT_FALSE(llvm::verifyModule(module, &os)) << os.str();
    CodegenOptions generic;
    generic.targetCpu = "generic";
    std::string object = (dir_ / "lib.o").string(), shared = (dir_ / "lib.so").string();
    ASSERT_TRUE(emitObjectFile(module, generic, object, err)) << err;
    ASSERT_EQ(std::system(("cc -shared -o " + shared + " " + object + " -lm").c_str()), 0);
    handle_ = ::dlopen(shared.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_TRUE(handle_) << ::dlerror();
  }

  void lower(Function &fn, const std::map<std::string, int64_t> &bound, llvm::Module &module) {
    const DimTable &dims = *cs_->program.dims;
    GradientGraph gg = differentiate(fn);
    std::vector<NodeId> roots{gg.value};
    roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
    RewriteResult opt = optimizeGraph(*fn.graph, roots, OptOptions{});
    LoweringInput in;
    in.fn = &fn;
    in.graph = opt.graph.get();
    in.value = opt.roots[0];
    in.gradRoots = opt.roots;
    for (auto [name, v] : bound)
      for (size_t s = 0; s < dims.names.size(); ++s)
        if (dims.names[s] == name)
          in.boundDims[static_cast<int32_t>(s)] = v;
    LoweringOptions lo;
    lo.packedEntries = false;
    loops::SourceLowering source(in, lo, false);
    // One verifier for f, f_grad, f_workspace_size and the check: every call agrees with
    // the definition it reaches.
    loops::ModuleVerifier verifier;
    source.lowerPiece(0, [&](std::unique_ptr<loops::Func> f) {
      EXPECT_EQ(verifier.add(*f), "") << f->symbol;
      printLlvm(*f, module);
    });
    std::vector<std::unique_ptr<loops::Func>> check = loops::lowerGradCheck(fn, source.abi(), in.boundDims);
    ASSERT_EQ(check.size(), 2u);
    EXPECT_EQ(check[0]->symbol, source.abi().gradcheck.symbol);
    EXPECT_EQ(check[1]->symbol, source.abi().gradcheckWorkspaceSizeSymbol);
    for (const auto &f : check) {
      EXPECT_EQ(loops::verify(*f), "") << f->symbol;
      EXPECT_EQ(verifier.add(*f), "") << f->symbol;
      printLlvm(*f, module);
    }
    EXPECT_EQ(check[0]->cReturn, "double");
    EXPECT_EQ(check[1]->cReturn, "size_t");
  }

  fs::path dir_;
  std::unique_ptr<CompiledSource> cs_;
  void *handle_ = nullptr;
};

// The check computed here: `x` the parameters' elements in order, `grad` f_grad's gradient
// of each (the same order), `F` the objective at a point, `step` cbrt(eps) of the type.
double referenceCheck(std::vector<double> x, const std::vector<double> &grad,
                      const std::function<double(const std::vector<double> &)> &F) {
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double xi = x[i], ax = std::fabs(xi);
    double h = 6e-6 * (ax > 1 ? ax : 1);
    double up = xi + h, down = xi - h;
    x[i] = up;
    double fu = F(x);
    x[i] = down;
    double fd = F(x);
    x[i] = xi;
    double d = (fu - fd) / (up - down), g = grad[i];
    double scale = std::fabs(g) > std::fabs(d) ? std::fabs(g) : std::fabs(d);
    double e = std::fabs(g - d) / (scale > 1 ? scale : 1);
    worst = std::isnan(worst) || std::isnan(e) ? kNaN : std::max(worst, e);
  }
  return worst;
}

TEST(GradCheckLowering, ScalarResultWithScalarAndVectorParameters) {
  Library lib("def s(a, v: [3]) = a * sum(v * v) + sin(a)\n"
              "def relu0(x) = relu(x)\n"
              "def r32(x: f32) = relu(x)\n"
              "def sq(x, y) = sqrt(x) + y\n"
              "def lg(x) = log(x)\n");
  ASSERT_TRUE(lib.ok());
  using Value = double(double, const double *, void *);
  using Grad = double(double, const double *, double *, double *, void *);
  using Check = double(double, const double *, void *);
  auto *s = lib.fn<Value>("s");
  auto *sGrad = lib.fn<Grad>("s_grad");
  auto *check = lib.fn<Check>("s_gradcheck");
  size_t own = lib.fn<size_t()>("s_workspace_size")();
  size_t size = lib.fn<size_t()>("s_gradcheck_workspace_size")();
  // f's own workspace, then v's copy and v's gradient (24 bytes each, 64-byte aligned).
  EXPECT_EQ(size, align64(own) + 64 + 64);
  std::vector<char> ws(size + 64);
  const double a = 0.7, v[3] = {0.3, -1.2, 2.5};
  double worst = check(a, v, ws.data());
  EXPECT_LT(worst, 1e-6);

  double ga, gv[3];
  sGrad(a, v, &ga, gv, ws.data());
  double want = referenceCheck({a, v[0], v[1], v[2]}, {ga, gv[0], gv[1], gv[2]},
                               [&](const std::vector<double> &x) { return s(x[0], &x[1], ws.data()); });
  EXPECT_EQ(worst, want); // the same operations in the same order: the same bits
  EXPECT_GT(worst, 0.0);

  EXPECT_TRUE(std::isnan(check(a, v, nullptr))); // a workspace is needed
  const double nanV[3] = {0.3, kNaN, 2.5};
  EXPECT_TRUE(std::isnan(check(a, nanV, ws.data()))); // f fails at these inputs

  // At relu's kink the gradient (0) differs from the central difference (h / 2h = 0.5),
  // exactly, in f64 and f32. No workspace is needed: NULL will do.
  EXPECT_EQ(lib.fn<size_t()>("relu0_gradcheck_workspace_size")(), 0u);
  EXPECT_EQ(lib.fn<double(double, void *)>("relu0_gradcheck")(0.0, nullptr), 0.5);
  EXPECT_EQ(lib.fn<double(double, void *)>("relu0_gradcheck")(2.0, nullptr), 0.0);
  EXPECT_EQ(lib.fn<double(float, void *)>("r32_gradcheck")(0.0f, nullptr), 0.5);
  // sqrt at 0: x's error is NaN (f(-h) is), y's is 0; the worst stays NaN.
  EXPECT_TRUE(std::isnan(lib.fn<double(double, double, void *)>("sq_gradcheck")(0.0, 1.0, nullptr)));
  EXPECT_LT(lib.fn<double(double, double, void *)>("sq_gradcheck")(4.0, 1.0, nullptr), 1e-6);
  // f itself NaN: NaN.
  EXPECT_TRUE(std::isnan(lib.fn<double(double, void *)>("lg_gradcheck")(-1.0, nullptr)));
}

TEST(GradCheckLowering, TensorResultWithDOut) {
  Library lib("def layer(W: [3, 2], x: [2]) = tanh(W @ x)\n"
              "def scaled(X: const [2], w: [2]) = X * w * w\n");
  ASSERT_TRUE(lib.ok());
  using Value = void(const double *, const double *, double *, void *);
  using Check = double(const double *, const double *, const double *, void *);
  using Grad = void(const double *, const double *, const double *, double *, double *, double *, void *);
  auto *layer = lib.fn<Value>("layer");
  auto *grad = lib.fn<Grad>("layer_grad");
  auto *check = lib.fn<Check>("layer_gradcheck");
  size_t own = lib.fn<size_t()>("layer_workspace_size")();
  size_t size = lib.fn<size_t()>("layer_gradcheck_workspace_size")();
  // W's copy and gradient (48 bytes), x's (16), the output (24): each 64-byte aligned.
  EXPECT_EQ(size, align64(own) + 5 * 64);
  std::vector<char> ws(size + 64);
  const double W[6] = {0.3, -0.2, 0.5, 0.1, -0.4, 0.6}, x[2] = {0.7, -1.1}, u[3] = {1.0, -0.5, 2.0};
  double worst = check(W, x, u, ws.data());
  EXPECT_LT(worst, 1e-6);

  double out[3], dW[6], dx[2];
  grad(W, x, u, out, dW, dx, ws.data());
  std::vector<double> at(W, W + 6), g(dW, dW + 6);
  at.insert(at.end(), x, x + 2);
  g.insert(g.end(), dx, dx + 2);
  double want = referenceCheck(at, g, [&](const std::vector<double> &p) {
    double o[3], F = 0;
    layer(p.data(), p.data() + 6, o, ws.data());
    for (int j = 0; j < 3; ++j)
      F += u[j] * o[j];
    return F;
  });
  EXPECT_EQ(worst, want);
  EXPECT_GT(worst, 0.0);
  const double nanU[3] = {1.0, kNaN, 2.0}; // F is NaN everywhere: every error is
  EXPECT_TRUE(std::isnan(check(W, x, nanU, ws.data())));

  // A const parameter is copied but has no gradient, and is not moved: X's copy, w's copy
  // and gradient, the output.
  EXPECT_EQ(lib.fn<size_t()>("scaled_gradcheck_workspace_size")(),
            align64(lib.fn<size_t()>("scaled_workspace_size")()) + 4 * 64);
  const double X[2] = {2.0, -3.0}, w[2] = {0.5, 1.5}, d[2] = {1.0, 1.0};
  EXPECT_LT(lib.fn<Check>("scaled_gradcheck")(X, w, d, ws.data()), 1e-6);
}

TEST(GradCheckLowering, DimsAreCheckedFirst) {
  std::string w16 = "def w16(";
  for (int k = 0; k < 16; ++k)
    w16 += (k ? ", x" : "x") + std::to_string(k) + ": [n]";
  w16 += ") = sum(x0)";
  for (int k = 1; k < 16; ++k)
    w16 += " + sum(x" + std::to_string(k) + ")";
  Library lib("dim n, m, k\ndef nrm(x: [n]) = sum(x * x)\ndef mk(A: [m, k]) = sum(A * A)\n" + w16 + "\n");
  ASSERT_TRUE(lib.ok());
  using Size1 = size_t(int64_t);
  auto *own = lib.fn<Size1>("nrm_workspace_size");
  auto *size = lib.fn<Size1>("nrm_gradcheck_workspace_size");
  auto *check = lib.fn<double(int64_t, const double *, void *)>("nrm_gradcheck");
  EXPECT_EQ(size(5), align64(own(5)) + 64 + 64);
  std::vector<char> ws(size(5));
  const double x[5] = {1.0, -2.0, 0.5, 3.0, -0.25};
  EXPECT_LT(check(5, x, ws.data()), 1e-6);
  EXPECT_EQ(check(0, x, nullptr), 0.0); // nothing to check, nothing needed
  for (int64_t n : {int64_t(-1), kMax + 1, int64_t(1) << 57, std::numeric_limits<int64_t>::min()}) {
    EXPECT_TRUE(std::isnan(check(n, x, ws.data()))) << n;
    EXPECT_EQ(size(n), SIZE_MAX) << n;
  }
  // 2^56 elements fit: two buffers of 2^59 bytes; a workspace is needed and NULL.
  ASSERT_NE(own(kMax), SIZE_MAX);
  EXPECT_EQ(size(kMax), align64(own(kMax)) + (uint64_t(1) << 60));
  EXPECT_TRUE(std::isnan(check(kMax, x, nullptr)));

  // Each dim in range, but their product not.
  auto *mkOwn = lib.fn<size_t(int64_t, int64_t)>("mk_workspace_size");
  auto *mkSize = lib.fn<size_t(int64_t, int64_t)>("mk_gradcheck_workspace_size");
  auto *mkCheck = lib.fn<double(int64_t, int64_t, const double *, void *)>("mk_gradcheck");
  EXPECT_EQ(mkSize(int64_t(1) << 30, int64_t(1) << 30), SIZE_MAX);
  EXPECT_TRUE(std::isnan(mkCheck(int64_t(1) << 30, int64_t(1) << 30, x, nullptr)));
  EXPECT_EQ(mkSize(int64_t(1) << 28, int64_t(1) << 28), align64(mkOwn(int64_t(1) << 28, int64_t(1) << 28)) +
                                                             (uint64_t(1) << 60));
  EXPECT_EQ(mkSize(0, kMax), align64(mkOwn(0, kMax))); // empty: any other size fits
  EXPECT_EQ(mkSize(0, kMax + 1), SIZE_MAX);           // but each dim is still checked
  EXPECT_LT(mkCheck(1, 5, x, ws.data()), 1e-6);

  // Sixteen parameters of 2^56 elements: 16 x 2^60 bytes of copies and gradients wrap.
  auto *w16Size = lib.fn<Size1>("w16_gradcheck_workspace_size");
  ASSERT_NE(lib.fn<Size1>("w16_workspace_size")(kMax), SIZE_MAX);
  EXPECT_EQ(w16Size(kMax), SIZE_MAX);
  EXPECT_EQ(w16Size(kMax / 2), align64(lib.fn<Size1>("w16_workspace_size")(kMax / 2)) + (uint64_t(1) << 63));
}

TEST(GradCheckLowering, BoundDimsAreConstants) {
  Library lib("dim n\ndef nb(x: [n]) = sum(exp(x))\n", {{"n", 4}});
  ASSERT_TRUE(lib.ok());
  EXPECT_EQ(lib.fn<size_t()>("nb_gradcheck_workspace_size")(),
            align64(lib.fn<size_t()>("nb_workspace_size")()) + 64 + 64);
  std::vector<char> ws(lib.fn<size_t()>("nb_gradcheck_workspace_size")());
  const double x[4] = {0.1, -0.2, 0.3, 1.5};
  EXPECT_LT(lib.fn<double(const double *, void *)>("nb_gradcheck")(x, ws.data()), 1e-6);
}

} // namespace
} // namespace gradc
