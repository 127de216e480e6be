#include "detail/feature_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>

#include "detail/hash64.hpp"
#include "moodboost/error.hpp"
#include "moodboost/io.hpp"

namespace moodboost::detail {
namespace {

constexpr char kMagic[8] = {'M', 'B', 'F', 'E', 'A', 'T', 'C', '\0'};
// Version 2: file stamps gained the status-change time and the inode.
constexpr std::uint32_t kVersion = 2;
constexpr std::uint64_t kChecksumSeed = 0x6d6f6f64626f6f73ULL;  // "moodboos"
constexpr std::size_t kAlign = 64;
// The matrix is checksummed in blocks, so that a reader can read and check them in parallel.
constexpr std::size_t kBlockBytes = 4 * 1024 * 1024;
constexpr std::size_t kWriteBytes = 256 * 1024;
// Upper bound for any string in the header: a sanity check against corrupted lengths.
constexpr std::uint64_t kMaxStringBytes = 64ULL << 20;
// Bytes of one file stamp in the file table: size, mtime_ns, ctime_ns, inode.
constexpr std::uint64_t kStampBytes = 4 * sizeof(std::uint64_t);
// A temporary file untouched this long belongs to a writer that died (a live writer appends
// continuously, which keeps its modification time fresh).
constexpr auto kStaleTemporary = std::chrono::hours(1);
constexpr std::string_view kEntryPrefix = "features-";
constexpr std::string_view kEntrySuffix = ".mbfc";

void put_u64(std::string& out, std::uint64_t v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(v));
}
void put_str(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out.append(s);
}

// The report counts stored with the matrix (not the per-call fields: cache state, timing, ...).
void put_report(std::string& out, const LoadReport& r) {
  for (const std::uint64_t v :
       {std::uint64_t{r.files_requested}, std::uint64_t{r.files_loaded},
        std::uint64_t{r.files_missing}, std::uint64_t{r.files_parsed},
        std::uint64_t{r.bytes_parsed}, std::uint64_t{r.discovery_files},
        std::uint64_t{r.schema_rediscovered}, std::uint64_t{r.nonfinite_values},
        std::uint64_t{r.nan_cells}, std::uint64_t{r.shape_mismatches},
        std::uint64_t{r.dropped_constant_columns}}) {
    put_u64(out, v);
  }
  put_u64(out, r.missing_examples.size());
  for (const auto& s : r.missing_examples) put_str(out, s);
  put_u64(out, r.unknown_fields.size());
  for (const auto& [name, files] : r.unknown_fields) {
    put_str(out, name);
    put_u64(out, files);
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

// Sequential reads with bounds checks against the file size; every byte read is hashed.
class Reader {
 public:
  Reader(std::FILE* f, std::uint64_t size) : f_(f), left_(size), hash_(kChecksumSeed) {}

  bool bytes(void* out, std::uint64_t n) {
    if (n > left_ || std::fread(out, 1, n, f_) != n) return false;
    left_ -= n;
    hash_.update(out, n);
    return true;
  }
  bool u64(std::uint64_t& v) { return bytes(&v, sizeof(v)); }
  bool str(std::string& s) {
    std::uint64_t n = 0;
    if (!u64(n) || n > left_ || n > kMaxStringBytes) return false;
    s.resize(n);
    return bytes(s.data(), n);
  }
  [[nodiscard]] std::uint64_t left() const noexcept { return left_; }
  [[nodiscard]] std::uint64_t consumed(std::uint64_t total) const noexcept { return total - left_; }
  [[nodiscard]] std::uint64_t digest() const noexcept { return hash_.digest(); }

 private:
  std::FILE* f_;
  std::uint64_t left_;
  Hash64 hash_;
};

bool get_report(Reader& in, LoadReport& r) {
  std::uint64_t v[11];
  for (auto& x : v) {
    if (!in.u64(x)) return false;
  }
  r.files_requested = v[0];
  r.files_loaded = v[1];
  r.files_missing = v[2];
  r.files_parsed = v[3];
  r.bytes_parsed = v[4];
  r.discovery_files = v[5];
  r.schema_rediscovered = v[6] != 0;
  r.nonfinite_values = v[7];
  r.nan_cells = v[8];
  r.shape_mismatches = v[9];
  r.dropped_constant_columns = v[10];
  std::uint64_t n = 0;
  if (!in.u64(n) || n > in.left()) return false;
  r.missing_examples.resize(n);
  for (auto& s : r.missing_examples) {
    if (!in.str(s)) return false;
  }
  if (!in.u64(n) || n > in.left()) return false;
  r.unknown_fields.clear();
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string name;
    std::uint64_t files = 0;
    if (!in.str(name) || !in.u64(files)) return false;
    r.unknown_fields[name] = files;
  }
  return true;
}

std::string describe_change(const std::string& relpath, const FileStamp& was,
                            const FileStamp& now) {
  if (was.size == CacheKey::kMissingSize) return relpath + " appeared since the cache was written";
  if (now.size == CacheKey::kMissingSize)
    return relpath + " disappeared since the cache was written";
  if (was.size != now.size) {
    return relpath + " changed (size " + std::to_string(was.size) + " -> " +
           std::to_string(now.size) + " bytes)";
  }
  if (was.mtime_ns != now.mtime_ns) return relpath + " changed (modification time)";
  if (was.inode != now.inode) return relpath + " changed (replaced: another inode)";
  return relpath + " changed (status-change time: rewritten or its metadata changed)";
}

std::size_t block_count(std::uint64_t bytes) {
  return static_cast<std::size_t>((bytes + kBlockBytes - 1) / kBlockBytes);
}

bool pread_all(int fd, char* out, std::uint64_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<std::uint64_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

CacheLookup corrupt(std::string why) { return {CacheStatus::kCorrupt, std::move(why)}; }
CacheLookup stale(std::string why) { return {CacheStatus::kStale, std::move(why)}; }

// Reads and checks everything before the matrix (magic, version, key, schema, rows, report,
// shape, padding, file size) into \p entry (not its matrix) and \p place; read_cache() and
// read_cache_header() share it.
CacheLookup read_header(Reader& in, std::uint64_t total, const std::filesystem::path& path,
                        const CacheKey& key, CacheEntry& entry, CacheMatrixPlace& place) {
  char magic[sizeof(kMagic)];
  std::uint32_t version_and_zero[2];
  if (!in.bytes(magic, sizeof(magic)) || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) {
    return corrupt("not a moodboost feature cache (bad magic bytes)");
  }
  if (!in.bytes(version_and_zero, sizeof(version_and_zero))) return corrupt("truncated header");
  if (version_and_zero[0] != kVersion) {
    return stale("written by cache format version " + std::to_string(version_and_zero[0]) +
                 ", this moodboost uses " + std::to_string(kVersion));
  }
  std::uint64_t digest[2];
  if (!in.u64(digest[0]) || !in.u64(digest[1])) return corrupt("truncated header");
  if (digest[0] != key.list_digest[0] || digest[1] != key.list_digest[1]) {
    return stale("the file list, row ids or schema differ");
  }
  std::string options;
  if (!in.str(options)) return corrupt("truncated header");
  if (options != key.options)
    return stale("options differ (cached: " + options + "; now: " + key.options + ")");

  std::uint64_t n = 0;
  if (!in.u64(n) || n > in.left() / kStampBytes) return corrupt("truncated file table");
  if (n != key.stamps.size()) return stale("the number of files differs");
  std::vector<FileStamp> stamps(n);
  for (auto& s : stamps) {
    std::uint64_t size = 0, mtime = 0, ctime = 0, inode = 0;
    if (!in.u64(size) || !in.u64(mtime) || !in.u64(ctime) || !in.u64(inode))
      return corrupt("truncated file table");
    s.size = size;
    s.mtime_ns = static_cast<std::int64_t>(mtime);
    s.ctime_ns = static_cast<std::int64_t>(ctime);
    s.inode = inode;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!(stamps[i] == key.stamps[i]))
      return stale(describe_change(key.relpaths[i], stamps[i], key.stamps[i]));
  }

  std::string schema_json;
  if (!in.str(schema_json)) return corrupt("truncated schema");
  try {
    entry.schema = FeatureSchema::from_json(schema_json, path);
  } catch (const Error& e) {
    return corrupt(std::string("unreadable schema: ") + e.what());
  }
  std::uint64_t kept = 0;
  if (!in.u64(kept) || kept > n || kept > in.left() / 8) return corrupt("truncated row table");
  entry.kept_rows.resize(kept);
  for (auto& r : entry.kept_rows) {
    std::uint64_t v = 0;
    if (!in.u64(v) || v >= n) return corrupt("bad row table");
    r = v;
  }
  if (!get_report(in, entry.report)) return corrupt("truncated report");
  std::uint64_t rows = 0, cols = 0;
  if (!in.u64(rows) || !in.u64(cols)) return corrupt("truncated header");
  if (rows != kept || cols != entry.schema.size())
    return corrupt("matrix shape does not match its schema");
  const std::uint64_t pad = (kAlign - in.consumed(total) % kAlign) % kAlign;
  char zeros[kAlign];
  if (!in.bytes(zeros, pad)) return corrupt("truncated header");
  const std::uint64_t data_bytes = rows * cols * sizeof(float);
  if (cols != 0 && data_bytes / cols / sizeof(float) != rows)
    return corrupt("impossible matrix shape");
  if (in.left() != data_bytes + sizeof(std::uint64_t)) {
    return corrupt("file size " + std::to_string(total) + " does not match its " +
                   std::to_string(rows) + "x" + std::to_string(cols) + " matrix (truncated?)");
  }

  place = {rows, cols, in.consumed(total), in.digest()};
  return {CacheStatus::kHit, ""};
}

// Opens the cache file \p path into \p file and reads its header into \p entry and \p place:
// kMiss when there is no such file, kStale or kCorrupt as read_header() says, kHit with \p file
// open for the matrix. Throws IoError when the file exists but cannot be opened.
CacheLookup open_cache(const std::filesystem::path& path, const CacheKey& key, CacheEntry& entry,
                       CacheMatrixPlace& place, std::unique_ptr<std::FILE, FileCloser>& file) {
  file.reset(std::fopen(path.c_str(), "rb"));
  if (!file) {
    if (errno == ENOENT || errno == ENOTDIR) return {CacheStatus::kMiss, ""};
    throw IoError(path, std::string("cannot open the feature cache: ") + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(::fileno(file.get()), &st) != 0) return corrupt("cannot stat the cache file");
  const auto total = static_cast<std::uint64_t>(st.st_size);
  Reader in(file.get(), total);
  return read_header(in, total, path, key, entry, place);
}

}  // namespace

std::string CacheKey::file_name() const {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(list_digest[0]));
  return std::string("features-") + hex + ".mbfc";
}

CacheLookup read_cache(const std::filesystem::path& path, const CacheKey& key, CacheEntry& entry,
                       int threads) {
  std::unique_ptr<std::FILE, FileCloser> file;
  CacheMatrixPlace place;
  if (CacheLookup header = open_cache(path, key, entry, place, file);
      header.status != CacheStatus::kHit) {
    return header;
  }
  const std::uint64_t rows = place.rows, cols = place.cols;
  const std::uint64_t data_bytes = rows * cols * sizeof(float);

  entry.matrix.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  advise_huge_pages(entry.matrix.data(), data_bytes);
  // The matrix is read and hashed in blocks, in parallel (pread needs no shared file position).
  const std::uint64_t header_digest = place.header_digest;
  const std::uint64_t data_offset = place.offset;
  const std::size_t blocks = block_count(data_bytes);
  std::vector<std::uint64_t> digests(blocks + 1);
  digests[0] = header_digest;
  auto* data = reinterpret_cast<char*>(entry.matrix.data());
  const int fd = ::fileno(file.get());
  std::atomic<bool> short_read{false};
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(blocks); ++b) {
    const std::uint64_t begin = static_cast<std::uint64_t>(b) * kBlockBytes;
    const std::uint64_t size = std::min<std::uint64_t>(kBlockBytes, data_bytes - begin);
    if (!pread_all(fd, data + begin, size, data_offset + begin)) short_read = true;
    digests[static_cast<std::size_t>(b) + 1] = hash64(data + begin, size, kChecksumSeed);
  }
  std::uint64_t checksum = 0;
  if (short_read || !pread_all(fd, reinterpret_cast<char*>(&checksum), sizeof(checksum),
                               data_offset + data_bytes)) {
    entry.matrix.resize(0, 0);
    return corrupt("truncated matrix");
  }
  if (checksum != hash64(digests.data(), digests.size() * sizeof(std::uint64_t), kChecksumSeed)) {
    entry.matrix.resize(0, 0);
    return corrupt("checksum mismatch (the cache file is corrupted)");
  }
  // The modification time of an entry is its last use, which evict_cache() orders by. A shared
  // read-only cache cannot record it; that only makes its eviction order less exact.
  (void)::futimens(fd, nullptr);
  return {CacheStatus::kHit, ""};
}

