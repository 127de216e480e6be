/// \file io.hpp
/// File helpers every module uses: whole-file reads with a size limit, and atomic writes
/// (temporary file in the target directory + fsync + rename), so that an interrupted run never
/// leaves a half-written output behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace moodboost {

/// Default limit on the size of a single input file read whole (16 MiB).
inline constexpr std::uintmax_t kDefaultMaxFileBytes = 16u * 1024u * 1024u;

/// Reads a whole file into a string. Throws IoError when the file cannot be opened or read, is
/// not a regular file (a FIFO is refused without blocking, a device or directory by name), or is
/// larger than \p max_bytes ("file is 20971520 bytes, over the 16777216-byte limit"; with
/// \p limit_option, e.g. "--max-file-bytes", the message adds "(raise it with --max-file-bytes)").
std::string read_file(const std::filesystem::path& path,
                      std::uintmax_t max_bytes = kDefaultMaxFileBytes,
                      std::string_view limit_option = {});

/// A file written atomically: data goes to "<dir>/.<name>.tmp-<random>" and becomes visible
/// under its final name only on commit() (fsync, then rename over any older file). Destroying an
/// uncommitted AtomicFile removes the temporary file, so readers never see a partial output.
class AtomicFile {
 public:
  /// Whether commit() fsyncs the data before the rename. kDeferred still renames atomically
  /// (readers and a crashed process never see a partial file) but leaves flushing to the OS or
  /// to one sync by the caller: for bulk writers of thousands of regenerable files, where one
  /// fsync each would dominate the run time.
  enum class Durability { kFsync, kDeferred };

  /// Opens the temporary file beside \p path. Creates missing parent directories.
  /// Throws IoError when the directory is not writable.
  explicit AtomicFile(std::filesystem::path path, Durability durability = Durability::kFsync);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  ~AtomicFile();

  /// Appends bytes. Throws IoError on a write failure (disk full, ...).
  void write(const void* data, std::size_t size);
  /// Appends text.
  void write(std::string_view text) { write(text.data(), text.size()); }
  /// Flushes, fsyncs and renames onto the final path. Throws IoError on failure.
  void commit();

  /// The final path.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  /// The temporary file's descriptor (open for reading and writing), for a writer that maps the
  /// file or writes it at offsets; don't mix that with write(), which appends through a buffer.
  [[nodiscard]] int descriptor() const noexcept { return fd_; }

 private:
  void flush_buffer();
  void write_all(const char* data, std::size_t size);

  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  std::string buffer_;
  bool committed_ = false;
  Durability durability_ = Durability::kFsync;
};

/// Writes \p content to \p path atomically (see AtomicFile).
void write_file_atomic(const std::filesystem::path& path, std::string_view content,
                       AtomicFile::Durability durability = AtomicFile::Durability::kFsync);

}  // namespace moodboost
