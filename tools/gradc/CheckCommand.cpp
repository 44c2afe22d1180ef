// CheckCommand.cpp: `gradc check`, the gradient against central finite differences.
#include "Commands.h"
#include "CommandSupport.h"

#include "Output.h"
#include "autodiff/ReverseMode.h"
#include "interp/Interpreter.h"
#include "ir/DimArith.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <random>

namespace gradc::cli {

// A random point for `gradc check`: N(0, 1) values, labels uniform over their classes, dims
// from --dim or 3, and for a non-scalar result an N(0, 1) upstream gradient (the last tensor).
static bool randomPoint(CompiledSource &cs, const Function &fnRef, const GradientGraph &gg, const CheckOptions &opts,
                 std::vector<Tensor> &params, std::vector<int64_t> &dimValues) {
  const Function *fn = &fnRef;
  const DimTable &dims = *cs.program.dims;
  std::map<int32_t, int64_t> fixed;
  std::string error;
  if (!parseDims(opts.inputs.dims, dims, fixed, error)) {
    std::cerr << opts.common.file << ": error: " << error << "\n";
    return false;
  }
  dimValues.assign(dims.names.size(), 3);
  for (auto &[sym, v] : fixed)
    dimValues[static_cast<size_t>(sym)] = v;
  for (int32_t sym : fn->usedDims())
    if (!fixed.count(sym))
      std::cout << "note: dim " << dims.names[static_cast<size_t>(sym)]
                << " = 3 (choose with --dim)\n";
  if (std::string e = completeDimValues(dims, dimValues, fn->mentionedDims()); !e.empty()) {
    std::cerr << opts.common.file << ": error: " << e << " (choose the dims with --dim)\n";
    return false;
  }
  // Refuse dims too large for memory before anything is made (n = 2^40 is 8 TiB per vector).
  if (std::string e = checkValueMemory(*fn, dims, dimValues); !e.empty()) {
    std::cerr << opts.common.file << ": error: " << e << "\n";
    return false;
  }
  std::mt19937_64 rng(opts.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  // Integer parameters are labels: uniform over the classes of the pick that reads them.
  auto classesOf = [&](const ParamInfo &p) {
    int64_t classes = 1;
    for (size_t i = 0; i < fn->graph->size(); ++i) {
      const Node &n = fn->graph->node(static_cast<NodeId>(i));
      if (n.op == Op::Pick && n.operands[1] == p.node)
        classes = concreteShape(fn->graph->type(n.operands[0]).shape, dimValues)[1];
    }
    return std::max<int64_t>(classes, 1);
  };
  for (const ParamInfo &p : fn->params) {
    Tensor t;
    t.shape = concreteShape(p.type.shape, dimValues);
    int64_t count = checkedElementCount(t.shape); // valid: checkValueMemory passed
    std::uniform_int_distribution<int64_t> label(0, isInteger(p.type.dtype) ? classesOf(p) - 1 : 0);
    for (int64_t i = 0; i < count; ++i)
      t.data.push_back(isInteger(p.type.dtype) ? static_cast<double>(label(rng)) : normal(rng));
    params.push_back(std::move(t));
  }
  if (gg.dOut != kNoNode) {
    Tensor u;
    u.shape = concreteShape(fn->graph->type(fn->result).shape, dimValues);
    int64_t count = checkedElementCount(u.shape);
    for (int64_t i = 0; i < count; ++i)
      u.data.push_back(normal(rng));
    params.push_back(std::move(u));
  }
  return true;
}

// Compares the reverse-mode gradient with central differences at a random point.
// For a non-scalar result f, it checks the vector-Jacobian product with a random u
// against the derivative of the scalar <u, f(x)>.
int checkCommand(const CheckOptions &opts) {
  int code = kOk;
  std::unique_ptr<CompiledSource> cs;
  Function *fn = loadFunction(opts.common, cs, code);
  if (!fn)
    return code;
  GradientGraph gg = differentiate(*fn);
  std::vector<Tensor> params;
  std::vector<int64_t> dimValues;
  bool atGivenPoint = !opts.inputs.at.empty() || !opts.inputs.atFile.empty();
  if (atGivenPoint) { // the point given, as `gradc run` takes it; a d_out not given is random
    InputSpec spec = opts.inputs;
    spec.randomDOutSeed = opts.seed;
    std::string error;
    auto inputs = bindInputs(*fn, *cs->program.dims, spec, opts.common.file, error);
    if (!inputs) {
      std::cerr << error;
      return kUserError;
    }
    params = std::move(inputs->params);
    dimValues = std::move(inputs->dimValues);
  } else if (!randomPoint(*cs, *fn, gg, opts, params, dimValues)) {
    return kUserError;
  }
  Tensor u; // the upstream gradient for a non-scalar result
  if (gg.dOut != kNoNode)
    u = params.back();

  // The gradient comes from the chosen engine; the differences from the interpreter.
  EvalResult r;
  if (opts.common.engine == "interp") {
    std::vector<NodeId> roots{gg.value};
    roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
    r = evaluate(*fn->graph, roots, params, dimValues);
  } else {
    auto cf = compileForJit(*cs, *fn, opts.common, {}, code);
    if (!cf)
      return code;
    r = invokeCompiled(*cf, *fn, params, dimValues);
  }
  if (!r.ok()) {
    reportRuntimeError(*cs, r);
    return kUserError;
  }
  auto scalarValue = [&](std::vector<Tensor> &at) {
    EvalResult v = evaluate(*fn->graph, {fn->result}, at, dimValues);
    double s = 0;
    const Tensor &t = v.outputs[0];
    for (size_t i = 0; i < t.data.size(); ++i)
      s += (gg.dOut == kNoNode ? 1.0 : u.data[i]) * t.data[i];
    return s;
  };

  if (atGivenPoint)
    std::cout << "check " << fn->name << " (at the point given, central differences)\n";
  else
    std::cout << "check " << fn->name << " (seed " << opts.seed << ", central differences)\n";
  bool allOk = true;
  for (size_t p = 0; p < fn->params.size(); ++p) {
    if (gg.grads[p] == kNoNode)
      continue;
    const Tensor &grad = r.outputs[p + 1];
    double worst = 0;
    size_t worstAt = 0;
    for (size_t i = 0; i < params[p].data.size(); ++i) {
      double x = params[p].data[i];
      double h = centralDifferenceStep(DType::F64) * std::max(1.0, std::fabs(x)); // the interpreter's arithmetic
      params[p].data[i] = x + h;
      double up = scalarValue(params);
      params[p].data[i] = x - h;
      double down = scalarValue(params);
      params[p].data[i] = x;
      double fd = (up - down) / (2 * h);
      double a = grad.data[i];
      double err = std::fabs(a - fd) / std::max({1.0, std::fabs(a), std::fabs(fd)});
      if (std::isnan(err))
        err = std::isnan(a) && std::isnan(fd) ? 0 : INFINITY;
      if (err > worst || i == 0) {
        worst = err;
        worstAt = i;
      }
    }
    bool ok = worst <= opts.tolerance;
    allOk = allOk && ok;
    std::cout << "  " << std::left << std::setw(12) << fn->params[p].name
              << " worst relative error " << std::scientific << std::setprecision(2) << worst
              << std::defaultfloat;
    if (params[p].data.size() > 1)
      std::cout << " (element " << worstAt << ")";
    std::cout << (ok ? "  ok" : "  FAILED") << "\n";
  }
  std::cout << (allOk ? "gradient check passed" : "gradient check FAILED") << " (tolerance "
            << opts.tolerance << ")\n";
  return allOk ? kOk : kCheckFailed;
}

} // namespace gradc::cli
