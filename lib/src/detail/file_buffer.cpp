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

std::int64_t mtime_ns_of(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL +
         static_cast<std::int64_t>(st.st_mtim.tv_nsec);
}

}  // namespace

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
  stamp.size = static_cast<std::uintmax_t>(st.st_size);
  stamp.mtime_ns = mtime_ns_of(st);
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
  if (bytes + 1 <= capacity_) return;
  // Grow geometrically so that a run of slightly larger files does not reallocate each time.
  std::size_t capacity = capacity_ == 0 ? 128 * 1024 : capacity_;
  while (capacity < bytes + 1) capacity *= 2;
  data_ = std::make_unique_for_overwrite<char[]>(capacity);
  capacity_ = capacity;
}

void FileBuffer::assign(std::string_view bytes) {
  reserve(bytes.size());
  std::memcpy(data_.get(), bytes.data(), bytes.size());
  size_ = bytes.size();
  data_[size_] = '\0';
}

FileStamp FileBuffer::read(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  return read_at(AT_FDCWD, path.c_str(), path, max_bytes);
}

FileStamp FileBuffer::read(const Directory& dir, const std::string& relpath,
                           std::uintmax_t max_bytes) {
  return read_at(dir.fd(), relpath.c_str(), dir.path() / relpath, max_bytes);
}

FileStamp FileBuffer::read_at(int dir_fd, const char* name, const std::filesystem::path& path,
                              std::uintmax_t max_bytes) {
  const int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(path, std::string("cannot open: ") + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw IoError(path, std::string("cannot stat: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw IoError(path, "is a directory, expected a file");
  const auto size = static_cast<std::uintmax_t>(st.st_size);
  if (size > max_bytes) {
    throw IoError(path, "file is " + std::to_string(size) + " bytes, over the " +
                            std::to_string(max_bytes) + "-byte limit");
  }
  reserve(static_cast<std::size_t>(size));
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, data_.get() + done, static_cast<std::size_t>(size) - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(path, std::string("read failed: ") + std::strerror(errno));
    }
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<std::size_t>(n);
  }
  size_ = done;
  data_[size_] = '\0';
  return FileStamp{size, mtime_ns_of(st)};
}

}  // namespace moodboost::detail
