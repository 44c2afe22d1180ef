// Pipeline.h: source text -> checked IR program, the stages every tool runs first.
#pragma once

#include "frontend/Ast.h"
#include "gradc/Diagnostics.h"
#include "ir/Function.h"

#include <memory>
#include <optional>
#include <string>

namespace gradc {

/// Largest source accepted; larger input is rejected with a message, not an OOM kill.
constexpr size_t kMaxSourceBytes = 64u << 20;

struct CompiledSource {
  std::shared_ptr<SourceFile> source;
  Ast ast;
  Program program;
};

/// Reads a file; on failure returns nullopt after recording why in `diags`.
std::optional<std::string> readSourceFile(const std::string &path, Diagnostics &diags);

/// Parses and checks `source`. `diags` must be constructed on the same source.
/// `stopAfterParse` leaves `program` empty (for --dump=ast); `inlineAll` as checkProgram's.
bool compileSource(std::shared_ptr<SourceFile> source, Diagnostics &diags, CompiledSource &out,
                   bool stopAfterParse = false, bool inlineAll = true);

} // namespace gradc
