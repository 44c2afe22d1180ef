// ReadFile.cpp: POSIX open/fstat/read: the size is counted as the bytes arrive, not taken
// from the file system (a device or a pipe has none; a directory's is meaningless).
#include "support/ReadFile.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gradc {

namespace {

std::string sizeText(size_t bytes) {
  return bytes >= (size_t(1) << 20) ? std::to_string(bytes >> 20) + " MiB"
                                    : std::to_string(bytes) + " bytes";
}

} // namespace

std::optional<std::string> readBoundedFile(const std::string &path, size_t maxBytes, const std::string &what,
                                           std::string &error) {
  const std::string limit = "; the largest " + what + " gradc accepts is " + sizeText(maxBytes);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return std::nullopt;
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = "cannot read '" + path + "': " + std::strerror(errno);
    return std::nullopt;
  }
  if (S_ISDIR(st.st_mode)) {
    error = "'" + path + "' is a directory, not a file";
    return std::nullopt;
  }
  std::string text;
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > maxBytes) { // known without reading
    error = "'" + path + "' is " + sizeText(static_cast<size_t>(st.st_size)) + limit;
    return std::nullopt;
  }
  if (S_ISREG(st.st_mode) && st.st_size > 0)
    text.reserve(static_cast<size_t>(st.st_size) + 1);
  char chunk[1 << 16];
  while (true) {
    ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      error = "cannot read '" + path + "': " + std::strerror(errno);
      return std::nullopt;
    }
    if (got == 0)
      return text;
    if (text.size() + static_cast<size_t>(got) > maxBytes) {
      error = "'" + path + "' is larger than " + sizeText(maxBytes) + limit;
      return std::nullopt;
    }
    text.append(chunk, static_cast<size_t>(got));
  }
}

} // namespace gradc
