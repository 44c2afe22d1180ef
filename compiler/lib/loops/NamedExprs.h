// NamedExprs.h: which subexpressions of one statement a printer gives a name of their own.
#pragma once

#include "loops/LoopIR.h"

#include <vector>

namespace gradc::loops {

/// A statement's expressions form a DAG: printed as a tree, text would grow exponentially.
/// The subexpressions (not leaves) that the expressions `roots` read more than once, and one
/// every kMaxNesting levels of a deep expression (a line stays readable, and printing
/// recurses no deeper than that), operands first: naming them in this order, each one's text
/// uses the names made before it. `throughViewBases`: a load or address through a view
/// buffer reads its base expression too (a printer that writes the base inline).
std::vector<ExprId> exprsToName(const Func &f, const std::vector<ExprId> &roots, bool throughViewBases);

} // namespace gradc::loops
