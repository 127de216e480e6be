#include "detail/file_buffer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "moodboost/error.hpp"

namespace moodboost::detail {
namespace {

std::int64_t nanoseconds(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000LL + static_cast<std::int64_t>(t.tv_nsec);
}

FileStamp stamp_of(const struct stat& st) {
  return FileStamp{static_cast<std::uintmax_t>(st.st_size), nanoseconds(st.st_mtim),
                   nanoseconds(st.st_ctim), static_cast<std::uint64_t>(st.st_ino)};
}

}  // namespace

std::string not_regular_file_message(unsigned mode, const std::filesystem::path& path) {
  std::string what = S_ISDIR(mode)    ? "is a directory"
                     : S_ISFIFO(mode) ? "is a FIFO (named pipe)"
                     : S_ISCHR(mode)  ? "is a character device"
                     : S_ISBLK(mode)  ? "is a block device"
                     : S_ISSOCK(mode) ? "is a socket"
                                      : "is not a regular file";
  // Name the target when the path is a symlink: "(a symlink to /dev/zero)" explains a file that
  // looks like a feature file in a listing.
  std::error_code ec;
  if (std::filesystem::is_symlink(path, ec)) {
    const auto target = std::filesystem::read_symlink(path, ec);
    if (!ec) what += " (a symlink to " + target.string() + ")";
  }
  return what + ", not a regular file";
}

Directory::Directory(std::filesystem::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0)
    throw IoError(path_, std::string("cannot open the directory: ") + std::strerror(errno));
}

Directory::~Directory() { ::close(fd_); }

bool Directory::stat(const std::string& relpath, FileStamp& stamp) const {
  struct stat st {};
  if (::fstatat(fd_, relpath.c_str(), &st, 0) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return false;
    throw IoError(path_ / relpath, std::string("cannot stat: ") + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode))
    throw IoError(path_ / relpath, not_regular_file_message(st.st_mode, path_ / relpath));
  stamp = stamp_of(st);
  return true;
}

void advise_huge_pages(void* data, std::size_t bytes) noexcept {
#ifdef MADV_HUGEPAGE
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<std::uintptr_t>(data) + page - 1) & ~(page - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(page - 1);
  if (end > begin) (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

void FileBuffer::reserve(std::size_t bytes) {
  const std::size_t needed = bytes + 1 + kPadding;
  if (needed <= capacity_) return;
  // Grow geometrically so that a run of slightly larger files does not reallocate each time.
  std::size_t capacity = capacity_ == 0 ? 128 * 1024 : capacity_;
  while (capacity < needed) capacity *= 2;
  data_ = std::make_unique_for_overwrite<char[]>(capacity);
  capacity_ = capacity;
}

void FileBuffer::assign(std::string_view bytes) {
  reserve(bytes.size());
  std::memcpy(data_.get(), bytes.data(), bytes.size());
  terminate(bytes.size());
}

void FileBuffer::terminate(std::size_t size) noexcept {
  size_ = size;
  std::memset(data_.get() + size_, 0, 1 + kPadding);
}

FileStamp FileBuffer::read(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  FileStamp stamp;
  (void)read_at(nullptr, path.c_str(), max_bytes, false, stamp);
  return stamp;
}

FileStamp FileBuffer::read(const Directory& dir, const std::string& relpath,
                           std::uintmax_t max_bytes) {
  FileStamp stamp;
  (void)read_at(&dir, relpath.c_str(), max_bytes, false, stamp);
  return stamp;
}

bool FileBuffer::read_if_exists(const Directory& dir, const std::string& relpath,
                                std::uintmax_t max_bytes, FileStamp& stamp) {
  return read_at(&dir, relpath.c_str(), max_bytes, true, stamp);
}

bool FileBuffer::read_at(const Directory* dir, const char* name, std::uintmax_t max_bytes,
                         bool missing_ok, FileStamp& stamp) {
  const ReadableFile file(dir, name, max_bytes,
                          " for a feature file (raise it with --max-file-bytes)", missing_ok);
  if (!file.is_open()) return false;
  reserve(file.size());
  terminate(file.read_into(data_.get()));
  stamp = file.stamp();
  return true;
}

ReadableFile::ReadableFile(const Directory* dir, const char* name, std::uintmax_t max_bytes,
                           std::string_view limit_note, bool missing_ok)
    : dir_(dir), name_(name) {
  // O_NONBLOCK changes nothing for the reads of a regular file.
  fd_ = ::openat(dir != nullptr ? dir->fd() : AT_FDCWD, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd_ < 0) {
    if (missing_ok && (errno == ENOENT || errno == ENOTDIR)) return;
    throw IoError(path(), std::string("cannot open: ") + std::strerror(errno));
  }
  try {
    struct stat st {};
    if (::fstat(fd_, &st) != 0)
      throw IoError(path(), std::string("cannot stat: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw IoError(path(), not_regular_file_message(st.st_mode, path()));
    const auto size = static_cast<std::uintmax_t>(st.st_size);
    if (size > max_bytes) {
      throw IoError(path(), "file is " + std::to_string(size) + " bytes, over the " +
                                std::to_string(max_bytes) + "-byte limit" +
                                std::string(limit_note));
    }
    size_ = static_cast<std::size_t>(size);
    stamp_ = stamp_of(st);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

ReadableFile::~ReadableFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::filesystem::path ReadableFile::path() const {
  return dir_ != nullptr ? dir_->path() / name_ : std::filesystem::path(name_);
}

std::size_t ReadableFile::read_into(char* out) const {
  std::size_t done = 0;
  while (done < size_) {
    const ssize_t n = ::read(fd_, out + done, size_ - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(path(), std::string("read failed: ") + std::strerror(errno));
    }
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<std::size_t>(n);
  }
  return done;
}

}  // namespace moodboost::detail
