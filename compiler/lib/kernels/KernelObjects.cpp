// KernelObjects.cpp: a build step, not part of gradc. Writes the tiled kernels
// (loops/TiledKernel.h) for one CPU as an object file whose functions are exported under
// `prefix` + their usual symbol, and the C++ that names them for AheadOfTime.cpp: the table
// GRADC_KERNELS_<prefix> of {usual symbol, address}.
//   usage: gradc_kernel_objects CPU PREFIX OUT.o OUT.inc
#include "codegen/llvm/LlvmPrinter.h"
#include "codegen/llvm/ObjectEmitter.h"
#include "loops/TiledKernel.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <fstream>
#include <iostream>

int main(int argc, char **argv) {
  using namespace gradc;
  if (argc != 5) {
    std::cerr << "usage: gradc_kernel_objects CPU PREFIX OUT.o OUT.inc\n";
    return 2;
  }
  std::string prefix = argv[2];
  loops::Module kernels;
  std::string declarations, table;
  for (DType dt : {DType::F64, DType::F32})
    for (bool aTransposed : {false, true}) {
      std::unique_ptr<loops::Func> f = loops::tiledKernel(dt, loops::Form{aTransposed});
      declarations += "extern \"C\" void " + prefix + f->symbol + "();\n";
      table += "    {\"" + f->symbol + "\", reinterpret_cast<void *>(&" + prefix + f->symbol + ")}, \\\n";
      f->symbol = prefix + f->symbol;
      f->linkage = loops::Linkage::Export;
      f->shared = false;
      kernels.add(std::move(f));
    }
  llvm::LLVMContext ctx;
  llvm::Module module("gradc_kernels", ctx);
  printLlvm(kernels, module);
  CodegenOptions opts;
  opts.targetCpu = argv[1];
  opts.optLevel = 3;
  std::string error;
  if (!emitObjectFile(module, opts, argv[3], error)) {
    std::cerr << "gradc_kernel_objects: " << error << "\n";
    return 1;
  }
  std::ofstream inc(argv[4]);
  inc << "// Written by gradc_kernel_objects: the kernels of " << argv[3] << ".\n"
      << declarations << "#define GRADC_KERNELS_" << prefix << " \\\n  { \\\n" << table << "  }\n";
  return inc.good() ? 0 : 1;
}
