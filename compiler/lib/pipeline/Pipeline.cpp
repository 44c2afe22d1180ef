// Pipeline.cpp: reading, parsing and checking a source file.
#include "pipeline/Pipeline.h"

#include "frontend/Parser.h"
#include "sema/Sema.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gradc {

std::optional<std::string> readSourceFile(const std::string &path, Diagnostics &diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags.error({}, "cannot open '" + path + "': " + std::strerror(errno));
    return std::nullopt;
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size > static_cast<std::streamoff>(kMaxSourceBytes)) {
    diags.error({}, "'" + path + "' is " + std::to_string(size >> 20) +
                        " MiB; the largest source gradc accepts is " +
                        std::to_string(kMaxSourceBytes >> 20) + " MiB");
    return std::nullopt;
  }
  in.seekg(0, std::ios::beg);
  std::string text;
  if (size > 0) {
    text.resize(static_cast<size_t>(size));
    in.read(text.data(), size);
  } else {
    std::ostringstream ss; // a pipe or special file has no size
    ss << in.rdbuf();
    text = ss.str();
  }
  if (in.bad()) {
    diags.error({}, "cannot read '" + path + "'");
    return std::nullopt;
  }
  return text;
}

bool compileSource(std::shared_ptr<SourceFile> source, Diagnostics &diags, CompiledSource &out,
                   bool stopAfterParse) {
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
    return checkProgram(out.ast, diags, out.program);
  } catch (const std::bad_alloc &) {
    diags.error({}, "out of memory while compiling");
    return false;
  }
}

} // namespace gradc
