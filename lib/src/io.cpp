#include "moodboost/io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <system_error>

#include "detail/file_buffer.hpp"
#include "moodboost/error.hpp"

namespace moodboost {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Random suffix so that concurrent writers of the same output never share a temporary file.
std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(8, 'x');
  for (auto& c : out) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return out;
}

constexpr std::size_t kWriteBufferBytes = 1u << 20;

}  // namespace

std::string read_file(const std::filesystem::path& path, std::uintmax_t max_bytes,
                      std::string_view limit_option) {
  const std::string note =
      limit_option.empty() ? "" : " (raise it with " + std::string(limit_option) + ")";
  const detail::ReadableFile file(nullptr, path.c_str(), max_bytes, note);
  std::string out(file.size(), '\0');
  out.resize(file.read_into(out.data()));
  return out;
}

AtomicFile::AtomicFile(std::filesystem::path path, Durability durability)
    : path_(std::move(path)), durability_(durability) {
  const auto dir = path_.has_parent_path() ? path_.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError(dir, "cannot create directory: " + ec.message());
  temp_path_ = dir / ("." + path_.filename().string() + ".tmp-" + random_suffix());
  fd_ = ::open(temp_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError(path_, "cannot create temporary file: " + errno_text(errno));
  buffer_.reserve(kWriteBufferBytes);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(other.fd_),
      buffer_(std::move(other.buffer_)),
      committed_(other.committed_),
      durability_(other.durability_) {
  other.fd_ = -1;
  other.committed_ = true;
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void AtomicFile::write_all(const char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd_, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(path_, "write failed: " + errno_text(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

void AtomicFile::flush_buffer() {
  write_all(buffer_.data(), buffer_.size());
  buffer_.clear();
}

void AtomicFile::write(const void* data, std::size_t size) {
  if (fd_ < 0) throw IoError(path_, "write after commit");
  const auto* bytes = static_cast<const char*>(data);
  if (buffer_.size() + size > kWriteBufferBytes) flush_buffer();
  if (size >= kWriteBufferBytes) {
    // Large payloads (a whole matrix) go straight from the caller's memory: no second copy.
    write_all(bytes, size);
    return;
  }
  buffer_.append(bytes, size);
}

void AtomicFile::commit() {
  if (fd_ < 0) throw IoError(path_, "commit called twice");
  flush_buffer();
  if (durability_ == Durability::kFsync && ::fsync(fd_) != 0) {
    throw IoError(path_, "fsync failed: " + errno_text(errno));
  }
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw IoError(path_, "close failed: " + errno_text(errno));
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    throw IoError(path_, "cannot rename temporary file into place: " + errno_text(errno));
  }
  committed_ = true;
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content,
                       AtomicFile::Durability durability) {
  AtomicFile file(path, durability);
  file.write(content);
  file.commit();
}

}  // namespace moodboost
