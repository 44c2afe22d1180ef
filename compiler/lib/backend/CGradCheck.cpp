// CGradCheck.cpp: f_gradcheck as C99. The parameters are copied into the workspace (the
// caller's arrays are const), f_grad is called once, then every element of every
// differentiable parameter is moved by +-h and f called twice:
//   error = |g - d| / max(1, |g|, |d|),  d = (F(x + h) - F(x - h)) / ((x + h) - (x - h))
// with F = f for a scalar result and <d_out, f> otherwise, h = cbrt(eps) max(1, |x|).
// The worst error is returned (NaN when any is NaN, or when f fails on its inputs). Every
// name it declares begins with gradc_, which no user function's symbol may (CNames.h): the
// calls of f and f_grad always reach them.
#include "backend/CGradCheck.h"

#include "backend/CElementBuilder.h"

namespace gradc {

namespace {

std::string arg(size_t i) { return "gradc_a" + std::to_string(i); }

// The size of each axis of a shape as C expressions.
std::vector<std::string> sizesOf(const Shape &shape, const std::vector<std::string> &dims) {
  std::vector<std::string> out;
  for (const Dim &d : shape) {
    std::string e = d.isLiteral() ? std::to_string(d.off) : dims[static_cast<size_t>(d.sym)];
    if (!d.isLiteral() && d.off != 0)
      e = "(" + e + (d.off < 0 ? " - " : " + ") + std::to_string(d.off < 0 ? -d.off : d.off) + ")";
    out.push_back(e);
  }
  return out;
}

// The element count of a shape as a C expression (its sizes checked first: cannot wrap).
std::string countOf(const Shape &shape, const std::vector<std::string> &dims) {
  std::string s = "(int64_t)1";
  for (const std::string &e : sizesOf(shape, dims))
    s += " * " + e;
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

  // Dims out of range, or sizes too large to index, make f_gradcheck NaN and its size
  // function SIZE_MAX (ABI.md).
  auto checks = [&](const std::string &fail) {
    std::string s;
    for (size_t i = 0; i < gc.args.size(); ++i)
      if (gc.args[i].role == ArgRole::Dim) // in 0..2^56 as the entries require
        s += "  if (" + arg(i) + " < 0 || " + arg(i) + " > " + std::to_string(kMaxElements) + ")\n    return " + fail +
             ";\n";
    std::vector<const Shape *> shapes{&result.shape};
    for (const ParamInfo &p : fn.params)
      shapes.push_back(&p.type.shape);
    for (const Shape *shape : shapes)
      if (std::string fits = cShapeFitsText(*shape, sizesOf(*shape, dims)); fits != "1")
        s += "  if (!" + fits + ")\n    return " + fail + ";\n";
    return s;
  };
  // The layout after f's own workspace, in unsigned arithmetic with its sum checked: an offset
  // gradc_o<k> per buffer (a copy of each array parameter, each array gradient, f's output),
  // then gradc_off, the bytes in all.
  std::vector<std::pair<std::string, std::string>> buffers; // name, C type
  auto layout = [&](const std::string &fail) {
    std::string s = "  const uint64_t gradc_own = " + abi.workspaceSizeSymbol + "(" + dimList + ");\n"
                    "  if (gradc_own == (uint64_t)(size_t)-1)\n    return " + fail + ";\n"
                    "  uint64_t gradc_off = (gradc_own + 63) & ~(uint64_t)63;\n";
    buffers.clear();
    auto buffer = [&](const std::string &name, DType t, const Shape &shape) {
      std::string ty = cTypeName(t), k = std::to_string(buffers.size());
      buffers.push_back({name, ty});
      s += "  const uint64_t gradc_o" + k + " = gradc_off;\n";
      s += "  gradc_off += ((uint64_t)sizeof(" + ty + ") * (uint64_t)(" + countOf(shape, dims) +
           ") + 63) & ~(uint64_t)63;\n";
      s += "  if (gradc_off < gradc_o" + k + ")\n    return " + fail + ";\n";
    };
    for (size_t p = 0; p < fn.params.size(); ++p) {
      const ParamInfo &pi = fn.params[p];
      if (pi.type.isScalar())
        continue;
      buffer("gradc_c" + std::to_string(p), pi.type.dtype, pi.type.shape);
      if (!pi.isConst)
        buffer("gradc_g" + std::to_string(p), pi.type.dtype, pi.type.shape);
    }
    if (!scalarResult)
      buffer("gradc_out", result.dtype, result.shape);
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
      case ArgRole::Param: s += "gradc_c" + p; break;
      case ArgRole::DOut: s += arg(static_cast<size_t>(dOut)); break;
      case ArgRole::Out: s += "gradc_out"; break;
      case ArgRole::Grad: s += a.pointer && !a.shape.empty() ? "gradc_g" + p : "&gradc_g" + p; break;
      case ArgRole::Workspace: s += "gradc_w"; break;
      }
    }
    return s + ")";
  };
  // Statements setting `var` to F at the current copies.
  auto evalF = [&](const std::string &var) {
    if (scalarResult)
      return "      const double " + var + " = (double)" + call(abi.value) + ";\n";
    return "      double " + var + " = 0;\n      " + call(abi.value) + ";\n      for (int64_t gradc_j = 0; gradc_j < " +
           countOf(result.shape, dims) + "; ++gradc_j)\n        " + var + " += (double)" +
           arg(static_cast<size_t>(dOut)) + "[gradc_j] * (double)gradc_out[gradc_j];\n";
  };

