#include "moodboost/npy.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "moodboost/error.hpp"
#include "moodboost/io.hpp"

namespace moodboost {
namespace {

namespace fs = std::filesystem;

// Element bytes are copied as they are in the file, which is little-endian.
static_assert(std::endian::native == std::endian::little, "moodboost assumes a little-endian host");

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::size_t kPreambleV1 = kMagic.size() + 2 + 2;  // magic, version, uint16 length
constexpr std::size_t kPreambleV2 = kMagic.size() + 2 + 4;  // magic, version, uint32 length
// numpy.lib.format: ARRAY_ALIGN and GROWTH_AXIS_MAX_DIGITS (numpy >= 1.23 pads the dictionary so
// that the first axis can grow in place).
constexpr std::size_t kArrayAlign = 64;
constexpr std::size_t kGrowthAxisMaxDigits = 21;
// A .npy is read whole; 8 GiB is far beyond any matrix of this task.
constexpr std::uintmax_t kMaxNpyBytes = std::uintmax_t{8} << 30;
// An empty array (a zero dimension) holds no data, so the byte count cannot bound its other
// dimensions; a forged (0, 18427387904) would make every loop over its columns run for minutes.
constexpr std::size_t kMaxEmptyArrayDimension = std::size_t{1} << 24;

constexpr std::array<std::pair<NpyDtype, std::string_view>, 6> kDescrs{{
    {NpyDtype::kBool, "|b1"},
    {NpyDtype::kUInt8, "|u1"},
    {NpyDtype::kInt32, "<i4"},
    {NpyDtype::kInt64, "<i8"},
    {NpyDtype::kFloat32, "<f4"},
    {NpyDtype::kFloat64, "<f8"},
}};

std::string byte_place(std::size_t offset) { return fmt::format("byte {}", offset); }
std::string key_place(std::string_view key) { return fmt::format("header '{}'", key); }

// The dictionary numpy writes: {'descr': '<f8', 'fortran_order': False, 'shape': (4231, 56), }.
// This reads exactly that grammar (Python literals: strings, True/False, tuples of integers) with
// any whitespace, either quote and an optional trailing comma, which is what ast.literal_eval of
// every numpy-written header accepts.
class HeaderDictParser {
 public:
  HeaderDictParser(std::string_view text, std::size_t offset, const fs::path& file)
      : text_(text), offset_(offset), file_(file) {}

  struct Values {
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<std::vector<std::size_t>> shape;
  };

  Values parse() {
    Values values;
    expect('{');
    for (;;) {
      skip_space();
      if (peek() == '}') break;
      const std::size_t key_at = pos_;
      const std::string key = parse_string();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"') {
          throw ParseError(file_, key_place(key),
                           "structured or non-string dtypes are not supported (expected one of "
                           "|b1, |u1, <i4, <i8, <f4, <f8)");
        }
        set_once(values.descr, parse_string(), key);
      } else if (key == "fortran_order") {
        set_once(values.fortran_order, parse_bool(), key);
      } else if (key == "shape") {
        set_once(values.shape, parse_shape(), key);
      } else {
        throw ParseError(
            file_, place(key_at),
            fmt::format("unexpected key '{}' (expected descr, fortran_order, shape)", key));
      }
      if (!more_items('}')) break;
    }
    ++pos_;
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the header dictionary");
    return values;
  }

