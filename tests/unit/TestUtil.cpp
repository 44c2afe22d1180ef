// TestUtil.cpp: helpers shared by the unit tests.
#include "TestUtil.h"

#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"

#include "autodiff/ForwardMode.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <sys/mman.h>
#include <unistd.h>

namespace gradc::test {

std::unique_ptr<CompiledSource> compileOk(const std::string &text) {
  auto source = std::make_shared<SourceFile>(SourceFile{"t.expr", text});
  Diagnostics diags(source);
  auto cs = std::make_unique<CompiledSource>();
  if (!compileSource(source, diags, *cs)) {
    ADD_FAILURE() << "unexpected compile error:\n" << diags.rendered();
    return nullptr;
  }
  return cs;
}

std::string compileErrors(const std::string &text, const std::string &name) {
  auto source = std::make_shared<SourceFile>(SourceFile{name, text});
  Diagnostics diags(source);
  CompiledSource cs;
  if (compileSource(source, diags, cs))
    ADD_FAILURE() << "expected a compile error for:\n" << text;
  return diags.rendered();
}

EvalResult jitValueAndGrad(const std::string &src, const std::vector<Tensor> &at, const std::vector<int64_t> &dims) {
  auto cs = compileOk(src);
  EvalResult r;
  std::string error;
  auto cf = cs ? compileFunction(cs->program.funcs[0], {}, error) : nullptr;
  if (!cf) {
    r.error = "JIT compile failed: " + error;
    return r;
  }
  return invokeCompiled(*cf, cs->program.funcs[0], at, dims);
}

Tensor scalar(double v) { return Tensor{{}, {v}}; }
Tensor vec(std::vector<double> v) {
  int64_t n = static_cast<int64_t>(v.size());
  return Tensor{{n}, std::move(v)};
}
Tensor mat(int64_t rows, int64_t cols, std::vector<double> v) { return Tensor{{rows, cols}, std::move(v)}; }

Tensor randomTensor(const std::vector<int64_t> &shape, std::mt19937_64 &rng) {
  std::normal_distribution<double> normal;
  Tensor t{shape, {}};
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  for (int64_t i = 0; i < n; ++i)
    t.data.push_back(normal(rng));
  return t;
}

Tensor randomTensor(const std::vector<int64_t> &shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return randomTensor(shape, rng);
}

ValueGrad valueAndGrad(Function &fn, const std::vector<Tensor> &params,
                       const std::vector<int64_t> &dimValues) {
  // Differentiating again is free of duplicates: hash-consing finds the same nodes.
  const GradientGraph gg = differentiate(fn);
  std::vector<NodeId> roots{gg.value};
  roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
  std::vector<int64_t> dims = dimValues;
  dims.resize(fn.graph->dims().names.size(), 0);
  EvalResult r = evaluate(*fn.graph, roots, params, dims);
  ValueGrad out;
  out.error = r.error;
  if (!r.ok())
    return out;
  out.value = r.outputs[0];
  out.grads.assign(r.outputs.begin() + 1, r.outputs.end());
  return out;
}

Tensor valueOf(const Function &fn, const std::vector<Tensor> &params,
               const std::vector<int64_t> &dimValues) {
  std::vector<int64_t> dims = dimValues;
  dims.resize(fn.graph->dims().names.size(), 0);
  EvalResult r = evaluate(*fn.graph, {fn.result}, params, dims);
  GRADC_ASSERT(r.ok(), "the interpreter could not evaluate the test's point: " + r.error);
  return r.outputs[0];
}

double centralDifference(const Function &fn, std::vector<Tensor> params, size_t p, size_t i,
                         const std::vector<int64_t> &dimValues, double step) {
  auto total = [&] {
    Tensor t = valueOf(fn, params, dimValues);
    double s = 0;
    for (double v : t.data)
      s += v;
    return s;
  };
  double x = params[p].data[i];
  double h = step * std::max(1.0, std::fabs(x));
  params[p].data[i] = x + h;
  double up = total();
  params[p].data[i] = x - h;
  double down = total();
  return (up - down) / (2 * h);
}

double relError(double a, double b) {
  return std::fabs(a - b) / std::max({1.0, std::fabs(a), std::fabs(b)});
}

static double dot(const Tensor &a, const Tensor &b) {
  double s = 0;
  for (size_t i = 0; i < a.data.size(); ++i)
    s += a.data[i] * b.data[i];
  return s;
}

void expectDotProductIdentity(Function &fn, const std::vector<Tensor> &at,
                              const std::vector<int64_t> &dims, uint64_t seed, const std::string &src) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> dimValues = dims;
  dimValues.resize(fn.graph->dims().names.size(), 0);
  Tensor value = valueOf(fn, at, dimValues);
  bool scalarResult = value.shape.empty();
  Tensor u = scalarResult ? scalar(1.0) : randomTensor(value.shape, rng);

