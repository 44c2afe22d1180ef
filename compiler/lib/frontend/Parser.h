// Parser.h: turns the text of an .expr file into an Ast (Flex scanner + Bison parser).
#pragma once

#include "frontend/Ast.h"
#include "gradc/Diagnostics.h"

namespace gradc {

/// Parses `source` into `ast`. Returns false after recording a diagnostic; never throws
/// for bad input (a syntax error stops the parse: the first one is reported).
bool parseSource(const SourceFile &source, Ast &ast, Diagnostics &diags);

} // namespace gradc
