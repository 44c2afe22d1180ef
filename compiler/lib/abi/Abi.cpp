// Abi.cpp: the argument lists of exported functions (docs/ABI.md).
#include "abi/Abi.h"

#include "ir/DimArith.h"

#include "abi/CNames.h"

#include <algorithm>
#include <cctype>
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

std::string exportedName(const std::string &base, const std::string &suffix) {
  return base.empty() || base.back() == '_' ? base + suffix : base + "_" + suffix;
}

std::string AbiFunction::metadataSymbol(const std::string &what) const {
  return exportedName(symbol, "arg_" + what);
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

static std::string sizePrototype(const std::string &symbol, const std::vector<std::string> &dimArgNames) {
  std::string s = "size_t " + symbol + "(";
  for (size_t i = 0; i < dimArgNames.size(); ++i)
    s += (i ? ", int64_t " : "int64_t ") + dimArgNames[i];
  return s + (dimArgNames.empty() ? "void)" : ")");
}

std::string AbiSet::workspaceSizePrototype(const DimTable &) const {
  return sizePrototype(workspaceSizeSymbol, dimArgNames);
}

std::string AbiSet::gradcheckWorkspaceSizePrototype(const DimTable &) const {
  return sizePrototype(gradcheckWorkspaceSizeSymbol, dimArgNames);
}

namespace {

// The argument names of one function's exports (docs/ABI.md, "Names"): user names as C
// identifiers; the generated ones (out, ws, d_out, d_<param>) take precedence, and a user
// name equal to one of them, or to an earlier argument, gets '_' appended until it is free.
struct ArgNames {
  std::vector<std::string> dim, param, grad;
  ArgNames(const Function &fn, const DimTable &dims) {
    std::set<std::string> taken{"out", "ws", "d_out"};
    auto claim = [&](std::string name) {
      while (!taken.insert(name).second)
        name = cIdentifier(name + "_");
      return name;
    };
    for (const ParamInfo &p : fn.params)
      grad.push_back(claim(cIdentifier("d_" + p.name)));
    dim.resize(dims.names.size());
    for (int32_t sym : fn.usedDims())
      dim[static_cast<size_t>(sym)] = claim(cIdentifier(dims.names[static_cast<size_t>(sym)]));
    for (const ParamInfo &p : fn.params)
      param.push_back(claim(cIdentifier(p.name)));
  }
};

} // namespace

AbiSet describeAbi(const Function &fn, const DimTable &dims,
                   const std::map<int32_t, int64_t> &boundDims, const std::string &prefix) {
  AbiSet set;
  // --prefix P prepends P verbatim (checkCNames refuses a prefixed name that is reserved).
  std::string base = prefix.empty() ? cIdentifier(fn.name) : prefix + fn.name;
  ArgNames names(fn, dims);
  set.value.symbol = base;
  set.grad.symbol = exportedName(base, "grad");
  set.workspaceSizeSymbol = exportedName(base, "workspace_size");

  std::vector<AbiArg> common;
  for (int32_t sym : fn.usedDims()) {
    if (boundDims.count(sym))
      continue;
    set.dimArgs.push_back(sym);
    set.dimArgNames.push_back(names.dim[static_cast<size_t>(sym)]);
    common.push_back({ArgRole::Dim, names.dim[static_cast<size_t>(sym)], DType::I64, false, {}, sym});
  }
  for (size_t i = 0; i < fn.params.size(); ++i) {
    const ParamInfo &p = fn.params[i];
    common.push_back({ArgRole::Param, names.param[i], p.type.dtype, !p.type.isScalar(),
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
    set.grad.args.push_back({ArgRole::Grad, names.grad[i], p.type.dtype, true, p.type.shape,
                             static_cast<int32_t>(i)});
  }
  set.grad.args.push_back(ws);

  set.gradcheck.symbol = exportedName(base, "gradcheck");
  set.gradcheckWorkspaceSizeSymbol = exportedName(base, "gradcheck_workspace_size");
  set.gradcheck.returnType = DType::F64;
  set.gradcheck.args = common;
  if (!scalarResult)
    set.gradcheck.args.push_back({ArgRole::DOut, "d_out", result.dtype, true, result.shape, 0});
  set.gradcheck.args.push_back(ws);
  return set;
}

std::string shapeMetadata(const Shape &shape, const DimTable &dims, const std::map<int32_t, int64_t> &bound) {
  std::string out = "[";
  for (const Dim &d : shape) {
    if (out.size() > 1)
      out += ", ";
    auto b = d.isLiteral() ? bound.end() : bound.find(d.sym);
    if (d.isLiteral() || b != bound.end()) {
      out += std::to_string((d.isLiteral() ? 0 : b->second) + d.off);
      continue;
    }
    std::string base = dims.isDerived(d.sym) ? derivedDimText(dims, d.sym) : dims.names[static_cast<size_t>(d.sym)];
    if (d.off != 0 && base.find_first_of("+-*/") != std::string::npos)
      base = "(" + base + ")";
    out += base + (d.off > 0 ? "+" : "") + (d.off != 0 ? std::to_string(d.off) : "");
  }
  return out + "]";
}

ArgMetadata argMetadata(const AbiFunction &f, const DimTable &dims, const std::map<int32_t, int64_t> &bound) {
  ArgMetadata md;
  std::vector<std::string> ctypes = f.cTypes();
  for (size_t i = 0; i < f.args.size(); ++i) {
    md.names.push_back(f.args[i].name);
    md.types.push_back(ctypes[i + 1]);
    bool shaped = f.args[i].role != ArgRole::Workspace && f.args[i].role != ArgRole::Dim;
    md.shapes.push_back(shaped ? shapeMetadata(f.args[i].shape, dims, bound) : "");
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

std::string checkSymbolPrefix(const std::string &prefix) {
  if (prefix.empty())
    return "";
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!std::isalpha(static_cast<unsigned char>(prefix[0])) || !std::all_of(prefix.begin(), prefix.end(), alnum))
    return "a prefix is the start of a C identifier: a letter, then letters, digits and '_'";
  if (std::string why = unrenamableReason(prefix); !why.empty())
    return why;
  return "";
}

bool checkExportedNames(const std::vector<const Function *> &fns, const DimTable &dims, const std::string &prefix,
                        bool gradcheck, bool c, Diagnostics &diags) {
  bool ok = true;
  std::map<std::string, const Function *> owner; // symbol -> the function exporting it
  for (const Function *fn : fns) {
    if (c) {
      // Names that only a rename could make C identifiers, and that cannot be renamed.
      auto refuse = [&](SourceLoc loc, const std::string &what, const std::string &name) {
        if (std::string why = unrenamableReason(name); !why.empty()) {
          diags.error(loc, what + " '" + name + "' cannot be a C name in emitted code: " + why);
          ok = false;
        }
      };
      refuse(fn->loc, "function", fn->name);
      std::set<int32_t> dimsSeen;
      for (const ParamInfo &p : fn->params) {
        refuse(p.loc, "parameter", p.name);
        for (const Dim &d : p.type.shape)
          if (!d.isLiteral() && dimsSeen.insert(d.sym).second)
            refuse(p.loc, "dim", dims.names[static_cast<size_t>(d.sym)]);
      }
      for (int32_t sym : fn->usedDims()) // dims read as values only
        if (dimsSeen.insert(sym).second)
          refuse(fn->loc, "dim", dims.names[static_cast<size_t>(sym)]);
    }
    AbiSet abi = describeAbi(*fn, dims, {}, prefix);
    std::vector<std::string> symbols{abi.value.symbol, abi.grad.symbol, abi.workspaceSizeSymbol};
    if (gradcheck) {
      symbols.push_back(abi.gradcheck.symbol);
      symbols.push_back(abi.gradcheckWorkspaceSizeSymbol);
    }
    if (c)
      for (const std::string &f : {abi.value.symbol, abi.grad.symbol})
        for (const char *what : {"count", "name", "type", "shape"})
          symbols.push_back(exportedName(f, std::string("arg_") + what));
    for (const std::string &sym : symbols) {
      if (c && !prefix.empty() && isReservedCName(sym)) {
        diags.error(fn->loc, "--prefix '" + prefix + "' makes the symbol of '" + fn->name + "' '" + sym +
                                 "', a name that C or its library reserves; choose another prefix");
        ok = false;
        break;
      }
      auto [it, fresh] = owner.insert({sym, fn});
      if (!fresh && it->second != fn) {
        const Function *first = it->second;
        diags.error(fn->loc, "function '" + fn->name + "' would export '" + sym + "', which '" + first->name +
                                 "' (line " + std::to_string(first->loc.line) + ") exports too; rename one of them");
        ok = false;
        break;
      }
    }
  }
  return ok;
}

} // namespace gradc
