// Memory.cpp: MemAvailable from /proc/meminfo (Linux); elsewhere the check is skipped.
#include "support/Memory.h"

#include <fstream>
#include <sstream>

namespace gradc {

size_t availableMemoryBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  size_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:")
      return kib * 1024;
  return 0;
}

std::string checkCompileMemory(size_t nodes) {
  size_t available = availableMemoryBytes();
  size_t need = nodes * kCompileBytesPerNode;
  if (available == 0 || need <= available)
    return "";
  auto gib = [](size_t bytes) {
    std::ostringstream s;
    s.precision(1);
    s << std::fixed << static_cast<double>(bytes) / (1u << 30);
    return s.str();
  };
  return "the program has " + std::to_string(nodes) + " nodes; compiling it needs about " + gib(need) +
         " GiB of memory and " + gib(available) + " GiB are available (split the program, or use "
         "--engine=interp)";
}

} // namespace gradc
