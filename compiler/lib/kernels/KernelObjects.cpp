// KernelObjects.cpp: a build step, not part of gradc. Writes the tiled kernels
// (loops/TiledKernel.h) for one CPU as an object file whose functions are exported under
// `prefix` + their usual symbol; AheadOfTime.cpp binds the JIT to them.
//   usage: gradc_kernel_objects CPU PREFIX OUT.o
#include "codegen/llvm/LlvmPrinter.h"
#include "codegen/llvm/ObjectEmitter.h"
#include "codegen/llvm/Optimize.h"
#include "loops/TiledKernel.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <iostream>

int main(int argc, char **argv) {
  using namespace gradc;
  if (argc != 4) {
    std::cerr << "usage: gradc_kernel_objects CPU PREFIX OUT.o\n";
    return 2;
  }
  loops::Module kernels;
  for (DType dt : {DType::F64, DType::F32})
    for (bool aTransposed : {false, true}) {
      std::unique_ptr<loops::Func> f = loops::tiledKernel(dt, loops::Form{aTransposed});
      f->symbol = argv[2] + f->symbol;
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
  return 0;
}
