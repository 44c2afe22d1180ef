// Emit.cpp: the same stages as the JIT (differentiate, optimize, lower), then an object file
// for the target instead of in-process code, and the header that describes it.
#include "pipeline/Emit.h"

#include "autodiff/ReverseMode.h"
#include "backend/HeaderWriter.h"
#include "backend/ObjectEmitter.h"

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

} // namespace

bool emitObject(const std::vector<Function *> &fns, const DimTable &dims, const EmitOptions &opts,
                const std::string &outBase, std::string &error) {
  llvm::LLVMContext ctx;
  llvm::Module module(baseName(outBase), ctx);
  LoweringOptions lowering = opts.build.lowering;
  lowering.packedEntries = false;
  lowering.prefix = opts.prefix;
  std::vector<HeaderFunction> header;
  std::vector<std::unique_ptr<Graph>> graphs; // alive until the module is written
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
    header.push_back({fn, lowerFunction(in, module, lowering)});
    graphs.push_back(std::move(opt.graph));
  }
  // int P_gradc_abi_version(void)
  llvm::IRBuilder<> b(ctx);
  auto *version = llvm::Function::Create(llvm::FunctionType::get(b.getInt32Ty(), false),
                                         llvm::Function::ExternalLinkage,
                                         opts.prefix + "gradc_abi_version", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", version));
  b.CreateRet(b.getInt32(1));
  std::string verify;
  llvm::raw_string_ostream os(verify);
  if (llvm::verifyModule(module, &os))
    internalError("the LLVM IR gradc generated is invalid: " + os.str());

  if (!emitObjectFile(module, opts.build.codegen, outBase + ".o", error))
    return false;
  std::ofstream h(outBase + ".h");
  h << writeHeader(header, dims, guardFor(outBase, opts.prefix), opts.sourceName, opts.prefix,
                   baseName(outBase) + ".o");
  if (!h) {
    error = "cannot write '" + outBase + ".h'";
    return false;
  }
  return true;
}

} // namespace gradc
