// Diagnostics.cpp: collecting user errors and rendering them with the source line and a caret.
#include "gradc/Diagnostics.h"

#include <ostream>
#include <sstream>

namespace gradc {

std::string SourceFile::lineText(uint32_t line) const {
  if (line == 0)
    return {};
  size_t pos = 0;
  for (uint32_t l = 1; l < line; ++l) {
    pos = text.find('\n', pos);
    if (pos == std::string::npos)
      return {};
    ++pos;
  }
  size_t end = text.find('\n', pos);
  return text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

void Diagnostics::error(SourceLoc loc, std::string message) {
  if (list_.size() >= kMaxErrors) {
    ++dropped_;
    return;
  }
  list_.push_back({loc, std::move(message)});
}

// Control bytes would move the terminal's cursor and misplace the caret, so they are
// shown as spaces; tabs stay tabs so that the caret line can copy them.
static std::string printable(const std::string &line) {
  std::string out = line;
  for (char &c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f)
      c = ' ';
  }
  return out;
}

void Diagnostics::render(std::ostream &os, const char *severity) const {
  std::string file = source_ ? source_->name : std::string("<input>");
  for (const Diagnostic &d : list_) {
    if (!d.loc.valid()) {
      os << file << ": " << severity << ": " << d.message << "\n";
      continue;
    }
    os << file << ":" << d.loc.line << ":" << d.loc.col << ": " << severity << ": " << d.message << "\n";
    if (!source_)
      continue;
    std::string line = printable(source_->lineText(d.loc.line));
    // Very long lines (minified or generated input) are cut around the column.
    size_t col = d.loc.col > 0 ? d.loc.col - 1 : 0;
    size_t start = 0;
    if (line.size() > 200 && col > 100) {
      start = col - 60;
      line = "..." + line.substr(start, 160);
      col = col - start + 3;
    } else if (line.size() > 200) {
      line = line.substr(0, 160) + "...";
    }
    os << "  " << line << "\n  ";
    for (size_t i = 0; i < col && i < line.size(); ++i)
      os << (line[i] == '\t' ? '\t' : ' ');
    os << "^\n";
  }
  if (dropped_ > 0)
    os << file << ": note: " << dropped_ << " more " << severity << (dropped_ == 1 ? "" : "s")
       << " not shown\n";
}

std::string Diagnostics::rendered() const {
  std::ostringstream os;
  render(os);
  return os.str();
}

void internalError(const std::string &what) {
  throw InternalError("internal compiler error: " + what);
}

} // namespace gradc