 private:
  std::string place(std::size_t at) const { return fmt::format("header byte {}", offset_ + at); }
  [[noreturn]] void fail(const std::string& message) const {
    throw ParseError(file_, place(pos_), message);
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }
  // After an item of a dictionary or tuple: true after a ',' (another item may follow), false at
  // \p close (left for the caller to consume).
  bool more_items(char close) {
    skip_space();
    if (peek() == ',') {
      ++pos_;
      return true;
    }
    if (peek() != close) fail(fmt::format("expected ',' or '{}'", close));
    return false;
  }
  template <typename T>
  void set_once(std::optional<T>& slot, T value, const std::string& key) {
    if (slot) throw ParseError(file_, key_place(key), "key appears twice");
    slot = std::move(value);
  }
  std::string parse_string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const std::size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string out(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    skip_space();
    for (const auto& [word, value] :
         {std::pair{std::string_view("True"), true}, std::pair{std::string_view("False"), false}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    fail("expected True or False");
  }
  std::vector<std::size_t> parse_shape() {
    expect('(');
    std::vector<std::size_t> shape;
    for (;;) {
      skip_space();
      if (peek() == ')') break;
      if (peek() < '0' || peek() > '9') fail("expected a dimension (a non-negative integer)");
      std::size_t value = 0;
      while (peek() >= '0' && peek() <= '9') {
        const auto digit = static_cast<std::size_t>(peek() - '0');
        if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
          fail("dimension too large");
        }
        value = value * 10 + digit;
        ++pos_;
      }
      shape.push_back(value);
      if (!more_items(')')) break;
    }
    ++pos_;
    return shape;
  }

  std::string_view text_;
  std::size_t offset_;  // of text_ in the file, for error places
  const fs::path& file_;
  std::size_t pos_ = 0;
};

std::uint32_t read_le(std::string_view bytes, std::size_t at, std::size_t width) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  }
  return value;
}

std::string shape_repr(std::span<const std::size_t> shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

void require_2d(const NpyHeader& header, const fs::path& file, std::string_view what) {
  if (header.shape.size() != 2) {
    throw ParseError(
        file, key_place("shape"),
        fmt::format("expected a 2-D {} matrix, found shape {}", what, header.shape_text()));
  }
}

// Converts the elements of a 2-D array to T, in C order, checking each with \p check.
template <typename Matrix, typename Check>
Matrix convert_2d(const NpyHeader& header, std::string_view data, Check check) {
  using T = typename Matrix::Scalar;
  Matrix out(static_cast<Eigen::Index>(header.shape[0]),
             static_cast<Eigen::Index>(header.shape[1]));
  T* dst = out.data();
  const std::size_t n = header.element_count();
  const auto convert = [&]<typename Source>(Source) {
    for (std::size_t i = 0; i < n; ++i) {
      Source value;
      std::memcpy(&value, data.data() + i * sizeof(Source), sizeof(Source));
      check(value, i);
      dst[i] = static_cast<T>(value);
    }
  };
  switch (header.dtype) {
    case NpyDtype::kBool:
      for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<T>(data[i] != 0 ? 1 : 0);
      break;
    case NpyDtype::kUInt8:
      convert(std::uint8_t{});
      break;
    case NpyDtype::kInt32:
      convert(std::int32_t{});
      break;
    case NpyDtype::kInt64:
      convert(std::int64_t{});
      break;
    case NpyDtype::kFloat32:
      convert(float{});
      break;
    case NpyDtype::kFloat64:
      convert(double{});
      break;
  }
  return out;
}

// Reads a whole file and parses its header; returns the header and the file's bytes.
std::pair<NpyHeader, std::string> load(const fs::path& file) {
  std::string bytes = read_file(file, kMaxNpyBytes);
  NpyHeader header = parse_npy_header(bytes, file);
  return {std::move(header), std::move(bytes)};
}

template <typename Matrix>
void write_matrix(const fs::path& file, NpyDtype dtype, const Eigen::Ref<const Matrix>& m) {
  using T = typename Matrix::Scalar;
  const std::array<std::size_t, 2> shape{static_cast<std::size_t>(m.rows()),
                                         static_cast<std::size_t>(m.cols())};
  AtomicFile out(file);
  out.write(npy_header(dtype, shape));
  const std::size_t row_bytes = static_cast<std::size_t>(m.cols()) * sizeof(T);
  if (m.outerStride() == m.cols()) {  // contiguous: one write
    if (m.size() > 0) out.write(m.data(), row_bytes * static_cast<std::size_t>(m.rows()));
  } else {
    for (Eigen::Index r = 0; r < m.rows(); ++r) out.write(m.row(r).data(), row_bytes);
  }
  out.commit();
}

}  // namespace

