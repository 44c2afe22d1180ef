// ObjectCache.h: the JIT's persistent cache of compiled objects, so that a program compiled
// once (by `gradc run` or a C++ host) starts in milliseconds the next time.
//
// An entry is one file, `<dir>/<key>.gco`, holding the objects of one compiled function.
// The key is a hash of everything the code depends on (ObjectCacheKey); the file repeats
// it and carries a checksum, so a corrupt, truncated or foreign entry is ignored (and
// replaced), never loaded. Entries are written to a temporary file and renamed into place:
// two processes storing one key at once both succeed, and a reader sees a whole entry or
// none. A size bound evicts the least recently used entries (a hit refreshes its time).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llvm {
class MemoryBuffer;
}

namespace gradc {

struct ObjectCacheConfig {
  bool enabled = true;
  std::string dir;                          // empty: no cache
  uint64_t maxBytes = uint64_t(512) << 20; // the bound eviction keeps the folder under
};

/// Where and how large: $GRADC_CACHE_DIR, else $XDG_CACHE_HOME/gradc, else ~/.cache/gradc;
/// $GRADC_CACHE_MAX_MB bounds it (default 512); GRADC_CACHE=off turns it off.
ObjectCacheConfig defaultObjectCacheConfig();

/// A hash of the parts, in order, with the identity of this build of gradc and of LLVM:
/// 64 hex digits.
class ObjectCacheKey {
public:
  ObjectCacheKey();
  ObjectCacheKey &add(std::string_view name, std::string_view value);
  std::string hex() const;

private:
  std::string text_; // the parts, length-prefixed (hashed by hex())
};

class ObjectCache {
public:
  explicit ObjectCache(ObjectCacheConfig config) : config_(std::move(config)) {}

  /// The objects stored under `key`, or nullopt on a miss (absent, or an entry that is
  /// not whole and ours, which is then removed).
  std::optional<std::vector<std::unique_ptr<llvm::MemoryBuffer>>> load(const std::string &key) const;
  /// Stores `objects` under `key` and evicts the least recently used entries beyond the
  /// size bound. Failures (a read-only folder, a full disk) only lose the entry.
  void store(const std::string &key, const std::vector<std::string_view> &objects) const;
  /// The file of `key`'s entry.
  std::string path(const std::string &key) const;
  /// Configured on, with a folder, in a build whose identity is known.
  bool enabled() const;

private:
  void evict() const;
  ObjectCacheConfig config_;
};

} // namespace gradc
