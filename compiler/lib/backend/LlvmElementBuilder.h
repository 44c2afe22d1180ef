// LlvmElementBuilder.h: the op table's element and index rules emitted through LLVM's
// IRBuilder. Val handles are llvm::Value pointers (wrap/unwrap convert).
#pragma once

#include "backend/ElementBuilder.h"

#include <span>
#include <vector>

namespace llvm {
class Value;
class IRBuilderBase;
class Module;
} // namespace llvm

namespace gradc {

inline Val wrap(llvm::Value *v) { return reinterpret_cast<Val>(v); }
inline llvm::Value *unwrap(Val v) { return reinterpret_cast<llvm::Value *>(v); }
std::vector<Val> wrapAll(std::span<llvm::Value *const> vs);

class LlvmElementBuilder final : public ElementBuilder {
public:
  LlvmElementBuilder(llvm::IRBuilderBase &b, llvm::Module &m, DType type)
      : ElementBuilder(type), b_(b), m_(m) {}

  Val konst(double v) override;
  Val add(Val a, Val b) override;
  Val sub(Val a, Val b) override;
  Val mul(Val a, Val b) override;
  Val div(Val a, Val b) override;
  Val neg(Val a) override;
  Val math(MathFn fn, Val a, Val b = nullptr) override;
  Val lt(Val a, Val b) override;
  Val le(Val a, Val b) override;
  Val gt(Val a, Val b) override;
  Val ge(Val a, Val b) override;
  Val eq(Val a, Val b) override;
  Val ne(Val a, Val b) override;
  Val isNaN(Val a) override;
  Val select(Val cond, Val a, Val b) override;
  Val reduceAdd(Val a, Val b) override;
  Val maximum(Val a, Val b) override;
  Val minimum(Val a, Val b) override;

private:
  Val compare(int fpred, int ipred, Val a, Val b);
  llvm::IRBuilderBase &b_;
  llvm::Module &m_;
};

class LlvmIndexMapper final : public IndexMapper {
public:
  LlvmIndexMapper(llvm::IRBuilderBase &b, const Graph &g, const std::vector<llvm::Value *> &dimValues)
      : IndexMapper(g), b_(b), dims_(dimValues) {}
  Val dim(const Dim &d) override;
  Val constant(int64_t v) override;
  Val add(Val a, Val b) override;

private:
  llvm::IRBuilderBase &b_;
  const std::vector<llvm::Value *> &dims_;
};

/// Whether `shape` has at most kMaxElements elements for `dims` (ir/Type.h's rule, in
/// generated code), its sizes being non-negative.
llvm::Value *shapeFits(llvm::IRBuilderBase &b, const Graph &g, const std::vector<llvm::Value *> &dims,
                       const Shape &shape);

} // namespace gradc