void write_cache(const std::filesystem::path& path, const CacheKey& key, const CacheEntry& entry,
                 const float* matrix, std::size_t rows, std::size_t cols) {
  std::string head(kMagic, sizeof(kMagic));
  const std::uint32_t version_and_zero[2] = {kVersion, 0};
  head.append(reinterpret_cast<const char*>(version_and_zero), sizeof(version_and_zero));
  put_u64(head, key.list_digest[0]);
  put_u64(head, key.list_digest[1]);
  put_str(head, key.options);
  put_u64(head, key.stamps.size());
  for (const auto& s : key.stamps) {
    put_u64(head, s.size);
    put_u64(head, static_cast<std::uint64_t>(s.mtime_ns));
    put_u64(head, static_cast<std::uint64_t>(s.ctime_ns));
    put_u64(head, s.inode);
  }
  put_str(head, entry.schema.to_json());
  put_u64(head, entry.kept_rows.size());
  for (const auto r : entry.kept_rows) put_u64(head, r);
  put_report(head, entry.report);
  put_u64(head, static_cast<std::uint64_t>(rows));
  put_u64(head, static_cast<std::uint64_t>(cols));
  head.append((kAlign - head.size() % kAlign) % kAlign, '\0');

  std::vector<std::uint64_t> digests{hash64(head.data(), head.size(), kChecksumSeed)};
  AtomicFile out(path);
  out.write(head);
  const auto* data = reinterpret_cast<const char*>(matrix);
  const std::size_t bytes = rows * cols * sizeof(float);
  for (std::size_t begin = 0; begin < bytes; begin += kBlockBytes) {
    const std::size_t size = std::min(kBlockBytes, bytes - begin);
    digests.push_back(hash64(data + begin, size, kChecksumSeed));
    // In pieces, so that the matrix is never copied whole into a write buffer.
    for (std::size_t done = 0; done < size; done += kWriteBytes) {
      out.write(data + begin + done, std::min(kWriteBytes, size - done));
    }
  }
  const std::uint64_t checksum =
      hash64(digests.data(), digests.size() * sizeof(std::uint64_t), kChecksumSeed);
  out.write(&checksum, sizeof(checksum));
  out.commit();
}

