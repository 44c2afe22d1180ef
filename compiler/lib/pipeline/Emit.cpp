// Emit.cpp: the same stages as the JIT (differentiate, optimize, lower), then an object file
// for the target instead of in-process code, and the header that describes it.
#include "pipeline/Emit.h"

#include "autodiff/ReverseMode.h"
#include "backend/CGradCheck.h"
#include "backend/CMatMulKernel.h"
#include "backend/CPrinter.h"
#include "backend/HeaderWriter.h"
#include "backend/ObjectEmitter.h"
#include "codegen/llvm/LlvmPrinter.h"
#include "loops/LowerGradCheck.h"
#include "loops/Verifier.h"
#include "support/Memory.h"

#include <llvm/IR/IRBuilder.h>
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

// const char *NAME(int i): the i-th string of `items`, or NULL out of range.
void emitStringTable(llvm::Module &m, const std::string &name, const std::vector<std::string> &items) {
  llvm::LLVMContext &c = m.getContext();
  llvm::IRBuilder<> b(c);
  std::vector<llvm::Constant *> ptrs;
  for (const std::string &s : items)
    ptrs.push_back(b.CreateGlobalStringPtr(s, "", 0, &m));
  auto *arrayTy = llvm::ArrayType::get(b.getPtrTy(), ptrs.size());
  auto *table = new llvm::GlobalVariable(m, arrayTy, true, llvm::GlobalValue::PrivateLinkage,
                                         llvm::ConstantArray::get(arrayTy, ptrs), name + ".table");
  auto *f = llvm::Function::Create(llvm::FunctionType::get(b.getPtrTy(), {b.getInt32Ty()}, false),
                                   llvm::Function::ExternalLinkage, name, m);
  llvm::BasicBlock *entry = llvm::BasicBlock::Create(c, "entry", f);
  llvm::BasicBlock *in = llvm::BasicBlock::Create(c, "in", f);
  llvm::BasicBlock *out = llvm::BasicBlock::Create(c, "out", f);
  b.SetInsertPoint(entry);
  llvm::Value *i = f->getArg(0);
  b.CreateCondBr(b.CreateICmpULT(i, b.getInt32(static_cast<uint32_t>(items.size()))), in, out);
  b.SetInsertPoint(in);
  llvm::Value *slot = b.CreateInBoundsGEP(arrayTy, table, {b.getInt32(0), i});
  b.CreateRet(b.CreateLoad(b.getPtrTy(), slot));
  b.SetInsertPoint(out);
  b.CreateRet(llvm::ConstantPointerNull::get(b.getPtrTy()));
}

// int NAME(void) returning `value`. `shared`: every emitted file defines it alike, so the
// linker keeps one (weak_odr): several gradc objects link into one program.
void emitIntFunction(llvm::Module &m, const std::string &name, int value, bool shared = false) {
  llvm::LLVMContext &c = m.getContext();
  llvm::IRBuilder<> b(c);
  auto *f = llvm::Function::Create(llvm::FunctionType::get(b.getInt32Ty(), false),
                                   shared ? llvm::Function::WeakODRLinkage : llvm::Function::ExternalLinkage,
                                   name, m);
  b.SetInsertPoint(llvm::BasicBlock::Create(c, "entry", f));
  b.CreateRet(b.getInt32(value));
}

// What a host can ask at run time about f_grad's arguments (f's are a prefix-free subset):
// their number, names, C types and shapes.
void emitMetadata(llvm::Module &m, const AbiFunction &f, const DimTable &dims) {
  ArgMetadata md = argMetadata(f, dims);
  emitIntFunction(m, f.metadataSymbol("count"), static_cast<int>(f.args.size()));
  emitStringTable(m, f.metadataSymbol("name"), md.names);
  emitStringTable(m, f.metadataSymbol("type"), md.types);
  emitStringTable(m, f.metadataSymbol("shape"), md.shapes);
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
    in.boundDims = opts.build.boundDims;
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

// C99 definitions of the metadata functions emitMetadata() builds in LLVM IR.
std::string cStringTable(const std::string &name, const std::vector<std::string> &items) {
  std::string out = "const char *" + name + "(int i) {\n";
  if (items.empty())
    return out + "  (void)i;\n  return NULL;\n}\n";
  out += "  static const char *const items[] = {";
  for (size_t k = 0; k < items.size(); ++k)
    out += (k ? ", \"" : "\"") + items[k] + "\"";
  return out + "};\n  return i >= 0 && i < " + std::to_string(items.size()) + " ? items[i] : NULL;\n}\n";
}

std::string cMetadata(const AbiFunction &f, const DimTable &dims) {
  ArgMetadata md = argMetadata(f, dims);
  return "int " + f.metadataSymbol("count") + "(void) { return " + std::to_string(f.args.size()) + "; }\n" +
         cStringTable(f.metadataSymbol("name"), md.names) + cStringTable(f.metadataSymbol("type"), md.types) +
         cStringTable(f.metadataSymbol("shape"), md.shapes);
}

} // namespace

