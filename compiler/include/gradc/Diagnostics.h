/// Diagnostics.h: user-facing errors with a source location, rendered as `file:line:col`.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace gradc {

/// A position in a source file; line and column are 1-based, column counts bytes.
struct SourceLoc {
  uint32_t line = 0;
  uint32_t col = 0;
  bool valid() const { return line != 0; }
};

/// The text of one input, kept so that diagnostics can quote the offending line.
struct SourceFile {
  std::string name;
  std::string text;
  /// The line'th line (1-based) without its newline; empty when out of range.
  std::string lineText(uint32_t line) const;
};

/// One user error: where and what.
struct Diagnostic {
  SourceLoc loc;
  std::string message;
};

/// Collects the user errors of one compilation. User errors are never exceptions
/// thrown across stages: each stage records them here and stops when it must.
class Diagnostics {
public:
  explicit Diagnostics(std::shared_ptr<const SourceFile> source = nullptr)
      : source_(std::move(source)) {}

  void error(SourceLoc loc, std::string message);
  bool hasErrors() const { return !list_.empty(); }
  const std::vector<Diagnostic> &all() const { return list_; }
  const SourceFile *source() const { return source_.get(); }

  /// Renders every diagnostic as `file:line:col: error: message`, the source line and a caret;
  /// `severity` replaces "error" (the errors of functions a command does not use are warnings).
  void render(std::ostream &os, const char *severity = "error") const;
  std::string rendered() const;

  /// Upper bound on recorded errors; later ones are counted but dropped.
  static constexpr size_t kMaxErrors = 20;

private:
  std::shared_ptr<const SourceFile> source_;
  std::vector<Diagnostic> list_;
  size_t dropped_ = 0;
};

/// Thrown for a bug in gradc itself, never for a user mistake.
class InternalError : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

[[noreturn]] void internalError(const std::string &what);

#define GRADC_ASSERT(cond, msg)                                                          \
  do {                                                                                   \
    if (!(cond))                                                                         \
      ::gradc::internalError(std::string(__FILE__) + ":" + std::to_string(__LINE__) +    \
                             ": " + (msg));                                              \
  } while (0)

} // namespace gradc