// ---- the matrix in row batches (out-of-core training) ------------------------------------------

CacheLookup read_cache_header(const std::filesystem::path& path, const CacheKey& key,
                              CacheEntry& entry, CacheMatrixPlace& place, bool verify) {
  std::unique_ptr<std::FILE, FileCloser> file;
  if (CacheLookup header = open_cache(path, key, entry, place, file);
      header.status != CacheStatus::kHit || !verify) {
    return header;
  }
  // The checksum as read_cache() checks it, one block in memory at a time.
  const std::uint64_t data_bytes = place.rows * place.cols * sizeof(float);
  std::vector<std::uint64_t> digests{place.header_digest};
  std::vector<char> block(std::min<std::uint64_t>(kBlockBytes, data_bytes));
  const int fd = ::fileno(file.get());
  for (std::uint64_t begin = 0; begin < data_bytes; begin += kBlockBytes) {
    const std::uint64_t size = std::min<std::uint64_t>(kBlockBytes, data_bytes - begin);
    if (!pread_all(fd, block.data(), size, place.offset + begin)) {
      return corrupt("truncated matrix");
    }
    digests.push_back(hash64(block.data(), size, kChecksumSeed));
  }
  std::uint64_t checksum = 0;
  if (!pread_all(fd, reinterpret_cast<char*>(&checksum), sizeof(checksum),
                 place.offset + data_bytes)) {
    return corrupt("truncated matrix");
  }
  if (checksum != hash64(digests.data(), digests.size() * sizeof(std::uint64_t), kChecksumSeed)) {
    return corrupt("checksum mismatch (the cache file is corrupted)");
  }
  (void)::futimens(fd, nullptr);  // a use, for evict_cache()'s order (as read_cache())
  return {CacheStatus::kHit, ""};
}