// Empty when the functions fit in memory (support/Memory.h) and their sizes with the dims
// fixed at compile time can be indexed, else why not.
static std::string checkMemory(const std::vector<Function *> &fns, const EmitOptions &opts) {
  size_t nodes = 0;
  for (const Function *fn : fns) {
    nodes += fn->graph->size();
    if (std::string e = checkBoundShapes(*fn->graph, opts.build.boundDims); !e.empty())
      return e;
  }
  return checkCompileMemory(nodes);
}

bool emitObject(const std::vector<Function *> &fns, const DimTable &dims, const EmitOptions &opts,
                const std::string &outBase, std::string &error) {
  if (error = checkMemory(fns, opts); !error.empty())
    return false;
  llvm::LLVMContext ctx;
  llvm::Module module(baseName(outBase), ctx);
  LoweringOptions lowering = opts.build.lowering;
  lowering.packedEntries = false;
  lowering.prefix = opts.prefix;
  std::vector<HeaderFunction> header;
  Prepared prepared = prepare(fns, opts);
  for (const LoweringInput &in : prepared.inputs) {
    header.push_back({in.fn, lowerFunction(in, module, lowering)});
    if (opts.gradcheck)
      for (const auto &f : loops::lowerGradCheck(*in.fn, header.back().abi, in.boundDims)) {
        if (std::string e = loops::verify(*f); !e.empty())
          internalError("the loop IR of the gradient check is invalid: " + e);
        printLlvm(*f, module);
      }
  }
  emitIntFunction(module, opts.prefix + "gradc_abi_version", 1, true);
  for (const HeaderFunction &hf : header) {
    emitMetadata(module, hf.abi.value, dims);
    emitMetadata(module, hf.abi.grad, dims);
  }
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
  Prepared prepared = prepare(fns, opts);
  std::vector<HeaderFunction> header;
  std::string code;
  std::set<DType> kernels;
  for (const LoweringInput &in : prepared.inputs) {
    code += "\n/* " + in.fn->name + ", " + cCommentText(opts.sourceName) + ":" + std::to_string(in.fn->loc.line) + " */\n";
    header.push_back({in.fn, printCFunctions(in, opts.prefix, code, kernels)});
    if (opts.gradcheck)
      code += "\n" + printCGradCheck(*in.fn, header.back().abi, in.boundDims);
  }
  // Every emitted file defines it alike: weak where the compiler has it, so that several
  // emitted files link into one program (as the object's weak_odr definition).
  code += "\n#if defined(__GNUC__)\n__attribute__((weak))\n#endif\nint " + opts.prefix +
          "gradc_abi_version(void) { return 1; }\n";
  for (const HeaderFunction &hf : header)
    code += cMetadata(hf.abi.value, dims) + cMetadata(hf.abi.grad, dims);
  std::string c = "/* Generated by gradc " GRADC_VERSION " from " + cCommentText(opts.sourceName) +
                  ". Do not edit.\n"
                  "   Self-contained C99: compile it with its header beside it and link the math\n"
                  "   library (-lm). No allocation, no global state: re-entrant. */\n"
                  "#include \"" + baseName(outBase) + ".h\"\n\n#include <math.h>\n";
  for (DType dt : kernels)
    c += "\n" + cMatMulKernelDefinition(opts.prefix, dt);
  c += code;
  return writeText(outBase + ".c", c, error) &&
         writeText(outBase + ".h",
                   writeHeader(header, dims, guardFor(outBase, opts.prefix), opts.sourceName, opts.prefix,
                               baseName(outBase) + ".c", opts.gradcheck),
                   error);
}

} // namespace gradc
