// Reading many small files with one reusable buffer per thread: no allocation and no zero-fill
// per file. The buffer is always followed by a NUL byte, as RapidJSON's string stream expects, and
// by zero padding (FileBuffer::kPadding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace moodboost::detail {

/// What the feature cache keys a file on: size, modification and status-change times in
/// nanoseconds, and inode. A rewrite that keeps the size and restores the modification time
/// (`touch -d`) still changes the status-change time and, when the file is replaced (rename over
/// it, an editor's save), the inode.
struct FileStamp {
  std::uintmax_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint64_t inode = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

/// Why the file at \p path (described by \p mode, from stat) is not read: "is a FIFO (named
/// pipe), not a regular file", with "(a symlink to /dev/zero)" after the kind when \p path is a
/// symlink. Input files must be regular files: a FIFO blocks its reader and a device has no size
/// (/dev/zero reads without end).
std::string not_regular_file_message(unsigned mode, const std::filesystem::path& path);

/// An open directory. Files are opened and stat'ed relative to it (openat/fstatat), which saves
/// walking the whole path from the root for each of thousands of files.
class Directory {
 public:
  /// Opens \p path. Throws IoError when it is not a readable directory.
  explicit Directory(std::filesystem::path path);
  ~Directory();
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

  /// Stamp of \p relpath (symlinks followed); false when it does not exist (ENOENT, ENOTDIR).
  /// Throws IoError when it is not a regular file (a directory, FIFO, socket or device), and for
  /// any other failure.
  bool stat(const std::string& relpath, FileStamp& stamp) const;
  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

/// A file opened for reading by the rules every reader here follows: opened non-blocking (a FIFO
/// without a writer cannot hang the open), then checked on the open descriptor, so that a file
/// swapped for a FIFO or a device after a stat is caught: a regular file of at most a size limit.
/// FileBuffer and read_file() (moodboost/io.hpp) both read through it. Closes the descriptor.
class ReadableFile {
 public:
  /// Opens \p name, relative to \p dir (to the working directory when null). is_open() is false
  /// when \p missing_ok and the file does not exist (ENOENT, ENOTDIR). Throws IoError naming
  /// dir->path() / name (built only for a message) when it cannot be opened or stat'ed, is not a
  /// regular file, or is larger than \p max_bytes: "file is N bytes, over the M-byte limit"
  /// followed by \p limit_note (e.g. " (raise it with --max-file-bytes)").
  ReadableFile(const Directory* dir, const char* name, std::uintmax_t max_bytes,
               std::string_view limit_note, bool missing_ok = false);
  ~ReadableFile();
  ReadableFile(const ReadableFile&) = delete;
  ReadableFile& operator=(const ReadableFile&) = delete;

  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
  /// The size fstat gave (at most the limit).
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] const FileStamp& stamp() const noexcept { return stamp_; }
  /// Reads the file into \p out, which has room for size() bytes; returns the bytes read, fewer
  /// when the file shrank meanwhile. Throws IoError naming the file when a read fails.
  std::size_t read_into(char* out) const;

 private:
  [[nodiscard]] std::filesystem::path path() const;

  const Directory* dir_;
  const char* name_;
  int fd_ = -1;
  std::size_t size_ = 0;
  FileStamp stamp_;
};

/// Asks the kernel to back [data, data + bytes) with transparent huge pages (madvise), which
/// makes first-touch page faults of a large matrix about 3x cheaper. A no-op where unsupported.
void advise_huge_pages(void* data, std::size_t bytes) noexcept;

/// A growable byte buffer that holds one file at a time.
class FileBuffer {
 public:
  /// Replaces the contents with the file at \p path and returns its stamp (from fstat of the open
  /// file). The file is opened non-blocking, so that a FIFO cannot hang the reader, and must be a
  /// regular file (checked on the open descriptor, so a file swapped after a stat cannot slip
  /// through). Throws IoError when the file cannot be opened or read, is not a regular file, or
  /// is larger than \p max_bytes (the message names --max-file-bytes, which raises the limit).
  FileStamp read(const std::filesystem::path& path, std::uintmax_t max_bytes);
  /// Same, for \p relpath inside \p dir (messages name dir.path() / relpath).
  FileStamp read(const Directory& dir, const std::string& relpath, std::uintmax_t max_bytes);
  /// Same, but false (and the buffer unchanged) when \p relpath does not exist (ENOENT, ENOTDIR).
  bool read_if_exists(const Directory& dir, const std::string& relpath, std::uintmax_t max_bytes,
                      FileStamp& stamp);
  /// Replaces the contents with \p bytes.
  void assign(std::string_view bytes);

  /// Zero bytes after the terminating NUL, so that a reader may load 8 bytes at once at any
  /// position up to size() (scan_number() reads digits 8 at a time).
  static constexpr std::size_t kPadding = 8;

  /// The bytes; data()[size()] is '\0', followed by kPadding zero bytes.
  [[nodiscard]] char* data() noexcept { return data_.get(); }
  [[nodiscard]] const char* data() const noexcept { return data_.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::string_view view() const noexcept { return {data_.get(), size_}; }

 private:
  void reserve(std::size_t bytes);
  // Sets the size and writes the NUL and the padding after it.
  void terminate(std::size_t size) noexcept;
  // Reads \p name (relative to \p dir, or to the working directory when dir is null); false when
  // missing_ok and it does not exist. Messages name dir->path() / name, built only for them.
  bool read_at(const Directory* dir, const char* name, std::uintmax_t max_bytes, bool missing_ok,
               FileStamp& stamp);

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace moodboost::detail
