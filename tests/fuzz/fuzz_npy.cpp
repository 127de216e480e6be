// libFuzzer harness: a .npy file through the NPY module.
//
// The input is a whole file. parse_npy_header() reads it in memory; the file readers (read_npy,
// read_score_matrix, read_feature_matrix, read_label_matrix) read it from a scratch file; an
// accepted array is written back with write_npy() and must read back identical. Invariants
// besides "no crash, leak or sanitizer report": only moodboost errors escape; a ParseError names
// the file; an accepted header announces exactly the bytes that follow it; the file readers
// agree with parse_npy_header(); the matrix readers accept exactly the 2-D arrays (labels: those
// of 0/1 values of a bool or integer dtype); npy_header() output parses back to its dtype/shape.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "moodboost/npy.hpp"

using namespace moodboost;
using moodboost::fuzz::check;

namespace {

const std::filesystem::path kFile = "fuzz.npy";

void on_parse_error(const Error& e, const std::filesystem::path& file, const char* what) {
  const auto* parse_error = dynamic_cast<const ParseError*>(&e);
  check(parse_error != nullptr, std::string(what) + " threw: " + e.what());
  fuzz::check_names_file(*parse_error, file);
}

std::optional<NpyHeader> header_of(std::string_view bytes) {
  std::optional<NpyHeader> header;
  fuzz::guarded(
      "parse_npy_header", [&] { header = parse_npy_header(bytes, kFile); },
      [](const Error& e) { on_parse_error(e, kFile, "parse_npy_header"); });
  if (header) {
    check(header->major_version >= 1 && header->major_version <= 3, "a bad version");
    check(header->data_offset <= bytes.size(), "the data offset is past the end");
    check(
        bytes.size() - header->data_offset == header->element_count() * npy_itemsize(header->dtype),
        "the data length differs from the header's shape");
  }
  return header;
}

// npy_header() for \p header's dtype and shape must parse back to them.
void writer_round_trip(const NpyHeader& header, std::string_view bytes) {
  const std::string written = npy_header(header.dtype, header.shape);
  std::string file = written;
  file.append(bytes.substr(header.data_offset));
  const auto back = header_of(file);
  check(back && back->dtype == header.dtype && back->shape == header.shape &&
            back->data_offset == written.size() && written.size() % 64 == 0,
        "npy_header() output does not parse back to its dtype and shape");
}

template <typename Read>
void matrix_reader(const char* what, const std::filesystem::path& file, const NpyHeader& header,
                   bool expect_ok, Read read) {
  bool ok = false;
  fuzz::guarded(
      what,
      [&] {
        const auto m = read(file);
        check(static_cast<std::size_t>(m.rows()) == header.shape.at(0) &&
                  static_cast<std::size_t>(m.cols()) == header.shape.at(1),
              std::string(what) + ": the matrix shape differs from the header");
        ok = true;
      },
      [&](const Error& e) { on_parse_error(e, file, what); });
  if (expect_ok) check(ok, std::string(what) + " refused a 2-D array parse_npy_header accepted");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto header = header_of(bytes);

  const std::filesystem::path file = fuzz::scratch_path("in.npy");
  fuzz::write_bytes(file, bytes);
  std::optional<NpyArray> array;
  fuzz::guarded(
      "read_npy", [&] { array = read_npy(file); },
      [&](const Error& e) { on_parse_error(e, file, "read_npy"); });
  check(array.has_value() == header.has_value(), "read_npy and parse_npy_header disagree");
  if (!header) return 0;
  check(array->header.shape == header->shape && array->header.dtype == header->dtype,
        "read_npy's header differs");
  check(array->bytes.size() == size - header->data_offset &&
            (array->bytes.empty() || std::memcmp(array->bytes.data(), data + header->data_offset,
                                                 array->bytes.size()) == 0),
        "read_npy's data differs from the file's");

  writer_round_trip(*header, bytes);

  const bool two_d = header->shape.size() == 2;
  matrix_reader("read_score_matrix", file, *header, two_d, read_score_matrix);
  matrix_reader("read_feature_matrix", file, *header, two_d, read_feature_matrix);
  bool labels_ok =
      two_d && header->dtype != NpyDtype::kFloat32 && header->dtype != NpyDtype::kFloat64;
  if (labels_ok && header->dtype != NpyDtype::kBool) {
    const auto scores = read_score_matrix(file);
    labels_ok = ((scores.array() == 0) || (scores.array() == 1)).all();
  }
  matrix_reader("read_label_matrix", file, *header, labels_ok, read_label_matrix);
  if (labels_ok) {
    const LabelMatrix labels = read_label_matrix(file);
    check(((labels.array() == 0) || (labels.array() == 1)).all(), "a label other than 0/1");
  }

  // Written back (atomically, under another name) and read again: identical.
  const std::filesystem::path copy = fuzz::scratch_path("copy.npy");
  write_npy(copy, header->dtype, header->shape, array->bytes);
  const NpyArray back = read_npy(copy);
  check(back.header.shape == header->shape && back.header.dtype == header->dtype &&
            back.bytes == array->bytes,
        "write_npy/read_npy round trip changed the array");
  return 0;
}
