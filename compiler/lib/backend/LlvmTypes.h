// LlvmTypes.h: the LLVM types of gradc's dtypes, in registers and in memory.
#pragma once

#include "frontend/Ast.h"

#include <llvm/IR/IRBuilder.h>

namespace gradc {

/// A value's type in registers: double, float, i32, i64, or i1 for masks.
inline llvm::Type *llvmType(llvm::LLVMContext &c, DType t) {
  switch (t) {
  case DType::F64:
    return llvm::Type::getDoubleTy(c);
  case DType::F32:
    return llvm::Type::getFloatTy(c);
  case DType::I32:
    return llvm::Type::getInt32Ty(c);
  case DType::I64:
    return llvm::Type::getInt64Ty(c);
  case DType::Bool:
    return llvm::Type::getInt1Ty(c);
  }
  return llvm::Type::getDoubleTy(c);
}

/// A value's type in memory: masks are stored as bytes.
inline llvm::Type *memoryType(llvm::LLVMContext &c, DType t) {
  return t == DType::Bool ? llvm::Type::getInt8Ty(c) : llvmType(c, t);
}

inline int64_t byteSize(DType t) {
  switch (t) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::Bool:
    return 1;
  }
  return 8;
}

/// Converts a value between dtypes (masks become 0/1, integers become floats).
inline llvm::Value *convertValue(llvm::IRBuilderBase &b, llvm::Value *v, DType from, DType to) {
  if (from == to)
    return v;
  llvm::Type *t = llvmType(b.getContext(), to);
  bool fromFp = from == DType::F64 || from == DType::F32;
  bool toFp = to == DType::F64 || to == DType::F32;
  if (fromFp && toFp)
    return b.CreateFPCast(v, t);
  if (from == DType::Bool)
    return toFp ? b.CreateUIToFP(v, t) : b.CreateZExt(v, t);
  if (!fromFp && toFp)
    return b.CreateSIToFP(v, t);
  if (!fromFp && !toFp)
    return to == DType::Bool ? b.CreateICmpNE(v, llvm::ConstantInt::get(v->getType(), 0))
                             : b.CreateSExtOrTrunc(v, t);
  if (to == DType::Bool)
    return b.CreateFCmpUNE(v, llvm::ConstantFP::get(v->getType(), 0.0));
  return b.CreateFPToSI(v, t);
}

} // namespace gradc
