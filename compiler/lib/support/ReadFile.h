// ReadFile.h: reading an input file (a source, a JSON file of values) with its size bounded
// while it is read, so that a device (/dev/zero), a pipe or a directory gets a clear error
// instead of filling memory or throwing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace gradc {

/// The contents of `path`, at most `maxBytes` of them. Otherwise nullopt, with `error` saying
/// why ("cannot open 'x': No such file or directory", "'d' is a directory, not a file",
/// "'big.expr' is 100 MiB; the largest source gradc accepts is 64 MiB"). `what` names the
/// kind of file in that message ("source").
std::optional<std::string> readBoundedFile(const std::string &path, size_t maxBytes, const std::string &what,
                                           std::string &error);

} // namespace gradc
