// Emit.cpp: the same stages as the JIT (differentiate, optimize, lower), then an object file
// for the target instead of in-process code, and the header that describes it.
#include "pipeline/Emit.h"

#include "ir/DimArith.h"

#include "autodiff/ReverseMode.h"
#include "abi/HeaderWriter.h"
#include "codegen/llvm/ObjectEmitter.h"
#include "codegen/c/CPrinter.h"
#include "codegen/llvm/LlvmPrinter.h"
#include "loops/LowerGradCheck.h"
#include "loops/LowerModule.h"
#include "loops/Printer.h"
#include "loops/Verifier.h"
#include "support/Memory.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <cctype>
#include <fstream>

namespace gradc {

namespace {

std::string baseName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string guardFor(const std::string &outBase, const std::string &prefix) {
  std::string g = "GRADC_";
  for (char c : prefix + baseName(outBase) + "_H")
    g += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  return g;
}

} // namespace

namespace {

// The functions' optimized graphs (differentiated, then the graph passes), as the JIT
// compiles them: the object file and the C source are made from the same graphs.
struct Prepared {
  std::vector<LoweringInput> inputs;
  std::vector<std::shared_ptr<Graph>> graphs; // what the inputs point into
};

Prepared prepare(const std::vector<Function *> &fns, const EmitOptions &opts) {
  Prepared p;
  for (Function *fn : fns) {
    GradientGraph gg = differentiate(*fn);
    std::vector<NodeId> roots{gg.value};
    roots.insert(roots.end(), gg.grads.begin(), gg.grads.end());
    RewriteResult opt = optimizeGraph(*fn->graph, roots, opts.build.opt);
    LoweringInput in;
    in.fn = fn;
    in.graph = opt.graph.get();
    in.value = opt.roots[0];
    in.gradRoots = opt.roots;
    in.boundDims = opts.build.boundDims; // with the derived dims of bound ones (checked by checkMemory)
    completeBoundDims(fn->graph->dims(), in.boundDims, fn->mentionedDims());
    p.inputs.push_back(in);
    p.graphs.push_back(std::move(opt.graph));
  }
  return p;
}

bool writeText(const std::string &path, const std::string &text, std::string &error) {
  std::ofstream f(path);
  f << text;
  if (!f) {
    error = "cannot write '" + path + "'";
    return false;
  }
  return true;
}

} // namespace

// Empty when the functions fit in memory (support/Memory.h) and their sizes with the dims
// fixed at compile time can be indexed, else why not.
static std::string checkMemory(const std::vector<Function *> &fns, const EmitOptions &opts) {
  size_t nodes = 0;
  for (const Function *fn : fns) {
    nodes += fn->graph->size();
    std::map<int32_t, int64_t> bound = opts.build.boundDims;
    if (std::string e = completeBoundDims(fn->graph->dims(), bound, fn->mentionedDims()); !e.empty())
      return e;
    if (std::string e = checkBoundShapes(*fn->graph, bound); !e.empty())
      return e;
  }
  return checkCompileMemory(nodes);
}

namespace {

// int NAME(void) returning `value`; WeakODR where every emitted file defines it alike (the
// linker keeps one: several gradc files link into one program).
std::unique_ptr<loops::Func> intFunction(const std::string &symbol, int value, loops::Linkage linkage) {
  auto f = std::make_unique<loops::Func>(symbol, loops::kI32, std::vector<loops::Param>{}, linkage);
  f->cReturn = "int";
  f->body = f->block({f->returnStmt(f->intImm(loops::kI32, value))});
  return f;
}

// What a host can ask at run time about f_grad's arguments (f's are a prefix-free subset):
// their number, names, C types and shapes.
void addMetadata(loops::Module &m, const AbiFunction &f, const DimTable &dims, const std::map<int32_t, int64_t> &bound) {
  ArgMetadata md = argMetadata(f, dims, bound);
  m.add(intFunction(f.metadataSymbol("count"), static_cast<int>(f.args.size()), loops::Linkage::Export));
  m.tables.push_back({f.metadataSymbol("name"), md.names});
  m.tables.push_back({f.metadataSymbol("type"), md.types});
  m.tables.push_back({f.metadataSymbol("shape"), md.shapes});
}

// Everything an emitted file defines, as loop IR, verified: each function's f, f_grad and
// f_workspace_size (and gradient check), the metadata, the ABI version. The object and the C
// source print the same module.
loops::Module lowerFile(const Prepared &prepared, const DimTable &dims, const EmitOptions &opts,
                        std::vector<HeaderFunction> &header) {
  LoweringOptions lowering = opts.build.lowering;
  lowering.packedEntries = false;
  lowering.prefix = opts.prefix;
  loops::Module m;
  loops::ModuleVerifier verifier;
  auto add = [&](std::unique_ptr<loops::Func> f) {
    if (std::string e = verifier.add(*f); !e.empty())
      internalError("the loop IR gradc generated is invalid: " + e);
    m.add(std::move(f));
  };
  for (const LoweringInput &in : prepared.inputs) {
    loops::SourceLowering source(in, lowering, false);
    header.push_back({in.fn, source.abi(), in.boundDims});
    source.lowerPiece(0, add);
    if (opts.gradcheck)
      for (auto &f : loops::lowerGradCheck(*in.fn, header.back().abi, in.boundDims))
        add(std::move(f));
  }
  add(intFunction(opts.prefix + "gradc_abi_version", 1, loops::Linkage::WeakODR));
  for (const HeaderFunction &hf : header) {
    addMetadata(m, hf.abi.value, dims, hf.boundDims);
    addMetadata(m, hf.abi.grad, dims, hf.boundDims);
  }
  return m;
}

} // namespace

bool emitObject(const std::vector<Function *> &fns, const DimTable &dims, const EmitOptions &opts,
                const std::string &outBase, std::string &error) {
  if (error = checkMemory(fns, opts); !error.empty())
    return false;
  std::vector<HeaderFunction> header;
  loops::Module file = lowerFile(prepare(fns, opts), dims, opts, header);
  llvm::LLVMContext ctx;
  llvm::Module module(baseName(outBase), ctx);
  printLlvm(file, module);
  std::string verify;
  llvm::raw_string_ostream os(verify);
  if (llvm::verifyModule(module, &os))
    internalError("the LLVM IR gradc generated is invalid: " + os.str());
  if (!emitObjectFile(module, opts.build.codegen, outBase + ".o", error))
    return false;
  return writeText(outBase + ".h",
                   writeHeader(header, dims, guardFor(outBase, opts.prefix), opts.sourceName, opts.prefix,
                               baseName(outBase) + ".o", opts.gradcheck),
                   error);
}

bool dumpEmittedLoops(const std::vector<Function *> &fns, const DimTable &dims, const EmitOptions &opts,
                      std::ostream &os, std::string &error) {
  if (error = checkMemory(fns, opts); !error.empty())
    return false;
  std::vector<HeaderFunction> header;
  loops::print(os, lowerFile(prepare(fns, opts), dims, opts, header));
  return true;
}

bool dumpEmitted(const std::vector<Function *> &fns, const DimTable &dims, const EmitOptions &opts,
                 const std::string &stage, std::ostream &os, std::string &error) {
  if (stage == "loops")
    return dumpEmittedLoops(fns, dims, opts, os, error);
  if (error = checkMemory(fns, opts); !error.empty())
    return false;
  Prepared prepared = prepare(fns, opts);
  if (stage == "opt") {
    for (const LoweringInput &in : prepared.inputs) {
      std::vector<std::string> names{in.fn->name};
      for (const ParamInfo &p : in.fn->params)
        names.push_back(p.isConst ? "(const)" : "d_" + p.name);
      os << "def " << in.fn->name << "_grad  # optimized: " << reachableCount(*in.graph, in.gradRoots) << " nodes\n";
      in.graph->print(os, in.gradRoots, names);
    }
    return true;
  }
  std::vector<HeaderFunction> header;
  loops::Module file = lowerFile(prepared, dims, opts, header);
  llvm::LLVMContext ctx;
  llvm::Module module("gradc", ctx);
  printLlvm(file, module);
  std::string ir;
  if (!emitObjectFile(module, opts.build.codegen, "", error, &ir))
    return false;
  os << ir;
  return true;
}

bool emitCSource(const std::vector<Function *> &fns, const DimTable &dims, const EmitOptions &opts,
                 const std::string &outBase, std::string &error) {
  if (error = checkMemory(fns, opts); !error.empty())
    return false;
  std::string base = baseName(outBase);
  if (base.empty() || base.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-") !=
                          std::string::npos) {
    error = "the output name '" + base + "' is not one the C source can #include: use letters, digits, '.', "
            "'_', '+' and '-'";
    return false;
  }
  std::vector<HeaderFunction> header;
  loops::Module file = lowerFile(prepare(fns, opts), dims, opts, header);
  cgen::CModulePrinter printer;
  for (const auto &f : file.funcs)
    printer.add(*f);
  for (const loops::StringTable &t : file.tables)
    printer.add(t);
  std::string c = "/* Generated by gradc " GRADC_VERSION " from " + cCommentText(opts.sourceName) +
                  ". Do not edit.\n"
                  "   Self-contained C99: compile it with its header beside it and link the math\n"
                  "   library (-lm). No allocation, no global state: re-entrant. */\n"
                  "#include \"" + base + ".h\"\n\n#include <math.h>\n" + printer.text();
  return writeText(outBase + ".c", c, error) &&
         writeText(outBase + ".h",
                   writeHeader(header, dims, guardFor(outBase, opts.prefix), opts.sourceName, opts.prefix,
                               base + ".c", opts.gradcheck),
                   error);
}

} // namespace gradc
