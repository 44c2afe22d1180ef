// ObjectCache.cpp: entries on disk, written atomically, checked before use.
#include "codegen/llvm/ObjectCache.h"

#include <llvm/Config/llvm-config.h>
#include <llvm/Support/BLAKE3.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/xxhash.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dlfcn.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

namespace gradc {

namespace {

// "GCO1": the entry format. Then the key (64 hex digits), the number of objects, each
// object's size, a checksum of the objects, and the objects.
constexpr char kMagic[4] = {'G', 'C', 'O', '1'};
constexpr size_t kKeyChars = 64;
constexpr uint64_t kMaxObjects = 1u << 20;

void putU64(std::string &out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xff);
}

bool getU64(std::string_view &in, uint64_t &v) {
  if (in.size() < 8)
    return false;
  v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[static_cast<size_t>(i)])) << (8 * i);
  in.remove_prefix(8);
  return true;
}

} // namespace

// This build of gradc: the device, inode, size and time of the file its code was loaded from
// (the gradc executable, or the library a host links), so a rebuilt gradc never reads an
// older one's objects even at one version number. dladdr names the main program as it was
// started (`gradc`, found on PATH): it is then read from /proc/self/exe. Empty when unknown,
// and the cache is then not used.
static const std::string &buildIdentity() {
  static const std::string id = [] {
    Dl_info info;
    std::string file;
    if (dladdr(reinterpret_cast<void *>(&buildIdentity), &info) && info.dli_fname && info.dli_fname[0] == '/')
      file = info.dli_fname;
    else
      file = "/proc/self/exe";
    struct stat st;
    if (::stat(file.c_str(), &st) != 0)
      return std::string();
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  }();
  return id;
}

namespace {

bool readWhole(const std::string &path, std::string &out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW); // an entry, not a link planted in its place
  if (fd < 0)
    return false;
  struct stat st;
  // Ours, a regular file, and not absurdly large (an entry is the objects of one function).
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid() && st.st_size < (int64_t(1) << 32);
  if (ok) {
    out.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (ok && got < out.size()) {
      ssize_t n = ::read(fd, out.data() + got, out.size() - got);
      if (n < 0 && errno == EINTR)
        continue;
      ok = n > 0;
      got += ok ? static_cast<size_t>(n) : 0;
    }
  }
  ::close(fd);
  return ok;
}

bool makeDirs(const std::string &dir) {
  for (size_t i = 1; i <= dir.size(); ++i)
    if (i == dir.size() || dir[i] == '/') {
      std::string part = dir.substr(0, i);
      if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
        return false;
    }
  return true;
}

// Code is loaded from the folder: only one that this user owns and nobody else may write to
// (a folder in /tmp that another user made is not used).
bool trustedFolder(const std::string &dir) {
  struct stat st;
  return ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() &&
         (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

} // namespace

ObjectCacheConfig defaultObjectCacheConfig() {
  ObjectCacheConfig c;
  const char *off = std::getenv("GRADC_CACHE");
  c.enabled = !(off && (std::strcmp(off, "off") == 0 || std::strcmp(off, "0") == 0));
  if (const char *d = std::getenv("GRADC_CACHE_DIR"); d && *d)
    c.dir = d;
  else if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x == '/')
    c.dir = std::string(x) + "/gradc";
  else if (const char *h = std::getenv("HOME"); h && *h == '/')
    c.dir = std::string(h) + "/.cache/gradc";
  if (const char *m = std::getenv("GRADC_CACHE_MAX_MB"); m && *m) {
    char *end = nullptr;
    unsigned long long mb = std::strtoull(m, &end, 10);
    if (end && *end == '\0' && mb < (uint64_t(1) << 40))
      c.maxBytes = static_cast<uint64_t>(mb) << 20;
  }
  return c;
}

ObjectCacheKey::ObjectCacheKey() {
  add("gradc", GRADC_VERSION);
  add("build", buildIdentity());
  add("llvm", LLVM_VERSION_STRING);
}

ObjectCacheKey &ObjectCacheKey::add(std::string_view name, std::string_view value) {
  putU64(text_, name.size());
  text_ += name;
  putU64(text_, value.size());
  text_ += value;
  return *this;
}

std::string ObjectCacheKey::hex() const {
  llvm::BLAKE3 hasher;
  hasher.update(llvm::StringRef(text_));
  auto digest = hasher.final();
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : digest) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::string ObjectCache::path(const std::string &key) const { return config_.dir + "/" + key + ".gco"; }

