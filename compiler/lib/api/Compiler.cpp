// Compiler.cpp: the public C++ API over the pipeline: structured diagnostics, one JIT
// module per function, typed lookup checked against the C ABI.
#include "gradc/gradc.h"

#include "ir/DimArith.h"
#include "pipeline/Compile.h"
#include "pipeline/Invoke.h"
#include "pipeline/Pipeline.h"

#include "ModuleImpl.h"

#include <algorithm>

namespace gradc {

Module::Module() : impl_(std::make_shared<Impl>()) {}
Module::~Module() = default;
Module::Module(const Module &) = default;
Module &Module::operator=(const Module &) = default;
Module::Module(Module &&) noexcept = default;
Module &Module::operator=(Module &&) noexcept = default;

bool Module::ok() const { return impl_->compiled && impl_->diagnostics.empty(); }
const std::vector<SourceDiagnostic> &Module::diagnostics() const { return impl_->diagnostics; }
std::string Module::errors() const {
  return impl_->compiled ? impl_->rendered : "gradc: this Module holds no compiled source (it was default-constructed)\n";
}

std::vector<std::string> Module::symbols() const {
  std::vector<std::string> out;
  for (const auto &[name, sym] : impl_->symbols)
    out.push_back(name);
  return out;
}

std::string Module::prototype(const std::string &symbol) const {
  return impl_->named(symbol).prototype;
}

std::vector<Argument> Module::arguments(const std::string &symbol) const {
  const Impl::Symbol &s = impl_->named(symbol);
  if (!s.function)
    throw LookupError("gradc: '" + symbol + "' has no argument metadata (only the functions and their _grad do)");
  return s.arguments;
}

const Module::Impl::Symbol &Module::Impl::named(const std::string &symbol) const {
  if (!compiled || !diagnostics.empty())
    throw LookupError("gradc: cannot look up '" + symbol + "': the module did not compile:\n" +
                      (compiled ? rendered : "gradc: this Module holds no compiled source (it was default-constructed)\n"));
  auto it = symbols.find(symbol);
  if (it == symbols.end()) {
    std::string names;
    for (const auto &[name, sym] : symbols)
      names += (names.empty() ? "" : ", ") + name;
    throw LookupError("gradc: no function '" + symbol + "' (the module has " + names + ")");
  }
  return it->second;
}

static std::string signatureText(const std::vector<std::string> &t) {
  std::string s = t[0] + "(";
  for (size_t i = 1; i < t.size(); ++i)
    s += (i > 1 ? ", " : "") + t[i];
  return s + (t.size() == 1 ? "void)" : ")");
}

void *Module::lookup(const std::string &symbol, const std::vector<std::string> &types) const {
  const Impl::Symbol &sym = impl_->named(symbol);
  if (sym.types != types)
    throw LookupError("gradc: '" + symbol + "' was requested as " + signatureText(types) +
                      ", but its signature is " + signatureText(sym.types) + ": " + sym.prototype);
  return sym.address;
}

void Module::diagnose(const std::string &symbol, const void *const *args, bool valueIsNaN) const {
  auto it = impl_->symbols.find(symbol);
  if (it == impl_->symbols.end() || !it->second.compiled)
    return;
  const Impl::Symbol &sym = *&it->second;
  const CompiledFunction &cf = *sym.compiled;
  const Function &fn = *sym.function;
  const AbiFunction &abi = sym.gradient ? cf.abi.grad : cf.abi.value;
  std::vector<int64_t> dims(cf.graph->dims().names.size(), 0);
  for (auto [d, v] : impl_->boundDims)
    dims[static_cast<size_t>(d)] = v;
  for (size_t i = 0; i < abi.args.size(); ++i)
    if (abi.args[i].role == ArgRole::Dim)
      dims[static_cast<size_t>(abi.args[i].index)] = *static_cast<const int64_t *>(args[i]);
  // Dims out of range, or sizes no array can have, are reported before any array is read
  // (the call itself read nothing: ABI.md, "Sizes").
  for (size_t i = 0; i < abi.args.size(); ++i)
    if (abi.args[i].role == ArgRole::Dim) {
      int64_t v = *static_cast<const int64_t *>(args[i]);
      if (v < 0 || v > kMaxElements)
        throw RangeError("gradc: " + symbol + ": dim '" + abi.args[i].name + "' = " + std::to_string(v) +
                         " is out of range (0 to 2^56)");
    }
  // The derived dims (`N/B`, `D*(D+1)/2`) from the given ones, each a whole number.
  if (std::string why = completeDimValues(cf.graph->dims(), dims, mentionedDims(*cf.graph, cf.roots)); !why.empty())
    throw RangeError("gradc: " + symbol + ": " + why);
  {
    std::vector<bool> all(cf.graph->size(), true);
    NodeId at = kNoNode;
    if (std::string why = checkTensorSizes(*cf.graph, all, dims, at); !why.empty())
      throw RangeError("gradc: " + symbol + ": " + why);
  }
  auto shapeOf = [&](const Shape &s) {
    std::vector<int64_t> out;
    for (const Dim &d : s)
      out.push_back((d.sym < 0 ? 0 : dims[static_cast<size_t>(d.sym)]) + d.off);
    return out;
  };
  std::vector<Tensor> params(fn.params.size());
  for (size_t i = 0; i < abi.args.size(); ++i) {
    const AbiArg &a = abi.args[i];
    const void *at = a.pointer ? *static_cast<const void *const *>(args[i]) : args[i];
    if (a.role == ArgRole::Out && !valueIsNaN) { // a void function: is its result NaN?
      Tensor first = tensorFromMemory(at, a.dtype, {});
      if (!(first.data[0] != first.data[0]))
        return;
      valueIsNaN = true;
    }
    if (a.role == ArgRole::Param)
      params[static_cast<size_t>(a.index)] = tensorFromMemory(at, a.dtype, a.pointer ? shapeOf(a.shape) : std::vector<int64_t>{});
  }
  if (!valueIsNaN)
    return;
  std::vector<std::string> names;
  for (const ParamInfo &p : fn.params)
    names.push_back(p.name);
  std::string error;
  SourceLoc loc;
  std::vector<NodeId> roots = sym.gradient ? cf.roots : std::vector<NodeId>{cf.roots[0]};
  if (checkIndexBounds(*cf.graph, roots, dims, error, loc, params, names))
    return;
  throw RangeError("gradc: " + symbol + ": " + error + " (" + impl_->source->source->name + ":" +
                   std::to_string(loc.line) + ":" + std::to_string(loc.col) + ")");
}

Module Compiler::compileSource(const std::string &text, const CompileOptions &options,
                               const std::string &name) const {
  Module m;
  Module::Impl &impl = *m.impl_;
  impl.compiled = true; // what follows either compiles it or says why not
  auto fail = [&](uint32_t line, uint32_t col, const std::string &message) {
    impl.diagnostics.push_back({name, line, col, message});
    impl.rendered += name + (line ? ":" + std::to_string(line) + ":" + std::to_string(col) : "") +
                     ": error: " + message + "\n";
    return m;
  };
  auto file = std::make_shared<SourceFile>(SourceFile{name, text});
  Diagnostics diags(file);
  impl.source = std::make_shared<CompiledSource>();
  try {
    if (text.size() > kMaxSourceBytes)
      return fail(0, 0, "the source is larger than " + std::to_string(kMaxSourceBytes >> 20) + " MiB");
    if (!gradc::compileSource(file, diags, *impl.source, false, false)) {
      for (const Diagnostic &d : diags.all())
        impl.diagnostics.push_back({name, d.loc.line, d.loc.col, d.message});
      impl.rendered = diags.rendered();
      return m;
    }
    Program &program = impl.source->program;
    BuildOptions build;
    build.opt.fastMath = options.fastMath;
    build.codegen.targetCpu = options.targetCpu;
    build.blas = options.blas;
    build.threads = options.threads;
    static const ObjectCache cache(defaultObjectCacheConfig());
    if (options.cache) {
      build.cache = &cache;
      build.source = impl.source->source->text;
    }
    for (const auto &[dim, value] : options.dims) {
      auto it = std::find(program.dims->names.begin(), program.dims->names.end(), dim);
      if (it == program.dims->names.end())
        return fail(0, 0, "no dim '" + dim + "' in the program");
      int32_t sym = static_cast<int32_t>(it - program.dims->names.begin());
      if (program.dims->isDerived(sym))
        return fail(0, 0, derivedDimNotGiven(*program.dims, sym));
      if (value < 0 || value > kMaxDimSize)
        return fail(0, 0, "dim '" + dim + "' is " + std::to_string(value) + ": a dim is between 0 and " +
                              std::to_string(kMaxDimSize) + " (2^40)");
      build.boundDims[sym] = value;
    }
    impl.boundDims = build.boundDims;
    if (!options.function.empty() && !program.find(options.function))
      return fail(0, 0, "no function '" + options.function + "'");
    if (const Function *f = program.find(options.function); f && f->isLocal)
      return fail(f->loc.line, f->loc.col, "function '" + options.function + "' is local (a helper of other functions, not exported)");
    // The functions compiled: the one asked for, or every exported one (`local def` is not).
    auto wanted = [&](const Function &fn) {
      return options.function.empty() ? !fn.isLocal : fn.name == options.function;
    };
    // Two functions exporting one symbol (`f_grad` next to `f`) would make lookups ambiguous.
    std::vector<const Function *> compiled;
    for (size_t i = 0; i < program.funcs.size(); ++i)
      if (wanted(program.funcs[i]))
        compiled.push_back(&program.inlined(i));
    if (!checkExportedNames(compiled, *program.dims, "", false, false, diags)) {
      for (const Diagnostic &d : diags.all())
        impl.diagnostics.push_back({name, d.loc.line, d.loc.col, d.message});
      impl.rendered = diags.rendered();
      return m;
    }
    for (Function &fn : program.funcs) {
      if (!wanted(fn))
        continue;
      std::string error;
      auto cf = compileFunction(fn, build, error);
      if (!cf)
        return fail(fn.loc.line, fn.loc.col, "code generation failed for '" + fn.name + "': " + error);
      const AbiSet &abi = cf->abi;
      std::map<int32_t, int64_t> bound = build.boundDims; // as the code has them, derived dims too
      completeBoundDims(*program.dims, bound, fn.mentionedDims());
      auto described = [&](const AbiFunction &f) {
        ArgMetadata md = argMetadata(f, *program.dims, bound);
        std::vector<Argument> out;
        for (size_t i = 0; i < md.names.size(); ++i)
          out.push_back({md.names[i], md.types[i], md.shapes[i]});
        return out;
      };
      impl.symbols[abi.value.symbol] = {cf->value, abi.value.cTypes(), abi.value.prototype(), cf.get(), &fn, false,
                                        described(abi.value)};
      impl.symbols[abi.grad.symbol] = {cf->grad, abi.grad.cTypes(), abi.grad.prototype(), cf.get(), &fn, true,
                                       described(abi.grad)};
      std::vector<std::string> sizeTypes{"size_t"};
      sizeTypes.insert(sizeTypes.end(), abi.dimArgs.size(), "int64_t");
      impl.symbols[abi.workspaceSizeSymbol] = {cf->workspaceSize, sizeTypes,
                                               abi.workspaceSizePrototype(*program.dims), nullptr, nullptr,
                                               false, {}};
      impl.functions.push_back(std::move(cf));
    }
  } catch (const InternalError &e) {
    return fail(0, 0, std::string("internal compiler error (please report it): ") + e.what());
  } catch (const std::bad_alloc &) {
    return fail(0, 0, "out of memory");
  }
  return m;
}

Module Compiler::compileFile(const std::string &path, const CompileOptions &options) const {
  auto file = std::make_shared<SourceFile>(SourceFile{path, {}});
  Diagnostics diags(file);
  std::optional<std::string> text = readSourceFile(path, diags);
  if (!text) {
    Module m;
    m.impl_->compiled = true; // a file that could not be read: its errors say why
    for (const Diagnostic &d : diags.all())
      m.impl_->diagnostics.push_back({path, d.loc.line, d.loc.col, d.message});
    m.impl_->rendered = diags.rendered();
    return m;
  }
  return compileSource(*text, options, path);
}

const char *version() { return GRADC_VERSION; }

} // namespace gradc
