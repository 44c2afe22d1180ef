// SizeExprs.h: the sizes written outside function bodies: `dim M = D*(D+1)/2` and parameter
// shapes such as `icf: [K, D*(D+1)/2]`. Bodies fold sizes as they build values (ExprBuilder).
#pragma once

#include "frontend/Ast.h"
#include "gradc/Diagnostics.h"
#include "ir/Type.h"

#include <optional>

namespace gradc {

/// The size expression `root` stands for: literals, the dims among the first `visible` of
/// `dims`, + - * / and parentheses. Reports a located error and returns nullopt otherwise.
/// The walk is iterative: a size nested 100,000 deep is no deeper for the compiler.
std::optional<Dim> sizeOfExpr(const Ast &ast, ExprId root, const DimTable &dims, size_t visible,
                              Diagnostics &diags);

} // namespace gradc