std::string_view npy_descr(NpyDtype dtype) noexcept {
  for (const auto& [d, descr] : kDescrs) {
    if (d == dtype) return descr;
  }
  return "?";
}

std::size_t npy_itemsize(NpyDtype dtype) noexcept {
  switch (dtype) {
    case NpyDtype::kBool:
    case NpyDtype::kUInt8:
      return 1;
    case NpyDtype::kInt32:
    case NpyDtype::kFloat32:
      return 4;
    case NpyDtype::kInt64:
    case NpyDtype::kFloat64:
      return 8;
  }
  return 0;
}

std::size_t NpyHeader::element_count() const {
  std::size_t n = 1;
  for (const std::size_t d : shape) n *= d;
  return n;
}

std::string NpyHeader::shape_text() const { return shape_repr(shape); }

NpyHeader parse_npy_header(std::string_view bytes, const fs::path& file) {
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic) {
    throw ParseError(file, byte_place(0), "not a NumPy .npy file (expected the magic \\x93NUMPY)");
  }
  if (bytes.size() < kPreambleV1) {
    throw ParseError(file, byte_place(kMagic.size()), "file ends inside the .npy preamble");
  }
  NpyHeader header;
  const auto major = static_cast<unsigned char>(bytes[6]);
  const auto minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0) {
    throw ParseError(file, byte_place(6),
                     fmt::format("unsupported .npy format version {}.{} (expected 1.0, 2.0 or 3.0)",
                                 major, minor));
  }
  header.major_version = major;
  const std::size_t preamble = major == 1 ? kPreambleV1 : kPreambleV2;
  if (bytes.size() < preamble) {
    throw ParseError(file, byte_place(8), "file ends inside the .npy header length");
  }
  const std::size_t header_len = read_le(bytes, 8, preamble - 8);
  if (header_len > bytes.size() - preamble) {
    throw ParseError(file, byte_place(8),
                     fmt::format("header length {} runs past the end of the file ({} bytes)",
                                 header_len, bytes.size()));
  }
  header.data_offset = preamble + header_len;

  const HeaderDictParser::Values values =
      HeaderDictParser(bytes.substr(preamble, header_len), preamble, file).parse();
  if (!values.descr) throw ParseError(file, key_place("descr"), "missing from the header");
  if (!values.fortran_order)
    throw ParseError(file, key_place("fortran_order"), "missing from the header");
  if (!values.shape) throw ParseError(file, key_place("shape"), "missing from the header");

  bool known = false;
  for (const auto& [dtype, descr] : kDescrs) {
    if (descr == *values.descr) {
      header.dtype = dtype;
      known = true;
    }
  }
  if (!known) {
    throw ParseError(file, key_place("descr"),
                     fmt::format("unsupported dtype '{}' (expected one of |b1, |u1, <i4, <i8, <f4, "
                                 "<f8: little-endian bool, integers or floats)",
                                 *values.descr));
  }
  if (*values.fortran_order) {
    throw ParseError(file, key_place("fortran_order"),
                     "Fortran-order arrays are not supported (save a C-order array, e.g. "
                     "numpy.ascontiguousarray)");
  }
  header.shape = *values.shape;

  // Checked product: a forged shape must not overflow into a small size.
  const std::size_t itemsize = npy_itemsize(header.dtype);
  std::size_t expected = itemsize;
  for (const std::size_t d : header.shape) {
    if (d != 0 && expected > std::numeric_limits<std::size_t>::max() / d) {
      throw ParseError(file, key_place("shape"),
                       fmt::format("shape {} is too large", header.shape_text()));
    }
    expected *= d;
  }
  if (expected == 0) {
    for (const std::size_t d : header.shape) {
      if (d > kMaxEmptyArrayDimension) {
        throw ParseError(file, key_place("shape"),
                         fmt::format("shape {} is an empty array with a dimension over {}",
                                     header.shape_text(), kMaxEmptyArrayDimension));
      }
    }
  }
  const std::size_t found = bytes.size() - header.data_offset;
  if (found != expected) {
    throw ParseError(file, byte_place(header.data_offset),
                     fmt::format("expected {} data bytes for shape {} of {}, found {}{}", expected,
                                 header.shape_text(), *values.descr, found,
                                 found < expected ? " (truncated file)" : ""));
  }
  return header;
}