CacheRows::CacheRows(std::filesystem::path path, const CacheMatrixPlace& place)
    : path_(std::move(path)), place_(place) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    throw IoError(path_, std::string("cannot open the feature cache: ") + std::strerror(errno));
  }
}

CacheRows::~CacheRows() {
  if (fd_ >= 0) ::close(fd_);
}

void CacheRows::read_rows(std::size_t first, std::size_t count, float* out) const {
  if (first > place_.rows || count > place_.rows - first) {
    throw InvalidArgument("feature cache rows [" + std::to_string(first) + ", " +
                          std::to_string(first + count) + ") are out of range (" +
                          std::to_string(place_.rows) + " rows)");
  }
  const std::uint64_t row_bytes = place_.cols * sizeof(float);
  if (!pread_all(fd_, reinterpret_cast<char*>(out), count * row_bytes,
                 place_.offset + first * row_bytes)) {
    throw IoError(path_, "cannot read rows " + std::to_string(first) + " to " +
                             std::to_string(first + count) + " of the feature cache (truncated?)");
  }
}

Eviction evict_cache(const std::filesystem::path& dir, std::uintmax_t max_bytes,
                     const std::filesystem::path& current) {
  namespace fs = std::filesystem;
  struct Candidate {
    fs::path path;
    std::uintmax_t bytes;
    std::int64_t used_ns;  // modification time = last use
    bool current;
  };
  Eviction out;
  std::vector<Candidate> entries;
  std::uintmax_t total = 0;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto stale_before =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - kStaleTemporary).count();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool entry = name.size() > kEntryPrefix.size() + kEntrySuffix.size() &&
                       name.starts_with(kEntryPrefix) && name.ends_with(kEntrySuffix);
    // AtomicFile's temporaries: ".<name>.tmp-<random>".
    const bool temporary = name.starts_with(".") && name.find(".mbfc.tmp-") != std::string::npos;
    if (!entry && !temporary) continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const std::int64_t mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL +
                                  static_cast<std::int64_t>(st.st_mtim.tv_nsec);
    if (temporary) {
      if (mtime_ns < stale_before && ::unlink(it->path().c_str()) == 0) ++out.stale_temporaries;
      continue;
    }
    const bool is_current = it->path() == current;
    entries.push_back({it->path(), static_cast<std::uintmax_t>(st.st_size), mtime_ns, is_current});
    total += static_cast<std::uintmax_t>(st.st_size);
  }
  if (max_bytes == 0 || total <= max_bytes) return out;
  // Least recently used first; the current entry last; ties by name, so that every process
  // sharing the directory picks the same victims.
  std::sort(entries.begin(), entries.end(), [](const Candidate& a, const Candidate& b) {
    if (a.current != b.current) return b.current;
    if (a.used_ns != b.used_ns) return a.used_ns < b.used_ns;
    return a.path < b.path;
  });
  for (const Candidate& c : entries) {
    if (total <= max_bytes) break;
    // ENOENT: another process evicted it first; either way its bytes are gone.
    if (::unlink(c.path.c_str()) != 0 && errno != ENOENT) continue;
    total -= c.bytes;
    ++out.entries;
    out.bytes += c.bytes;
    out.removed_current = out.removed_current || c.current;
  }
  return out;
}

}  // namespace moodboost::detail
