// The binary cache of load_features(): one file per (features directory, file list, row ids,
// schema) holding the matrix, the schema, the kept rows and the report counts, keyed on each
// file's size, modification and status-change times (nanoseconds) and inode, and on the options
// that shape the matrix.
//
// Layout (version 2; native little-endian; u64 = 8-byte unsigned):
//   "MBFEATC\0" magic, u32 version, u32 0,
//   u64 list digest (2 x u64: dir, relpaths, row ids, given schema),
//   string options, u64 n + n x (u64 size, i64 mtime_ns, i64 ctime_ns, u64 inode) file stamps
//   (size = 2^64-1: missing),
//   string schema JSON, u64 k + k x u64 kept rows, report counts (u64s, strings),
//   u64 rows, u64 cols, zero padding to a multiple of 64 bytes,
//   rows x cols float32 (row-major),
//   u64 checksum: XXH64 of the XXH64 digests of (the header and its padding) and of each 4 MiB
//   block of the matrix, so that readers can check the blocks in parallel.
// A "string" is u64 length + bytes. The file is written through AtomicFile (temp + fsync +
// rename), so a reader never sees a half-written cache; a torn file (truncated, or a tail that
// never reached the disk) is caught by the size checks and the checksum trailer.
//
// Size limit: the modification time of an entry is its last use (set when written, bumped on each
// hit), and evict_cache() removes the least recently used entries until the directory's entries
// fit the limit. Several processes may share a directory: entries appear by rename and vanish by
// unlink, so a reader holding an evicted entry open still reads it whole (POSIX), and one that
// finds it gone rebuilds it.
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

/// Writes \p entry for \p key to \p path atomically, with the rows x cols matrix at \p data
/// (entry.matrix is not used: the matrix may live elsewhere, see MatrixTarget). Throws IoError.
void write_cache(const std::filesystem::path& path, const CacheKey& key, const CacheEntry& entry,
                 const float* data, std::size_t rows, std::size_t cols);

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

/// What evict_cache() removed.
struct Eviction {
  std::size_t entries = 0;            ///< entries removed (least recently used first)
  std::uintmax_t bytes = 0;           ///< their bytes
  bool removed_current = false;       ///< \p current itself was removed: alone it exceeds the limit
  std::size_t stale_temporaries = 0;  ///< temporary files of dead writers removed
};

/// Removes the least recently used entries ("features-*.mbfc", oldest modification time first)
/// of \p dir until their total size is at most \p max_bytes (0 = no limit). \p current, the
/// entry this load used or wrote, counts as the most recent and goes last. Temporary files of
/// writers that stopped an hour or more ago (killed mid-write) are removed too; younger ones are
/// writes in progress and are left alone. Never throws: a file that cannot be removed is skipped.
Eviction evict_cache(const std::filesystem::path& dir, std::uintmax_t max_bytes,
                     const std::filesystem::path& current);

}  // namespace moodboost::detail
