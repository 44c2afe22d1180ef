// Pipeline.cpp: reading, parsing and checking a source file.
#include "pipeline/Pipeline.h"

#include "frontend/Parser.h"
#include "sema/Sema.h"
#include "support/ReadFile.h"

namespace gradc {

std::optional<std::string> readSourceFile(const std::string &path, Diagnostics &diags) {
  std::string error;
  std::optional<std::string> text = readBoundedFile(path, kMaxSourceBytes, "source", error);
  if (!text)
    diags.error({}, error);
  return text;
}

bool compileSource(std::shared_ptr<SourceFile> source, Diagnostics &diags, CompiledSource &out,
                   bool stopAfterParse, bool inlineAll) {
  out.source = source;
  if (source->text.size() > kMaxSourceBytes) {
    diags.error({}, "the source is larger than " + std::to_string(kMaxSourceBytes >> 20) + " MiB");
    return false;
  }
  if (source->text.find_first_not_of(" \t\r\n") == std::string::npos) {
    diags.error({}, "the file is empty: define a function with 'def'");
    return false;
  }
  try {
    // About one expression per three bytes of source: reserve, so the arena is not moved.
    out.ast.exprs.reserve(source->text.size() / 3 + 16);
    if (!parseSource(*source, out.ast, diags))
      return false;
    if (stopAfterParse)
      return true;
    return checkProgram(out.ast, diags, out.program, inlineAll);
  } catch (const std::bad_alloc &) {
    diags.error({}, "out of memory while compiling");
    return false;
  }
}

} // namespace gradc