NpyArray read_npy(const fs::path& file) {
  auto [header, bytes] = load(file);
  NpyArray array;
  array.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header.data_offset), bytes.end());
  array.header = std::move(header);
  return array;
}

std::string npy_header(NpyDtype dtype, std::span<const std::size_t> shape, int major_version) {
  if (major_version < 0 || major_version > 2) {
    throw InvalidArgument(fmt::format("cannot write .npy format version {}", major_version));
  }
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                 npy_descr(dtype), shape_repr(shape));
  if (!shape.empty()) dict.append(kGrowthAxisMaxDigits - fmt::formatted_size("{}", shape[0]), ' ');
  const std::size_t text_len = dict.size() + 1;  // + the final '\n'
  const auto wrap = [&](int version) {
    const std::size_t preamble = version == 1 ? kPreambleV1 : kPreambleV2;
    const std::size_t padding = kArrayAlign - (preamble + text_len) % kArrayAlign;
    const std::size_t header_len = text_len + padding;
    std::string out(kMagic);
    out += static_cast<char>(version);
    out += '\0';
    for (std::size_t i = 0; i < preamble - 8; ++i)
      out += static_cast<char>((header_len >> (8 * i)) & 0xff);
    out += dict;
    out.append(padding, ' ');
    out += '\n';
    return out;
  };
  // numpy.save tries format 1.0 first and moves to 2.0 when the length needs more than 16 bits.
  const std::size_t v1_length = text_len + kArrayAlign - (kPreambleV1 + text_len) % kArrayAlign;
  const bool fits_v1 = v1_length <= 0xffff;
  if (major_version == 2 || (major_version == 0 && !fits_v1)) return wrap(2);
  if (!fits_v1) {
    throw InvalidArgument(
        fmt::format(".npy header of {} bytes is too long for format 1.0", text_len));
  }
  return wrap(1);
}

void write_npy(const fs::path& file, NpyDtype dtype, std::span<const std::size_t> shape,
               std::span<const std::uint8_t> data) {
  std::size_t expected = npy_itemsize(dtype);
  for (const std::size_t d : shape) expected *= d;
  if (data.size() != expected) {
    throw InvalidArgument(fmt::format("{}: {} data bytes given for shape {} of {}, expected {}",
                                      file.string(), data.size(), shape_repr(shape),
                                      npy_descr(dtype), expected));
  }
  AtomicFile out(file);
  out.write(npy_header(dtype, shape));
  out.write(data.data(), data.size());
  out.commit();
}

ScoreMatrix read_score_matrix(const fs::path& file) {
  const auto [header, bytes] = load(file);
  require_2d(header, file, "score");
  return convert_2d<ScoreMatrix>(header, std::string_view(bytes).substr(header.data_offset),
                                 [](auto, std::size_t) {});
}

FeatureMatrix read_feature_matrix(const fs::path& file) {
  const auto [header, bytes] = load(file);
  require_2d(header, file, "feature");
  return convert_2d<FeatureMatrix>(header, std::string_view(bytes).substr(header.data_offset),
                                   [](auto, std::size_t) {});
}

LabelMatrix read_label_matrix(const fs::path& file) {
  const auto [header, bytes] = load(file);
  require_2d(header, file, "label");
  if (header.dtype == NpyDtype::kFloat32 || header.dtype == NpyDtype::kFloat64) {
    throw ParseError(file, key_place("descr"),
                     fmt::format("a label matrix must be bool or integer 0/1, found {}",
                                 npy_descr(header.dtype)));
  }
  const std::size_t cols = header.shape[1];
  return convert_2d<LabelMatrix>(
      header, std::string_view(bytes).substr(header.data_offset), [&](auto value, std::size_t i) {
        if (value == 0 || value == 1) return;
        throw ParseError(file, fmt::format("element ({}, {})", i / cols, i % cols),
                         fmt::format("expected 0 or 1 in a label matrix, found {}",
                                     static_cast<long long>(value)));
      });
}

