// Sema.h: semantic analysis: names, arity, dtypes and shapes are checked while the
// AST is turned into IR; every user error is reported with its source location.
#pragma once

#include "frontend/Ast.h"
#include "gradc/Diagnostics.h"
#include "ir/Function.h"

namespace gradc {

/// Checks `ast` and builds one IR function per `def` into `program`. Returns false
/// when any error was reported; `program` is then incomplete and must not be used.
/// `inlineAll`: every function of program.funcs is made whole (its calls inlined); otherwise
/// only those without calls are, and the caller makes the ones it needs with
/// Program::inlined.
bool checkProgram(const Ast &ast, Diagnostics &diags, Program &program, bool inlineAll = true);

} // namespace gradc
