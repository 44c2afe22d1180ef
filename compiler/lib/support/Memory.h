// Memory.h: how much memory compiling a program of a given size will take, against what
// the machine has, so that a program too big for it gets a clear error instead of the
// kernel's out-of-memory kill.
#pragma once

#include <cstddef>
#include <string>

namespace gradc {

/// Peak bytes per forward node of compiling to native code (differentiate, optimize,
/// lower, LLVM), measured on 1M-node programs: 2.6 GiB (BENCHMARKS.md, compile time).
constexpr size_t kCompileBytesPerNode = 2800;

/// The memory the system can give this process now (MemAvailable), or 0 when unknown.
size_t availableMemoryBytes();

/// Empty when compiling `nodes` forward nodes fits in the available memory; otherwise the
/// reason, for an error message.
std::string checkCompileMemory(size_t nodes);

} // namespace gradc