  GradientGraph gg = differentiate(fn);
  TangentGraph tg = forwardDerivative(fn);
  std::vector<Tensor> inputs = at;
  inputs.push_back(u); // d_out's slot
  std::vector<Tensor> v;
  for (size_t i = 0; i < at.size(); ++i) {
    v.push_back(fn.params[i].isConst ? Tensor{} : randomTensor(at[i].shape, rng));
    inputs.push_back(v.back());
  }
  std::vector<NodeId> roots{tg.tangent};
  roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
  EvalResult r = evaluate(*fn.graph, roots, inputs, dimValues);
  ASSERT_TRUE(r.ok()) << r.error;
  double forward = dot(r.outputs[0], u);
  double reverse = 0;
  for (size_t i = 0; i < at.size(); ++i)
    if (!fn.params[i].isConst)
      reverse += dot(v[i], r.outputs[i + 1]);
  if (!std::isfinite(forward) && !std::isfinite(reverse))
    return;
  EXPECT_LE(relError(forward, reverse), 1e-10) << "<Jv,u> = " << forward << ", <v,J^T u> = "
                                                << reverse << "\n" << src;
}

std::string cNumber(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string cArray(const std::string &type, const std::string &name, const Tensor &t) {
  std::string s = "  static " + type + " " + name + "[" + std::to_string(std::max<int64_t>(1, t.size())) + "] = {";
  for (int64_t i = 0; i < t.size(); ++i)
    s += (i ? ", " : "") + cNumber(t.data[static_cast<size_t>(i)]);
  return s + (t.size() ? "};\n" : "0};\n");
}

int64_t elementCount(const Shape &s, const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (const Dim &d : s)
    n *= d.isLiteral() ? d.off : dims[static_cast<size_t>(d.sym)] + d.off;
  return n;
}

std::string driverFor(size_t k, const Function &fn, const AbiSet &abi, const std::vector<Tensor> &at,
                      const std::vector<int64_t> &dims, bool exactWorkspace) {
  std::ostringstream d;
  d << "static void run" << k << "(void) {\n  int i;\n";
  std::string call = abi.grad.symbol + "(";
  std::vector<std::string> prints;
  for (size_t i = 0; i < abi.grad.args.size(); ++i) {
    const AbiArg &a = abi.grad.args[i];
    std::string name = "arg" + std::to_string(i);
    call += i ? ", " : "";
    switch (a.role) {
    case ArgRole::Dim:
      call += std::to_string(dims[static_cast<size_t>(a.index)]);
      break;
    case ArgRole::Param:
    case ArgRole::DOut: {
      const Tensor &t = at[a.role == ArgRole::DOut ? fn.params.size() : static_cast<size_t>(a.index)];
      if (!a.pointer) {
        call += cNumber(t.data[0]);
        break;
      }
      d << cArray(cTypeName(a.dtype), name, t);
      call += name;
      break;
    }
    case ArgRole::Out:
    case ArgRole::Grad: {
      int64_t n = elementCount(a.shape, dims);
      d << "  static " << cTypeName(a.dtype) << " " << name << "[" << n << "];\n";
      call += name;
      prints.push_back("  for (i = 0; i < " + std::to_string(n) + "; ++i) printf(\"%.17g\\n\", (double)" + name + "[i]);\n");
      break;
    }
    case ArgRole::Workspace:
      call += "ws";
      break;
    }
  }
  std::string size = abi.workspaceSizeSymbol + "(";
  for (size_t i = 0; i < abi.dimArgs.size(); ++i)
    size += (i ? ", " : "") + std::to_string(dims[static_cast<size_t>(abi.dimArgs[i])]);
  size += ")";
  if (exactWorkspace)
    d << "  void *ws = malloc(" << size << " ? " << size << " : 1);\n"
      << "  if (!ws) { printf(\"ws\\n\"); return; }\n";
  else
    d << "  if (" << size << " > sizeof ws) { printf(\"ws\\n\"); return; }\n";
  // NaN bytes: a read of a workspace slot the code never wrote shows in the results.
  d << "  { size_t q; for (q = 0; q < " << size << "; ++q) ((unsigned char *)ws)[q] = 0xff; }\n";
  if (abi.grad.returnsValue)
    d << "  printf(\"%.17g\\n\", (double)" << call << "));\n";
  else
    d << "  " << call << ");\n";
  for (const std::string &s : prints)
    d << s;
  if (exactWorkspace)
    d << "  free(ws);\n";
  d << "  (void)i;\n}\n";
  return d.str();
}

GuardedDoubles::GuardedDoubles(size_t count) {
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t pages = (count * sizeof(double) + page - 1) / page + 1;
  bytes_ = pages * page;
  map_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map_ == MAP_FAILED)
    std::abort();
  char *guard = static_cast<char *>(map_) + bytes_ - page;
  if (mprotect(guard, page, PROT_NONE) != 0)
    std::abort();
  data_ = reinterpret_cast<double *>(guard) - count;
}

GuardedDoubles::~GuardedDoubles() { munmap(map_, bytes_); }

} // namespace gradc::test
