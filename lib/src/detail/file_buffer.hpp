// Reading many small files with one reusable buffer per thread: no allocation and no zero-fill
// per file. The buffer is always followed by a NUL byte, as RapidJSON's string stream expects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

namespace moodboost::detail {

/// Size and modification time of a file, as the cache key records them.
struct FileStamp {
  std::uintmax_t size = 0;
  std::int64_t mtime_ns = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

/// stat(2) of \p path; std::nullopt-like: returns false when the file does not exist (ENOENT or
/// ENOTDIR). Throws IoError for any other failure.
bool stat_file(const std::filesystem::path& path, FileStamp& stamp);

/// A growable byte buffer that holds one file at a time.
class FileBuffer {
 public:
  /// Replaces the contents with the file at \p path and returns its stamp (from fstat of the open
  /// file). Throws IoError when the file cannot be opened or read, is a directory, or is larger
  /// than \p max_bytes (same messages as io.hpp read_file()).
  FileStamp read(const std::filesystem::path& path, std::uintmax_t max_bytes);
  /// Replaces the contents with \p bytes.
  void assign(std::string_view bytes);

  /// The bytes; data()[size()] is '\0'.
  [[nodiscard]] char* data() noexcept { return data_.get(); }
  [[nodiscard]] const char* data() const noexcept { return data_.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::string_view view() const noexcept { return {data_.get(), size_}; }

 private:
  void reserve(std::size_t bytes);

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace moodboost::detail
