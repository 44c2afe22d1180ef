// FrontEndFuzzer.cpp: libFuzzer target for the front end: any bytes are parsed and checked;
// the result must be a program or diagnostics, never a crash, a sanitizer report, an
// exception or an internal error. Built with -fsanitize=fuzzer,address,undefined (clang).
#include "pipeline/Pipeline.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto source = std::make_shared<gradc::SourceFile>(
      gradc::SourceFile{"fuzz.expr", std::string(reinterpret_cast<const char *>(data), size)});
  gradc::Diagnostics diags(source);
  gradc::CompiledSource out;
  try {
    bool ok = gradc::compileSource(source, diags, out);
    if (!ok && !diags.hasErrors()) {
      std::fprintf(stderr, "compileSource failed without a diagnostic\n");
      std::abort();
    }
    (void)diags.rendered();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "exception escaped the front end: %s\n", e.what());
    std::abort();
  }
  return 0;
}
