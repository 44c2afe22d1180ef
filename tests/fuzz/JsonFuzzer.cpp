// JsonFuzzer.cpp: libFuzzer target for the `--at-file` reader (support/JsonValues.h): any
// bytes are parsed as JSON text. The reader must never crash, throw or overflow the stack,
// and its result must be consistent:
//   - it returns values if and only if it recorded no diagnostic;
//   - every diagnostic has a location (line >= 1, col >= 1) inside the text: at most one line
//     past the last newline, at most one column past the end of its line;
//   - the rendered diagnostics stay short (at most 2,000 bytes per error: messages quote an
//     excerpt of the input, never a whole token or line);
//   - every value read has as many numbers as its shape's product, no empty dimension and
//     at most kMaxJsonDepth dimensions.
// Built with -fsanitize=fuzzer,address,undefined (clang); seeds in tests/fuzz/corpus/json.
#include "support/JsonValues.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace {

[[noreturn]] void fail(const std::string &what, const std::string &detail) {
  std::fprintf(stderr, "JsonFuzzer: %s\n%s\n", what.c_str(), detail.c_str());
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto source = std::make_shared<gradc::SourceFile>(
      gradc::SourceFile{"fuzz.json", std::string(reinterpret_cast<const char *>(data), size)});
  const std::string &text = source->text;
  gradc::Diagnostics diags(source);
  std::optional<std::map<std::string, gradc::JsonValue>> values;
  std::string rendered;
  try {
    values = gradc::parseJsonValues(text, diags);
    rendered = diags.rendered();
  } catch (const std::exception &e) {
    fail(std::string("an exception escaped parseJsonValues: ") + e.what(), "");
  } catch (...) {
    fail("an exception escaped parseJsonValues", "");
  }

  if (values.has_value() == diags.hasErrors())
    fail(values ? "values returned together with a diagnostic" : "no values and no diagnostic",
         rendered);

  size_t newlines = 0;
  for (char c : text)
    newlines += c == '\n';
  for (const gradc::Diagnostic &d : diags.all()) {
    if (d.loc.line < 1 || d.loc.col < 1)
      fail("a diagnostic without a location (" + std::to_string(d.loc.line) + ":" +
               std::to_string(d.loc.col) + ")",
           rendered);
    if (d.loc.line > newlines + 1)
      fail("a diagnostic on line " + std::to_string(d.loc.line) + " of a text with " +
               std::to_string(newlines) + " newlines",
           rendered);
    size_t length = source->lineText(d.loc.line).size();
    if (d.loc.col > length + 1)
      fail("a diagnostic at column " + std::to_string(d.loc.col) + " of a line of " +
               std::to_string(length) + " bytes",
           rendered);
  }
  size_t errors = diags.all().size();
  if (rendered.size() > 2000 * (errors ? errors : 1))
    fail(std::to_string(rendered.size()) + " bytes of rendered diagnostics for " +
             std::to_string(errors) + " error(s)",
         rendered.substr(0, 4000));

  if (values)
    for (const auto &[name, v] : *values) {
      if (v.shape.size() > gradc::kMaxJsonDepth)
        fail("'" + name.substr(0, 40) + "' has " + std::to_string(v.shape.size()) + " dimensions",
             "");
      int64_t count = 1;
      for (int64_t e : v.shape) {
        if (e <= 0)
          fail("'" + name.substr(0, 40) + "' has a dimension of " + std::to_string(e), "");
        if (__builtin_mul_overflow(count, e, &count))
          fail("'" + name.substr(0, 40) + "' has a shape whose product overflows", "");
      }
      if (static_cast<int64_t>(v.data.size()) != count)
        fail("'" + name.substr(0, 40) + "' has " + std::to_string(v.data.size()) +
                 " numbers for a shape of " + std::to_string(count) + " elements",
             "");
      if (v.inexactInteger && v.inexactInteger->first >= v.data.size())
        fail("'" + name.substr(0, 40) + "' has an inexact integer past its numbers", "");
    }
  return 0;
}