  std::string c = "double " + gc.symbol + "(" + params + ") {\n";
  c += "  char *const gradc_w = (char *)" + arg(gc.args.size() - 1) + ";\n";
  c += "  double gradc_worst = 0;\n";
  c += checks("NAN") + layout("NAN");
  c += "  if (gradc_off != 0 && gradc_w == 0)\n    return NAN; /* no workspace given */\n";
  for (size_t k = 0; k < buffers.size(); ++k) {
    const auto &[name, ty] = buffers[k];
    c += "  " + ty + " *const " + name + " = (" + ty + " *)(void *)(gradc_w + gradc_o" + std::to_string(k) + ");\n";
  }
  for (size_t p = 0; p < fn.params.size(); ++p) {
    const ParamInfo &pi = fn.params[p];
    std::string ty = cTypeName(pi.type.dtype), src = arg(static_cast<size_t>(paramArg[p]));
    std::string ps = std::to_string(p);
    if (pi.type.isScalar()) {
      c += "  " + ty + " gradc_c" + ps + " = " + src + ";\n";
      if (!pi.isConst)
        c += "  " + ty + " gradc_g" + ps + ";\n";
    } else {
      c += "  for (int64_t gradc_i = 0; gradc_i < " + countOf(pi.type.shape, dims) + "; ++gradc_i)\n    gradc_c" + ps +
           "[gradc_i] = " + src + "[gradc_i];\n";
    }
  }
  if (scalarResult)
    c += "  const double gradc_value = (double)" + call(abi.grad) +
         ";\n  if (gradc_value != gradc_value)\n    return NAN; /* f fails here */\n";
  else
    c += "  " + call(abi.grad) + ";\n";
  for (size_t p = 0; p < fn.params.size(); ++p) {
    const ParamInfo &pi = fn.params[p];
    if (pi.isConst || !isFloat(pi.type.dtype))
      continue;
    std::string ps = std::to_string(p);
    bool scalar = pi.type.isScalar();
    std::string x = scalar ? "gradc_c" + ps : "gradc_c" + ps + "[gradc_i]";
    std::string g = scalar ? "gradc_g" + ps : "gradc_g" + ps + "[gradc_i]";
    std::string ty = cTypeName(pi.type.dtype);
    c += "  for (int64_t gradc_i = 0; gradc_i < " + (scalar ? std::string("1") : countOf(pi.type.shape, dims)) +
         "; ++gradc_i) {\n";
    c += "    const " + ty + " gradc_x = " + x + ";\n";
    c += "    const " + ty + " gradc_h = (" + ty + ")(" + stepFor(pi.type.dtype) +
         " * (fabs((double)gradc_x) > 1 ? fabs((double)gradc_x) : 1));\n";
    c += "    const " + ty + " gradc_up = gradc_x + gradc_h, gradc_down = gradc_x - gradc_h;\n";
    c += "    {\n      " + x + " = gradc_up;\n" + evalF("gradc_fu") + "      " + x + " = gradc_down;\n" +
         evalF("gradc_fd") + "      " + x + " = gradc_x;\n";
    c += "      const double gradc_d = (gradc_fu - gradc_fd) / ((double)gradc_up - (double)gradc_down), gradc_gv = "
         "(double)" + g + ";\n";
    c += "      double gradc_scale = fabs(gradc_gv) > fabs(gradc_d) ? fabs(gradc_gv) : fabs(gradc_d);\n";
    c += "      const double gradc_e = fabs(gradc_gv - gradc_d) / (gradc_scale > 1 ? gradc_scale : 1);\n";
    c += "      if (!(gradc_e <= gradc_worst))\n        gradc_worst = gradc_e;\n    }\n  }\n";
  }
  c += "  return gradc_worst;\n}\n";

  std::string sizeParams;
  for (size_t i = 0; i < gc.args.size(); ++i)
    if (gc.args[i].role == ArgRole::Dim)
      sizeParams += (sizeParams.empty() ? "int64_t " : ", int64_t ") + arg(i);
  c += "size_t " + abi.gradcheckWorkspaceSizeSymbol + "(" + (sizeParams.empty() ? "void" : sizeParams) + ") {\n";
  c += checks("(size_t)-1") + layout("(size_t)-1") + "  return (size_t)gradc_off;\n}\n";
  return c;
}

} // namespace gradc
