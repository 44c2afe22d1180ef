// CGradCheck.cpp: f_gradcheck as C99. The parameters are copied into the workspace (the
// caller's arrays are const), f_grad is called once, then every element of every
// differentiable parameter is moved by +-h and f called twice:
//   error = |g - d| / max(1, |g|, |d|),  d = (F(x + h) - F(x - h)) / ((x + h) - (x - h))
// with F = f for a scalar result and <d_out, f> otherwise, h = cbrt(eps) max(1, |x|).
// The worst error is returned (NaN when any is NaN, or when f fails on its inputs).
#include "backend/CGradCheck.h"

namespace gradc {

namespace {

std::string arg(size_t i) { return "a" + std::to_string(i); }

// The element count of a shape as a C expression.
std::string countOf(const Shape &shape, const std::vector<std::string> &dims) {
  std::string s = "(int64_t)1";
  for (const Dim &d : shape) {
    std::string e = d.isLiteral() ? std::to_string(d.off) : dims[static_cast<size_t>(d.sym)];
    if (!d.isLiteral() && d.off != 0)
      e = "(" + e + (d.off < 0 ? " - " : " + ") + std::to_string(d.off < 0 ? -d.off : d.off) + ")";
    s += " * " + e;
  }
  return s;
}

const char *stepFor(DType t) { return t == DType::F32 ? "5e-3" : "6e-6"; } // cbrt(epsilon)

} // namespace

std::string printCGradCheck(const Function &fn, const AbiSet &abi, const std::map<int32_t, int64_t> &boundDims) {
  const AbiFunction &gc = abi.gradcheck;
  std::vector<std::string> dims(fn.graph->dims().names.size());
  for (auto [sym, v] : boundDims)
    dims[static_cast<size_t>(sym)] = std::to_string(v);
  std::vector<std::string> types = gc.cTypes();
  std::string params, dimList;
  int dOut = -1;
  std::vector<int> paramArg(fn.params.size(), -1);
  for (size_t i = 0; i < gc.args.size(); ++i) {
    const AbiArg &a = gc.args[i];
    const std::string &ty = types[i + 1];
    params += (i ? ", " : "") + ty + (ty.back() == '*' ? "" : " ") + arg(i);
    if (a.role == ArgRole::Dim) {
      dims[static_cast<size_t>(a.index)] = arg(i);
      dimList += (dimList.empty() ? "" : ", ") + arg(i);
    } else if (a.role == ArgRole::Param) {
      paramArg[static_cast<size_t>(a.index)] = static_cast<int>(i);
    } else if (a.role == ArgRole::DOut) {
      dOut = static_cast<int>(i);
    }
  }
  const Type &result = fn.graph->type(fn.result);
  bool scalarResult = result.isScalar();

  // The layout after f's own workspace: a copy of each array parameter, each array
  // gradient, and f's output (non-scalar results). `body` gets the pointers; both the
  // function and its size function print the same offsets.
  auto layout = [&](bool pointers) {
    std::string s = "  int64_t off = ((int64_t)" + abi.workspaceSizeSymbol + "(" + dimList + ") + 63) & ~(int64_t)63;\n";
    auto buffer = [&](const std::string &name, DType t, const Shape &shape) {
      std::string ty = cTypeName(t);
      if (pointers)
        s += "  " + ty + " *const " + name + " = (" + ty + " *)(void *)(w + off);\n";
      s += "  off += ((int64_t)sizeof(" + ty + ") * " + countOf(shape, dims) + " + 63) & ~(int64_t)63;\n";
    };
    for (size_t p = 0; p < fn.params.size(); ++p) {
      const ParamInfo &pi = fn.params[p];
      if (pi.type.isScalar())
        continue;
      buffer("c" + std::to_string(p), pi.type.dtype, pi.type.shape);
      if (!pi.isConst)
        buffer("g" + std::to_string(p), pi.type.dtype, pi.type.shape);
    }
    if (!scalarResult)
      buffer("out", result.dtype, result.shape);
    return s;
  };

  // A call of f or f_grad with the copies in place of the parameters.
  auto call = [&](const AbiFunction &f) {
    std::string s = f.symbol + "(";
    for (size_t i = 0; i < f.args.size(); ++i) {
      const AbiArg &a = f.args[i];
      std::string p = std::to_string(a.index);
      s += i ? ", " : "";
      switch (a.role) {
      case ArgRole::Dim: s += dims[static_cast<size_t>(a.index)]; break;
      case ArgRole::Param: s += "c" + p; break;
      case ArgRole::DOut: s += arg(static_cast<size_t>(dOut)); break;
      case ArgRole::Out: s += "out"; break;
      case ArgRole::Grad: s += a.pointer && !a.shape.empty() ? "g" + p : "&g" + p; break;
      case ArgRole::Workspace: s += "w"; break;
      }
    }
    return s + ")";
  };
  // Statements setting `var` to F at the current copies.
  auto evalF = [&](const std::string &var) {
    if (scalarResult)
      return "      const double " + var + " = (double)" + call(abi.value) + ";\n";
    return "      double " + var + " = 0;\n      " + call(abi.value) + ";\n      for (int64_t j = 0; j < " +
           countOf(result.shape, dims) + "; ++j)\n        " + var + " += (double)" + arg(static_cast<size_t>(dOut)) +
           "[j] * (double)out[j];\n";
  };

  std::string c = "double " + gc.symbol + "(" + params + ") {\n";
  c += "  char *const w = (char *)" + arg(gc.args.size() - 1) + ";\n";
  c += "  double worst = 0;\n";
  for (size_t i = 0; i < gc.args.size(); ++i)
    if (gc.args[i].role == ArgRole::Dim)
      c += "  if (" + arg(i) + " < 0)\n    return NAN;\n";
  c += layout(true);
  c += "  (void)off;\n";
  for (size_t p = 0; p < fn.params.size(); ++p) {
    const ParamInfo &pi = fn.params[p];
    std::string ty = cTypeName(pi.type.dtype), src = arg(static_cast<size_t>(paramArg[p]));
    if (pi.type.isScalar()) {
      c += "  " + ty + " c" + std::to_string(p) + " = " + src + ";\n";
      if (!pi.isConst)
        c += "  " + ty + " g" + std::to_string(p) + ";\n";
    } else {
      c += "  for (int64_t i = 0; i < " + countOf(pi.type.shape, dims) + "; ++i)\n    c" + std::to_string(p) +
           "[i] = " + src + "[i];\n";
    }
  }
  if (scalarResult)
    c += "  const double value = (double)" + call(abi.grad) + ";\n  if (value != value)\n    return NAN; /* f fails here */\n";
  else
    c += "  " + call(abi.grad) + ";\n";
  for (size_t p = 0; p < fn.params.size(); ++p) {
    const ParamInfo &pi = fn.params[p];
    if (pi.isConst || !isFloat(pi.type.dtype))
      continue;
    std::string ps = std::to_string(p);
    bool scalar = pi.type.isScalar();
    std::string x = scalar ? "c" + ps : "c" + ps + "[i]", g = scalar ? "g" + ps : "g" + ps + "[i]";
    std::string ty = cTypeName(pi.type.dtype);
    c += "  for (int64_t i = 0; i < " + (scalar ? std::string("1") : countOf(pi.type.shape, dims)) + "; ++i) {\n";
    c += "    const " + ty + " x = " + x + ";\n";
    c += "    const " + ty + " h = (" + ty + ")(" + stepFor(pi.type.dtype) + " * (fabs((double)x) > 1 ? fabs((double)x) : 1));\n";
    c += "    const " + ty + " up = x + h, down = x - h;\n";
    c += "    {\n      " + x + " = up;\n" + evalF("fu") + "      " + x + " = down;\n" + evalF("fd") + "      " + x +
         " = x;\n";
    c += "      const double d = (fu - fd) / ((double)up - (double)down), gv = (double)" + g + ";\n";
    c += "      double scale = fabs(gv) > fabs(d) ? fabs(gv) : fabs(d);\n";
    c += "      const double e = fabs(gv - d) / (scale > 1 ? scale : 1);\n";
    c += "      if (!(e <= worst))\n        worst = e;\n    }\n  }\n";
  }
  c += "  return worst;\n}\n";

  std::string sizeParams;
  for (size_t i = 0; i < gc.args.size(); ++i)
    if (gc.args[i].role == ArgRole::Dim)
      sizeParams += (sizeParams.empty() ? "int64_t " : ", int64_t ") + arg(i);
  c += "size_t " + abi.gradcheckWorkspaceSizeSymbol + "(" + (sizeParams.empty() ? "void" : sizeParams) + ") {\n";
  for (size_t i = 0; i < gc.args.size(); ++i)
    if (gc.args[i].role == ArgRole::Dim)
      c += "  if (" + arg(i) + " < 0)\n    return 0;\n";
  c += layout(false) + "  return (size_t)off;\n}\n";
  return c;
}

} // namespace gradc
