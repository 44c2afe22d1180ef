// Invoke.cpp: marshals tensors into the C ABI (per dtype) and calls the packed entries.
#include "pipeline/Invoke.h"

#include "ir/DimArith.h"

#include "ir/OpTable.h"
#include "loops/Plan.h"
#include "support/Memory.h"
#include "support/Numbers.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

namespace gradc {

namespace {

int64_t dimValueOf(const Dim &d, const std::vector<int64_t> &dims) { return dimValue(d, dims); }

// Sizes were checked on entry (checkIndexBounds): no count here can be negative or wrap.
int64_t elements(const Shape &s, const std::vector<int64_t> &dims) {
  return std::max<int64_t>(0, checkedElementCount(concreteShape(s, dims)));
}

size_t dtypeBytes(DType t) { return t == DType::F64 || t == DType::I64 ? 8 : t == DType::Bool ? 1 : 4; }

// Integer parameters are validated when bound (integral, in range); converting anything
// else saturates instead of being undefined.
template <typename T> T saturate(double v) {
  if (!(v == v))
    return 0;
  if (v <= static_cast<double>(std::numeric_limits<T>::min()))
    return std::numeric_limits<T>::min();
  if (v >= -static_cast<double>(std::numeric_limits<T>::min())) // 2^31 or 2^63: exact
    return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}

void writeAs(DType t, double v, void *p) {
  switch (t) {
  case DType::F64: { double x = v; std::memcpy(p, &x, 8); break; }
  case DType::F32: { float x = static_cast<float>(v); std::memcpy(p, &x, 4); break; }
  case DType::I32: { int32_t x = saturate<int32_t>(v); std::memcpy(p, &x, 4); break; }
  case DType::I64: { int64_t x = saturate<int64_t>(v); std::memcpy(p, &x, 8); break; }
  case DType::Bool: { uint8_t x = v != 0; std::memcpy(p, &x, 1); break; }
  }
}

double readAs(DType t, const void *p) {
  switch (t) {
  case DType::F64: { double x; std::memcpy(&x, p, 8); return x; }
  case DType::F32: { float x; std::memcpy(&x, p, 4); return x; }
  case DType::I32: { int32_t x; std::memcpy(&x, p, 4); return x; }
  case DType::I64: { int64_t x; std::memcpy(&x, p, 8); return static_cast<double>(x); }
  case DType::Bool: { uint8_t x; std::memcpy(&x, p, 1); return x; }
  }
  return 0;
}

struct Buffer {
  std::vector<unsigned char> bytes;
  DType dtype = DType::F64;
  void from(const Tensor &t, DType d) {
    dtype = d;
    bytes.assign(std::max<size_t>(1, t.data.size()) * dtypeBytes(d), 0);
    for (size_t i = 0; i < t.data.size(); ++i)
      writeAs(d, t.data[i], bytes.data() + i * dtypeBytes(d));
  }
  void zeros(int64_t n, DType d) {
    dtype = d;
    bytes.assign(static_cast<size_t>(std::max<int64_t>(1, n)) * dtypeBytes(d), 0);
  }
  Tensor to(std::vector<int64_t> shape, int64_t n) const {
    Tensor t{std::move(shape), {}};
    for (int64_t i = 0; i < n; ++i)
      t.data.push_back(readAs(dtype, bytes.data() + static_cast<size_t>(i) * dtypeBytes(dtype)));
    return t;
  }
};

std::vector<int64_t> concrete(const Shape &s, const std::vector<int64_t> &dims) {
  return concreteShape(s, dims);
}

// The workspace for these dims (none when it is empty), of the size the compiled function
// computes from the dims alone. False, with `error`, when it cannot be allocated.
bool allocateWorkspace(const CompiledFunction &cf, const std::vector<int64_t> &dimValues,
                       std::unique_ptr<void, decltype(&std::free)> &ws, std::string &error) {
  std::vector<int64_t> dimArgs;
  std::vector<void *> dimArgv;
  for (int32_t sym : cf.abi.dimArgs)
    dimArgs.push_back(dimValues[static_cast<size_t>(sym)]);
  for (int64_t &d : dimArgs)
    dimArgv.push_back(&d);
  uint64_t wsBytes = 0;
  dimArgv.push_back(&wsBytes);
  cf.workspaceSizePacked(dimArgv.data());
  if (wsBytes == SIZE_MAX) { // the sizes were checked before (checkIndexBounds): a bug, not the user's dims
    error = "the workspace size overflows for these dims";
    return false;
  }
  if (size_t available = availableMemoryBytes(); available && wsBytes > available) {
    char text[160];
    std::snprintf(text, sizeof text, "the workspace for these dims needs %.1f GiB of memory, and %.1f GiB are available",
                  static_cast<double>(wsBytes) / 0x1p30, static_cast<double>(available) / 0x1p30);
    error = text;
    return false;
  }
  if (wsBytes) {
    ws.reset(std::aligned_alloc(kBufferAlign, (wsBytes + kBufferAlign - 1) / kBufferAlign * kBufferAlign));
    if (!ws) {
      error = "out of memory: the workspace needs " + std::to_string(wsBytes) + " bytes";
      return false;
    }
  }
  return true;
}

} // namespace

Tensor tensorFromMemory(const void *data, DType dtype, std::vector<int64_t> shape) {
  Tensor t{std::move(shape), {}};
  int64_t n = std::max<int64_t>(0, checkedElementCount(t.shape));
  const auto *bytes = static_cast<const unsigned char *>(data);
  for (int64_t i = 0; i < n; ++i)
    t.data.push_back(readAs(dtype, bytes + static_cast<size_t>(i) * dtypeBytes(dtype)));
  return t;
}

bool checkIndexBounds(const Graph &g, const std::vector<NodeId> &roots,
                      const std::vector<int64_t> &dims, std::string &error, SourceLoc &loc,
                      const std::vector<Tensor> &params, const std::vector<std::string> &paramNames) {
  std::vector<bool> needed = reachableFrom(g, roots);
  NodeId tooLarge = kNoNode;
  if (error = checkTensorSizes(g, needed, dims, tooLarge); !error.empty()) {
    loc = g.loc(tooLarge);
    return false;
  }
  for (size_t i = 0; i < g.size(); ++i) {
    const Node &n = g.node(static_cast<NodeId>(i));
    bool indexArray = n.op == Op::Pick || n.op == Op::Gather || n.op == Op::ScatterAdd;
    for (size_t k = 1; indexArray && needed[i] && !params.empty() && k < n.operands.size(); ++k) {
      // The labels (indices) come from the parameters (an i32/i64 tensor is never computed).
      NodeId source = indexArraySource(g, n.operands[k]);
      EvalResult labels = evaluate(g, {source}, params, dims);
      bool pick = n.op == Op::Pick;
      size_t axis = pick ? 1 : static_cast<size_t>(n.ints[0]) + k - 1;
      int64_t classes = dimValueOf((n.op == Op::ScatterAdd ? n.type : g.type(n.operands[0])).shape[axis], dims);
      for (size_t r = 0; labels.ok() && r < labels.outputs[0].data.size(); ++r) {
        double label = labels.outputs[0].data[r];
        if (!(label >= 0 && label < static_cast<double>(classes))) {
          const Node &y = g.node(source);
          size_t p = y.op == Op::Param ? static_cast<size_t>(y.ints[0]) : paramNames.size();
          std::string value = integerText(label), what = pick ? "label " : "index ";
          std::string at = labels.outputs[0].shape.empty() ? "" : "[" + std::to_string(r) + "]";
          error = p < paramNames.size()
                      ? what + paramNames[p] + at + " = " + value
                      : what + value + " (element " + std::to_string(r) + ")";
          error += pick ? " is out of range for " + std::to_string(classes) + " classes"
                        : " is out of range for the axis it indexes, of size " + std::to_string(classes);
          loc = g.loc(static_cast<NodeId>(i));
          return false;
        }
      }
    }
    if (!needed[i] || (n.op != Op::Index && n.op != Op::IndexGrad))
      continue;
    const Shape &full = n.op == Op::Index ? g.type(n.operands[0]).shape : n.type.shape;
    std::vector<IndexAxis> axes = decodeIndexSpec(n.ints);
    for (size_t k = 0; k < axes.size(); ++k) {
      int64_t s = dimValueOf(axes[k].start, dims);
      int64_t e = axes[k].slice ? dimValueOf(axes[k].stop, dims) : s + 1;
      int64_t size = dimValueOf(full[k], dims);
      if (s < 0 || e > size || e < s) {
        error = axes[k].slice ? "slice " + std::to_string(s) + ":" + std::to_string(e)
                              : "index " + std::to_string(s);
        error += " is out of range for axis " + std::to_string(k) + " of size " + std::to_string(size);
        loc = g.loc(static_cast<NodeId>(i));
        return false;
      }
    }
  }
  return true;
}

EvalResult invokeCompiled(const CompiledFunction &cf, const Function &fn,
                          const std::vector<Tensor> &params, const std::vector<int64_t> &givenDims,
                          bool valueOnly) {
  EvalResult result;
  std::vector<int64_t> dimValues = givenDims; // with the derived dims (`K*D`) computed
  if (result.error = completeDimValues(cf.graph->dims(), dimValues, mentionedDims(*cf.graph, cf.roots)); !result.error.empty())
    return result;
  std::vector<std::string> names;
  for (const ParamInfo &p : fn.params)
    names.push_back(p.name);
  if (!checkIndexBounds(*cf.graph, valueOnly ? std::vector<NodeId>{cf.roots[0]} : cf.roots,
                        dimValues, result.error, result.errorLoc, params, names))
    return result;
  const AbiFunction &abi = valueOnly ? cf.abi.value : cf.abi.grad;
  size_t nargs = abi.args.size();
  std::vector<Buffer> buffers(nargs);
  std::vector<std::array<unsigned char, 8>> slots(nargs + 1);
  std::vector<void *> argv(nargs + 1);
  std::unique_ptr<void, decltype(&std::free)> ws(nullptr, &std::free);
  if (!allocateWorkspace(cf, dimValues, ws, result.error))
    return result;

  const Type &resultType = fn.graph->type(fn.result);
  for (size_t i = 0; i < nargs; ++i) {
    const AbiArg &a = abi.args[i];
    void *slot = slots[i].data();
    argv[i] = slot;
    void *ptr = nullptr;
    switch (a.role) {
    case ArgRole::Dim: {
      int64_t v = dimValues[static_cast<size_t>(a.index)];
      std::memcpy(slot, &v, 8);
      continue;
    }
    case ArgRole::Param:
      if (!a.pointer) {
        writeAs(a.dtype, params[static_cast<size_t>(a.index)].data.at(0), slot);
        continue;
      }
      buffers[i].from(params[static_cast<size_t>(a.index)], a.dtype);
      ptr = buffers[i].bytes.data();
      break;
    case ArgRole::DOut:
      buffers[i].from(params[fn.params.size()], a.dtype);
      ptr = buffers[i].bytes.data();
      break;
    case ArgRole::Out:
      buffers[i].zeros(elements(resultType.shape, dimValues), a.dtype);
      ptr = buffers[i].bytes.data();
      break;
    case ArgRole::Grad:
      buffers[i].zeros(elements(a.shape, dimValues), a.dtype);
      ptr = buffers[i].bytes.data();
      break;
    case ArgRole::Workspace:
      ptr = ws.get();
      break;
    }
    std::memcpy(slot, &ptr, sizeof ptr);
  }
  argv[nargs] = slots[nargs].data();
  GRADC_ASSERT(!valueOnly || cf.valuePacked, "f was not compiled (LoweringOptions::valueEntry)");
  (valueOnly ? cf.valuePacked : cf.gradPacked)(argv.data());

  // Collect the value, then the gradients in parameter order.
  std::vector<int64_t> resultShape = concrete(resultType.shape, dimValues);
  if (abi.returnsValue) {
    result.outputs.push_back(Tensor{{}, {readAs(abi.returnType, slots[nargs].data())}});
  } else {
    for (size_t i = 0; i < nargs; ++i)
      if (abi.args[i].role == ArgRole::Out)
        result.outputs.push_back(buffers[i].to(resultShape, elements(resultType.shape, dimValues)));
  }
  if (valueOnly)
    return result;
  result.outputs.resize(fn.params.size() + 1);
  for (size_t i = 0; i < nargs; ++i) {
    const AbiArg &a = abi.args[i];
    if (a.role == ArgRole::Grad)
      result.outputs[static_cast<size_t>(a.index) + 1] =
          buffers[i].to(concrete(a.shape, dimValues), elements(a.shape, dimValues));
  }
  return result;
}

} // namespace gradc