void write_score_matrix(const fs::path& file, const Eigen::Ref<const ScoreMatrix>& scores) {
  write_matrix<ScoreMatrix>(file, NpyDtype::kFloat64, scores);
}

void write_label_matrix(const fs::path& file, const Eigen::Ref<const LabelMatrix>& labels) {
  // numpy's bool is one byte, 0 or 1: normalise any other nonzero byte.
  const LabelMatrix normalised = (labels.array() != 0).cast<std::uint8_t>();
  write_matrix<LabelMatrix>(file, NpyDtype::kBool, normalised);
}

void write_feature_matrix(const fs::path& file, const Eigen::Ref<const FeatureMatrix>& features) {
  write_matrix<FeatureMatrix>(file, NpyDtype::kFloat32, features);
}

MappedNpyWriter::MappedNpyWriter(fs::path file) : file_(std::move(file)) {}

MappedNpyWriter::~MappedNpyWriter() { unmap(); }

void MappedNpyWriter::unmap() noexcept {
  if (map_ != nullptr) ::munmap(map_, map_bytes_);
  map_ = nullptr;
  map_bytes_ = 0;
}

float* MappedNpyWriter::allocate(std::size_t rows, std::size_t cols) {
  unmap();
  const std::array<std::size_t, 2> shape{rows, cols};
  offset_ = npy_header(NpyDtype::kFloat32, shape).size();
  const std::size_t bytes = offset_ + rows * cols * sizeof(float);
  const int fd = file_.descriptor();
  // Reserve the blocks now: a write into a mapped page that the disk has no room for is a SIGBUS.
  if (::ftruncate(fd, 0) != 0)
    throw IoError(file_.path(), "cannot truncate: " + std::string(std::strerror(errno)));
  if (const int e = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)); e != 0) {
    throw IoError(file_.path(),
                  fmt::format("cannot reserve {} bytes: {}", bytes, std::strerror(e)));
  }
  void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED)
    throw IoError(file_.path(), "cannot map: " + std::string(std::strerror(errno)));
  map_ = static_cast<char*>(map);
  map_bytes_ = bytes;
  rows_ = rows;
  cols_ = cols;
  final_ = false;
  return reinterpret_cast<float*>(map_ + offset_);  // the header is a multiple of 64 bytes
}

float* MappedNpyWriter::shrink(std::size_t rows, std::size_t cols) {
  if (map_ == nullptr || rows * cols > rows_ * cols_)
    throw InvalidArgument("MappedNpyWriter::shrink: no such allocation");
  const std::array<std::size_t, 2> shape{rows, cols};
  const std::string header = npy_header(NpyDtype::kFloat32, shape);
  // The data stays in place: a 2-D float32 header's length does not depend on the row count
  // (numpy leaves room for the first axis to grow) and is 128 bytes below 10^39 columns.
  if (header.size() != offset_)
    throw Error("MappedNpyWriter::shrink: the .npy header changed size");
  std::memcpy(map_, header.data(), header.size());
  offset_ = header.size();
  rows_ = rows;
  cols_ = cols;
  final_ = true;
  return reinterpret_cast<float*>(map_ + offset_);
}

void MappedNpyWriter::commit() {
  if (!final_) throw InvalidArgument("MappedNpyWriter::commit: the matrix was not finished");
  unmap();
  const std::size_t bytes = offset_ + rows_ * cols_ * sizeof(float);
  if (::ftruncate(file_.descriptor(), static_cast<off_t>(bytes)) != 0)
    throw IoError(file_.path(), "cannot truncate: " + std::string(std::strerror(errno)));
  file_.commit();  // fsync (the mapped pages are the file's page cache) and rename
}

}  // namespace moodboost
