/// \file npy.hpp
/// NumPy .npy files: the format of the MediaEval ground truth, predictions and decisions.
///
/// Reads format 1.0, 2.0 and 3.0 headers and writes 1.0 (2.0 only when the header would not fit
/// 1.0's 16-bit length), byte for byte as numpy.save writes them (header padded with spaces to a
/// multiple of 64 bytes, ending in '\n'). Little-endian dtypes only: |b1, |u1, <i4, <i8, <f4, <f8;
/// C order only. Every file is written atomically (AtomicFile).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moodboost/features.hpp"
#include "moodboost/io.hpp"
#include "moodboost/types.hpp"

namespace moodboost {

/// The element types moodboost reads (all) and writes (Bool, Float32, Float64).
enum class NpyDtype {
  kBool,     ///< "|b1", one byte, 0 or 1
  kUInt8,    ///< "|u1"
  kInt32,    ///< "<i4"
  kInt64,    ///< "<i8"
  kFloat32,  ///< "<f4"
  kFloat64,  ///< "<f8"
};

/// The NumPy descr string of \p dtype, e.g. "<f8".
std::string_view npy_descr(NpyDtype dtype) noexcept;
/// Bytes per element of \p dtype.
std::size_t npy_itemsize(NpyDtype dtype) noexcept;

/// A parsed .npy header.
struct NpyHeader {
  NpyDtype dtype = NpyDtype::kFloat64;  ///< element type
  std::vector<std::size_t> shape;       ///< any rank; empty for a 0-d array
  int major_version = 1;                ///< 1, 2 or 3
  std::size_t data_offset =
      0;  ///< bytes before the data (a multiple of 16; 64 when numpy wrote it)

  /// Number of elements (the product of the shape; 1 for a 0-d array).
  [[nodiscard]] std::size_t element_count() const;
  /// "(4231, 56)", "(5,)" or "()", as Python prints the shape.
  [[nodiscard]] std::string shape_text() const;
};

/// Parses the header at the start of \p bytes and checks that exactly the data it announces
/// follows. Throws ParseError naming \p file and the place: "byte 0" for a bad magic string,
/// "byte 6" for an unsupported version, "header 'descr'" for an unsupported dtype (big-endian,
/// structured, ...), "header 'fortran_order'" for Fortran order, "header byte N" for a malformed
/// header dictionary, and "byte N" (the data offset) for truncated or overlong data.
NpyHeader parse_npy_header(std::string_view bytes, const std::filesystem::path& file);

/// A whole .npy array: its header and raw little-endian C-order element bytes.
struct NpyArray {
  NpyHeader header;                 ///< dtype, shape, version
  std::vector<std::uint8_t> bytes;  ///< element_count() * itemsize bytes
};

/// Reads any supported .npy file, of any rank. Throws IoError and the errors of parse_npy_header().
NpyArray read_npy(const std::filesystem::path& file);

/// The complete header numpy.save writes for an array of \p dtype and \p shape (C order):
/// magic, version, length and the padded dictionary. \p major_version 0 picks 1 unless the header
/// is too long for it (then 2); 1 or 2 forces that version. Throws InvalidArgument when a forced
/// version 1 cannot hold the header, or for another version.
std::string npy_header(NpyDtype dtype, std::span<const std::size_t> shape, int major_version = 0);

/// Writes an array atomically: npy_header(dtype, shape) then \p data, which must hold
/// element_count * itemsize bytes (else InvalidArgument). Throws IoError on a write failure.
void write_npy(const std::filesystem::path& file, NpyDtype dtype,
               std::span<const std::size_t> shape, std::span<const std::uint8_t> data);

/// Reads a 2-D matrix of any supported dtype as float64 (bool gives 0/1). Throws ParseError
/// ("header 'shape'") when the array is not 2-D, plus the errors of read_npy().
ScoreMatrix read_score_matrix(const std::filesystem::path& file);

/// Reads a 2-D label or decision matrix: bool, or an integer dtype whose values are all 0 or 1.
/// Throws ParseError naming the first other value ("element (3, 7)") and, for a float dtype or a
/// non-2-D array, the header key; plus the errors of read_npy().
LabelMatrix read_label_matrix(const std::filesystem::path& file);

/// Reads a 2-D matrix of any supported dtype as float32. Errors as read_score_matrix().
FeatureMatrix read_feature_matrix(const std::filesystem::path& file);

/// Writes \p scores as a float64 ("<f8") matrix, atomically.
void write_score_matrix(const std::filesystem::path& file,
                        const Eigen::Ref<const ScoreMatrix>& scores);
/// Writes \p labels as a bool ("|b1") matrix (any nonzero byte is written as True), atomically.
void write_label_matrix(const std::filesystem::path& file,
                        const Eigen::Ref<const LabelMatrix>& labels);
/// Writes \p features as a float32 ("<f4") matrix, atomically.
void write_feature_matrix(const std::filesystem::path& file,
                          const Eigen::Ref<const FeatureMatrix>& features);

/// A float32 .npy matrix file written through a shared memory map, as a MatrixTarget: given to
/// load_features(), the feature files are parsed straight into the output file's pages, with no
/// matrix in anonymous memory and no copy to write it (`moodboost flatten`). The file is what
/// write_feature_matrix() writes, byte for byte, and as atomic: a temporary file beside \p file,
/// its blocks reserved up front (a full disk is an IoError here, not a SIGBUS later), fsync'd and
/// renamed over \p file by commit(). Destroyed without
/// commit(), the temporary file is removed.
class MappedNpyWriter final : public MatrixTarget {
 public:
  explicit MappedNpyWriter(std::filesystem::path file);
  ~MappedNpyWriter() override;
  MappedNpyWriter(const MappedNpyWriter&) = delete;
  MappedNpyWriter& operator=(const MappedNpyWriter&) = delete;

  float* allocate(std::size_t rows, std::size_t cols) override;
  float* shrink(std::size_t rows, std::size_t cols) override;
  /// Writes the header of the final shape, flushes and renames. Throws IoError.
  void commit();

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }

 private:
  void unmap() noexcept;

  AtomicFile file_;
  char* map_ = nullptr;
  std::size_t map_bytes_ = 0;
  std::size_t offset_ = 0;  // of the data: the header's length
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  bool final_ = false;  // shrink() fixed the shape and wrote the header
};

}  // namespace moodboost