bool ObjectCache::enabled() const { return config_.enabled && !config_.dir.empty() && !buildIdentity().empty(); }

std::optional<std::vector<std::unique_ptr<llvm::MemoryBuffer>>> ObjectCache::load(const std::string &key) const {
  if (!enabled() || !trustedFolder(config_.dir))
    return std::nullopt;
  std::string file = path(key), bytes;
  if (!readWhole(file, bytes))
    return std::nullopt;
  std::string_view in(bytes);
  uint64_t count = 0, sum = 0;
  auto bad = [&] {
    ::unlink(file.c_str()); // not whole, or not ours: replaced by the next store
    return std::nullopt;
  };
  if (in.size() < sizeof kMagic + kKeyChars || in.substr(0, 4) != std::string_view(kMagic, 4) ||
      in.substr(4, kKeyChars) != key)
    return bad();
  in.remove_prefix(4 + kKeyChars);
  if (!getU64(in, count) || count == 0 || count > kMaxObjects)
    return bad();
  std::vector<uint64_t> sizes(count);
  uint64_t total = 0;
  for (uint64_t &s : sizes)
    if (!getU64(in, s) || s > in.size() || (total += s) > in.size())
      return bad();
  if (!getU64(in, sum) || in.size() != total || llvm::xxh3_64bits(llvm::StringRef(in.data(), in.size())) != sum)
    return bad();
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> objects;
  for (uint64_t s : sizes) {
    objects.push_back(llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(in.data(), s), "gradc-cached-object"));
    in.remove_prefix(s);
  }
  ::utimes(file.c_str(), nullptr); // used now: the last to be evicted
  return objects;
}

void ObjectCache::store(const std::string &key, const std::vector<std::string_view> &objects) const {
  if (!enabled() || !makeDirs(config_.dir) || !trustedFolder(config_.dir))
    return;
  std::string bytes(kMagic, 4);
  bytes += key;
  putU64(bytes, objects.size());
  std::string payload;
  for (std::string_view o : objects) {
    putU64(bytes, o.size());
    payload += o;
  }
  putU64(bytes, llvm::xxh3_64bits(llvm::StringRef(payload)));
  bytes += payload;
  // A name of this process and thread alone, then an atomic rename over the entry.
  static std::atomic<uint64_t> serial{0};
  std::string tmp = config_.dir + "/." + key + "." + std::to_string(::getpid()) + "." + std::to_string(serial++) + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  size_t put = 0;
  bool ok = true;
  while (ok && put < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + put, bytes.size() - put);
    if (n < 0 && errno == EINTR)
      continue;
    ok = n > 0;
    put += ok ? static_cast<size_t>(n) : 0;
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path(key).c_str()) != 0) {
    ::unlink(tmp.c_str());
    return;
  }
  evict();
}

// The entries by last use, oldest first, removed until the rest fit the bound.
void ObjectCache::evict() const {
  DIR *d = ::opendir(config_.dir.c_str());
  if (!d)
    return;
  struct Entry {
    std::string path;
    int64_t used;
    uint64_t bytes;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  while (dirent *e = ::readdir(d)) {
    std::string name = e->d_name;
    // A store cut short (the process killed between writing and renaming) leaves its
    // temporary file: removed once it is an hour old.
    if (name.size() > 4 && name[0] == '.' && name.compare(name.size() - 4, 4, ".tmp") == 0) {
      std::string p = config_.dir + "/" + name;
      struct stat st;
      if (::lstat(p.c_str(), &st) == 0 && st.st_mtim.tv_sec + 3600 < now.tv_sec)
        ::unlink(p.c_str());
      continue;
    }
    if (name.size() != kKeyChars + 4 || name.compare(kKeyChars, 4, ".gco") != 0)
      continue;
    std::string p = config_.dir + "/" + name;
    struct stat st;
    if (::stat(p.c_str(), &st) != 0)
      continue;
    entries.push_back({p, static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                       static_cast<uint64_t>(st.st_size)});
    total += static_cast<uint64_t>(st.st_size);
  }
  ::closedir(d);
  std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) { return a.used < b.used; });
  for (const Entry &e : entries) {
    if (total <= config_.maxBytes)
      break;
    if (::unlink(e.path.c_str()) == 0)
      total -= e.bytes;
  }
}

} // namespace gradc
