// The binary cache of load_features(): one file per (features directory, file list, row ids,
// schema) holding the matrix, the schema, the kept rows and the report counts, keyed on the files'
// sizes and modification times and on the options that shape the matrix.
//
// Layout (version 1; native little-endian; u64 = 8-byte unsigned):
//   "MBFEATC\0" magic, u32 version, u32 0,
//   u64 list digest (2 x u64: dir, relpaths, row ids, given schema),
//   string options, u64 n + n x (u64 size, i64 mtime_ns) file stamps (size = 2^64-1: missing),
//   string schema JSON, u64 k + k x u64 kept rows, report counts (u64s, strings),
//   u64 rows, u64 cols, zero padding to a multiple of 64 bytes,
//   rows x cols float32 (row-major),
//   u64 checksum: XXH64 of the XXH64 digests of (the header and its padding) and of each 4 MiB
//   block of the matrix, so that readers can check the blocks in parallel.
// A "string" is u64 length + bytes. The file is written through AtomicFile (temp + fsync +
// rename), so a reader never sees a half-written cache; truncation or corruption after that is
// caught by the size checks and the checksum.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "detail/file_buffer.hpp"
#include "moodboost/features.hpp"

namespace moodboost::detail {

/// The inputs a cache entry is valid for.
struct CacheKey {
  std::uint64_t list_digest[2] = {0, 0};  ///< features dir, relpaths, row ids, given schema
  std::string options;                    ///< canonical text of the matrix-shaping options
  std::vector<FileStamp> stamps;          ///< per requested file; size kMissingSize when absent
  std::vector<std::string> relpaths;      ///< for messages only (which file changed)

  static constexpr std::uintmax_t kMissingSize = static_cast<std::uintmax_t>(-1);

  /// "features-<16 hex digits>.mbfc".
  [[nodiscard]] std::string file_name() const;
};

/// What a cache entry holds besides the key.
struct CacheEntry {
  FeatureMatrix matrix;
  FeatureSchema schema;
  std::vector<std::size_t> kept_rows;
  LoadReport report;  ///< counts only (files_*, nonfinite, nan_cells, ..., unknown_fields)
};

/// Where an entry's matrix lies in its file.
struct CacheMatrixPlace {
  std::uint64_t rows = 0;
  std::uint64_t cols = 0;
  std::uint64_t offset = 0;         ///< byte offset of row 0
  std::uint64_t header_digest = 0;  ///< the checksum's first digest (header and padding)
};

/// Result of a cache lookup.
struct CacheLookup {
  CacheStatus status = CacheStatus::kMiss;  ///< kHit, kMiss, kStale or kCorrupt
  std::string detail;                       ///< why stale or corrupt
};

/// Reads the entry at \p path into \p entry when it exists, is intact and matches \p key; the
/// matrix is read and checked on \p threads threads. Never throws for a bad cache file (it is
/// reported as kCorrupt); throws IoError only when an existing file cannot be opened.
CacheLookup read_cache(const std::filesystem::path& path, const CacheKey& key, CacheEntry& entry,
                       int threads);

/// Writes \p entry for \p key to \p path atomically. Throws IoError.
void write_cache(const std::filesystem::path& path, const CacheKey& key, const CacheEntry& entry);

/// read_cache() without reading the matrix into memory (out-of-core training): checks the header
/// against \p key and fills \p entry (its matrix stays empty) and \p place; with \p verify, also
/// checks the matrix's checksum in one pass holding one 4 MiB block at a time. Same statuses and
/// exceptions as read_cache().
CacheLookup read_cache_header(const std::filesystem::path& path, const CacheKey& key,
                              CacheEntry& entry, CacheMatrixPlace& place, bool verify);

/// The matrix of a cache entry read in row batches (pread at the rows' offset: no shared file
/// position). Holds the file open: a later rewrite of the cache (atomic rename) leaves this
/// reader on the file it opened.
class CacheRows final : public RowBatchSource {
 public:
  /// Opens \p path, whose matrix lies at \p place (read_cache_header()). Throws IoError.
  CacheRows(std::filesystem::path path, const CacheMatrixPlace& place);
  ~CacheRows() override;
  CacheRows(const CacheRows&) = delete;
  CacheRows& operator=(const CacheRows&) = delete;

  [[nodiscard]] std::size_t rows() const override { return place_.rows; }
  [[nodiscard]] std::size_t cols() const override { return place_.cols; }
  void read_rows(std::size_t first, std::size_t count, float* out) const override;

 private:
  std::filesystem::path path_;
  CacheMatrixPlace place_;
  int fd_ = -1;
};

}  // namespace moodboost::detail
