// Abi.cpp: the argument lists of exported functions (DESIGN.md, "Emitted code").
#include "backend/Abi.h"

#include <set>

namespace gradc {

const char *cTypeName(DType t) {
  switch (t) {
  case DType::F64:
    return "double";
  case DType::F32:
    return "float";
  case DType::I32:
    return "int32_t";
  case DType::I64:
    return "int64_t";
  case DType::Bool:
    return "uint8_t";
  }
  return "double";
}

std::string cSymbolName(const std::string &name) {
  // C keywords, and the C library symbols compiled code may call or a C host may define.
  static const std::set<std::string> reserved = {
      "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
      "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
      "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
      "typedef", "union", "unsigned", "void", "volatile", "while", "bool", "true", "false",
      "main", "abs", "exp", "expf", "log", "logf", "sqrt", "sqrtf", "sin", "sinf", "cos",
      "cosf", "tanh", "tanhf", "pow", "powf", "fabs", "fabsf", "memset", "memcpy", "memmove",
      "malloc", "free", "calloc", "realloc", "abort", "exit", "printf", "max", "min", "sum",
      "mean", "errno", "stdin", "stdout", "stderr", "assert", "NULL"};
  return reserved.count(name) ? name + "_" : name;
}

static std::string argType(const AbiArg &a) {
  if (a.role == ArgRole::Workspace)
    return "void *";
  if (a.role == ArgRole::Dim)
    return "int64_t";
  if (!a.pointer)
    return cTypeName(a.dtype);
  return std::string(a.role == ArgRole::Param || a.role == ArgRole::DOut ? "const " : "") +
         cTypeName(a.dtype) + " *";
}

std::vector<std::string> AbiFunction::cTypes() const {
  std::vector<std::string> t{returnsValue ? cTypeName(returnType) : "void"};
  for (const AbiArg &a : args)
    t.push_back(argType(a));
  return t;
}

std::string AbiFunction::prototype() const {
  std::string s = returnsValue ? cTypeName(returnType) : "void";
  s += " " + symbol + "(";
  for (size_t i = 0; i < args.size(); ++i) {
    std::string t = argType(args[i]);
    s += (i ? ", " : "") + t + (t.back() == '*' ? "" : " ") + args[i].name;
  }
  return s + ")";
}

static std::string sizePrototype(const std::string &symbol, const std::vector<int32_t> &dimArgs,
                                 const DimTable &dims) {
  std::string s = "size_t " + symbol + "(";
  for (size_t i = 0; i < dimArgs.size(); ++i)
    s += (i ? ", int64_t " : "int64_t ") + cSymbolName(dims.names[static_cast<size_t>(dimArgs[i])]);
  return s + (dimArgs.empty() ? "void)" : ")");
}

std::string AbiSet::workspaceSizePrototype(const DimTable &dims) const {
  return sizePrototype(workspaceSizeSymbol, dimArgs, dims);
}

std::string AbiSet::gradcheckWorkspaceSizePrototype(const DimTable &dims) const {
  return sizePrototype(gradcheckWorkspaceSizeSymbol, dimArgs, dims);
}

AbiSet describeAbi(const Function &fn, const DimTable &dims,
                   const std::map<int32_t, int64_t> &boundDims, const std::string &prefix) {
  AbiSet set;
  // --prefix P prepends P verbatim; a prefixed name cannot clash with C, so it is kept.
  std::string base = prefix.empty() ? cSymbolName(fn.name) : prefix + fn.name;
  set.value.symbol = base;
  set.grad.symbol = base + "_grad";
  set.workspaceSizeSymbol = base + "_workspace_size";

  std::vector<AbiArg> common;
  for (int32_t sym : fn.usedDims()) {
    if (boundDims.count(sym))
      continue;
    set.dimArgs.push_back(sym);
    common.push_back({ArgRole::Dim, cSymbolName(dims.names[static_cast<size_t>(sym)]),
                      DType::I64, false, {}, sym});
  }
  for (size_t i = 0; i < fn.params.size(); ++i) {
    const ParamInfo &p = fn.params[i];
    common.push_back({ArgRole::Param, cSymbolName(p.name), p.type.dtype, !p.type.isScalar(),
                      p.type.shape, static_cast<int32_t>(i)});
  }
  const Type &result = fn.graph->type(fn.result);
  bool scalarResult = result.isScalar();
  AbiArg out{ArgRole::Out, "out", result.dtype, true, result.shape, 0};
  AbiArg ws{ArgRole::Workspace, "ws", DType::F64, true, {}, 0};

  set.value.returnsValue = set.grad.returnsValue = scalarResult;
  set.value.returnType = set.grad.returnType = result.dtype;
  set.value.args = common;
  if (!scalarResult)
    set.value.args.push_back(out);
  set.value.args.push_back(ws);

  set.grad.args = common;
  if (!scalarResult) {
    set.grad.args.push_back({ArgRole::DOut, "d_out", result.dtype, true, result.shape, 0});
    set.grad.args.push_back(out);
  }
  for (size_t i = 0; i < fn.params.size(); ++i) {
    const ParamInfo &p = fn.params[i];
    if (p.isConst)
      continue;
    set.grad.args.push_back({ArgRole::Grad, "d_" + p.name, p.type.dtype, true, p.type.shape,
                             static_cast<int32_t>(i)});
  }
  set.grad.args.push_back(ws);

  set.gradcheck.symbol = base + "_gradcheck";
  set.gradcheckWorkspaceSizeSymbol = base + "_gradcheck_workspace_size";
  set.gradcheck.returnType = DType::F64;
  set.gradcheck.args = common;
  if (!scalarResult)
    set.gradcheck.args.push_back({ArgRole::DOut, "d_out", result.dtype, true, result.shape, 0});
  set.gradcheck.args.push_back(ws);
  return set;
}

ArgMetadata argMetadata(const AbiFunction &f, const DimTable &dims) {
  ArgMetadata md;
  std::vector<std::string> ctypes = f.cTypes();
  for (size_t i = 0; i < f.args.size(); ++i) {
    md.names.push_back(f.args[i].name);
    md.types.push_back(ctypes[i + 1]);
    bool shaped = f.args[i].role != ArgRole::Workspace && f.args[i].role != ArgRole::Dim;
    md.shapes.push_back(shaped ? dims.str(f.args[i].shape) : "");
  }
  return md;
}

ArgumentMap mapArguments(const AbiFunction &f, size_t params, size_t roots) {
  ArgumentMap m;
  m.paramArg.assign(params + 1, -1);
  m.outputArg.assign(roots, -1);
  for (size_t i = 0; i < f.args.size(); ++i) {
    const AbiArg &a = f.args[i];
    int k = static_cast<int>(i);
    switch (a.role) {
    case ArgRole::Param: m.paramArg[static_cast<size_t>(a.index)] = k; break;
    case ArgRole::DOut: m.paramArg[params] = k; break;
    case ArgRole::Out: m.outputArg[0] = k; break;
    case ArgRole::Grad: m.outputArg[static_cast<size_t>(a.index) + 1] = k; break;
    case ArgRole::Workspace: m.wsArg = k; break;
    case ArgRole::Dim: break;
    }
  }
  return m;
}

} // namespace gradc
