#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>

#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/npy.hpp"
#include "support.hpp"

using namespace moodboost;
namespace fs = std::filesystem;

namespace {

// The error message of reading \p bytes as a .npy label or score matrix (empty when it reads).
std::string npy_error(const test::TempDir& dir, const std::string& bytes, bool labels = false) {
  const fs::path file = dir / "bad.npy";
  test::write_text(file, bytes);
  try {
    if (labels) {
      read_label_matrix(file);
    } else {
      read_score_matrix(file);
    }
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

// A hand-written v1.0 file: \p dict padded as numpy pads it, then \p data.
std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string text = dict;
  while ((10 + text.size() + 1) % 64 != 0) text += ' ';
  text += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(text.size() & 0xff);
  out += static_cast<char>(text.size() >> 8);
  return out + text + data;
}

std::string doubles(std::initializer_list<double> values) {
  std::string out;
  for (const double v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}

}  // namespace

TEST_CASE("npy: score, label and feature matrices round-trip exactly", "[npy]") {
  test::TempDir dir;
  ScoreMatrix scores(3, 4);
  scores << 0.1, -2.5e-300, 1e300, 0, std::numeric_limits<double>::quiet_NaN(), 1.0 / 3, -0.0, 7,
      std::numeric_limits<double>::infinity(), 5e-324, 2, 3;
  write_score_matrix(dir / "s.npy", scores);
  const ScoreMatrix s = read_score_matrix(dir / "s.npy");
  REQUIRE(s.rows() == 3);
  REQUIRE(s.cols() == 4);
  for (Eigen::Index i = 0; i < scores.size(); ++i) {
    CHECK(std::memcmp(&s.data()[i], &scores.data()[i], sizeof(double)) == 0);
  }

  LabelMatrix labels(2, 3);
  labels << 1, 0, 1, 0, 0, 7;  // 7 is written as True
  write_label_matrix(dir / "l.npy", labels);
  const LabelMatrix l = read_label_matrix(dir / "l.npy");
  CHECK(l(0, 0) == 1);
  CHECK(l(0, 1) == 0);
  CHECK(l(1, 2) == 1);
  CHECK(l.cast<int>().sum() == 3);

  FeatureMatrix features(2, 2);
  features << 1.5f, std::numeric_limits<float>::quiet_NaN(), -3.25f, 1e-40f;
  write_feature_matrix(dir / "f.npy", features);
  const FeatureMatrix f = read_feature_matrix(dir / "f.npy");
  CHECK(f(0, 0) == 1.5f);
  CHECK(std::isnan(f(0, 1)));
  CHECK(f(1, 0) == -3.25f);
  CHECK(f(1, 1) == 1e-40f);

  // A block of a bigger matrix (outer stride != cols) is written row by row.
  write_score_matrix(dir / "block.npy", scores.block(1, 1, 2, 2));
  const ScoreMatrix b = read_score_matrix(dir / "block.npy");
  CHECK(b(0, 1) == -0.0);
  CHECK(b(1, 1) == 2);

  write_score_matrix(dir / "empty.npy", ScoreMatrix(0, 56));
  CHECK(read_score_matrix(dir / "empty.npy").cols() == 56);
  CHECK(read_npy(dir / "empty.npy").header.shape == std::vector<std::size_t>{0, 56});
}

TEST_CASE("MappedNpyWriter: the bytes write_feature_matrix writes, atomically", "[npy]") {
  test::TempDir dir;
  const auto entries = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir.path())) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  };
  FeatureMatrix expected(2, 3);
  expected << 1.5f, std::numeric_limits<float>::quiet_NaN(), -3.25f, 1e-40f, 0.0f, 7.0f;
  write_feature_matrix(dir / "expected.npy", expected);
  {
    MappedNpyWriter out(dir / "mapped.npy");
    float* data = out.allocate(5, 3);  // room for more rows than are kept
    std::copy_n(expected.data(), 6, data);
    CHECK(out.shrink(2, 3) == data);  // the data stays in place
    CHECK(out.rows() == 2);
    CHECK(out.cols() == 3);
    CHECK(entries().size() == 2);  // expected.npy and the temporary file: nothing at the path
    out.commit();
  }
  CHECK(test::read_text(dir / "mapped.npy") == test::read_text(dir / "expected.npy"));
  CHECK(entries() == std::vector<std::string>{"expected.npy", "mapped.npy"});

  // A second allocation drops the first (a wider schema); shrinking keeps a prefix.
  {
    MappedNpyWriter out(dir / "again.npy");
    std::fill_n(out.allocate(4, 2), 8, 9.0f);
    float* data = out.allocate(3, 3);
    std::copy_n(expected.data(), 6, data);
    (void)out.shrink(2, 3);
    out.commit();
  }
  CHECK(test::read_text(dir / "again.npy") == test::read_text(dir / "expected.npy"));

  // Not committed (an error while loading): the temporary file is removed, nothing else changes.
  {
    MappedNpyWriter out(dir / "mapped.npy");
    std::fill_n(out.allocate(2, 3), 6, 1.0f);
    CHECK_THROWS_AS(out.commit(), InvalidArgument);      // the shape was never fixed by shrink()
    CHECK_THROWS_AS(out.shrink(3, 3), InvalidArgument);  // more than was allocated
  }
  CHECK(entries() == std::vector<std::string>{"again.npy", "expected.npy", "mapped.npy"});
  CHECK(test::read_text(dir / "mapped.npy") == test::read_text(dir / "expected.npy"));
  CHECK_THROWS_AS(MappedNpyWriter(dir / "expected.npy" / "x.npy"), IoError);
}

TEST_CASE("npy_header: numpy's layout, padded to 64 bytes with room for the first axis to grow",
          "[npy]") {
  const std::vector<std::size_t> shape{4231, 56};
  const std::string header = npy_header(NpyDtype::kBool, shape);
  CHECK(header.size() == 128);
  CHECK(header.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  CHECK(header[8] == 118);
  CHECK(header[9] == 0);
  CHECK(header.substr(10, 63) == "{'descr': '|b1', 'fortran_order': False, 'shape': (4231, 56), }");
  CHECK(header.find_first_not_of(' ', 73) == 127);
  CHECK(header.back() == '\n');

  const std::vector<std::size_t> vec{5};
  CHECK(npy_header(NpyDtype::kFloat64, vec).find("'shape': (5,), }") != std::string::npos);
  CHECK(npy_header(NpyDtype::kFloat64, {}).find("'shape': (), }") != std::string::npos);
  const std::string v2 = npy_header(NpyDtype::kFloat32, shape, 2);
  CHECK(v2[6] == 2);
  CHECK(v2.size() % 64 == 0);

  // A header too long for 1.0's 16-bit length moves to 2.0 by itself.
  const std::vector<std::size_t> huge_rank(30000, 1);
  const std::string auto_v2 = npy_header(NpyDtype::kFloat64, huge_rank);
  CHECK(auto_v2[6] == 2);
  CHECK(auto_v2.size() % 64 == 0);
  CHECK_THROWS_AS(npy_header(NpyDtype::kFloat64, huge_rank, 1), InvalidArgument);
  CHECK_THROWS_AS(npy_header(NpyDtype::kFloat64, shape, 3), InvalidArgument);
}

TEST_CASE("npy: version 2.0 and 3.0 headers are read", "[npy]") {
  test::TempDir dir;
  const std::vector<std::size_t> shape{2, 1};
  const std::string data = doubles({1.5, -2});
  for (const char version : {char{2}, char{3}}) {
    std::string bytes = npy_header(NpyDtype::kFloat64, shape, 2) + data;
    bytes[6] = version;
    test::write_text(dir / "v.npy", bytes);
    const NpyArray a = read_npy(dir / "v.npy");
    CHECK(a.header.major_version == version);
    CHECK(a.header.data_offset == 128);
    const ScoreMatrix m = read_score_matrix(dir / "v.npy");
    CHECK(m(0, 0) == 1.5);
    CHECK(m(1, 0) == -2);
  }
}

TEST_CASE("npy: integer and uint8 files read as scores and as 0/1 labels", "[npy]") {
  test::TempDir dir;
  const std::vector<std::size_t> shape{2, 2};
  const std::int64_t i8[] = {0, 1, 1, 0};
  write_npy(dir / "i8.npy", NpyDtype::kInt64, shape,
            {reinterpret_cast<const std::uint8_t*>(i8), sizeof i8});
  CHECK(read_label_matrix(dir / "i8.npy")(0, 1) == 1);
  CHECK(read_score_matrix(dir / "i8.npy")(1, 0) == 1.0);
  const std::int32_t i4[] = {0, 1, 2, -7};
  write_npy(dir / "i4.npy", NpyDtype::kInt32, shape,
            {reinterpret_cast<const std::uint8_t*>(i4), sizeof i4});
  CHECK(read_score_matrix(dir / "i4.npy")(1, 1) == -7.0);
  CHECK_THROWS_WITH(
      read_label_matrix(dir / "i4.npy"),
      (dir / "i4.npy").string() + ": element (1, 0): expected 0 or 1 in a label matrix, found 2");
  const std::uint8_t u1[] = {1, 0, 0, 1};
  write_npy(dir / "u1.npy", NpyDtype::kUInt8, shape, u1);
  CHECK(read_label_matrix(dir / "u1.npy")(1, 1) == 1);
  CHECK(read_feature_matrix(dir / "u1.npy")(0, 0) == 1.0f);
  CHECK_THROWS_AS(write_npy(dir / "x.npy", NpyDtype::kInt32, shape, u1), InvalidArgument);
}

TEST_CASE("npy: bad input gives a ParseError naming the file and the place", "[npy]") {
  test::TempDir dir;
  const std::string file = (dir / "bad.npy").string();
  const std::string good_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }";
  const std::string data = doubles({1, 2});
  REQUIRE(npy_error(dir, npy_bytes(good_dict, data)).empty());

  CHECK(npy_error(dir, "PK\x03\x04 not numpy") ==
        file + ": byte 0: not a NumPy .npy file (expected the magic \\x93NUMPY)");
  CHECK(npy_error(dir, "") ==
        file + ": byte 0: not a NumPy .npy file (expected the magic \\x93NUMPY)");
  CHECK(npy_error(dir, "\x93NUMPY\x01") == file + ": byte 6: file ends inside the .npy preamble");
  std::string v4 = npy_bytes(good_dict, data);
  v4[6] = 4;
  CHECK(npy_error(dir, v4) ==
        file + ": byte 6: unsupported .npy format version 4.0 (expected 1.0, 2.0 or 3.0)");
  const std::string whole = npy_bytes(good_dict, data);
  CHECK(npy_error(dir, whole.substr(0, 40)) ==
        file + ": byte 8: header length 118 runs past the end of the file (40 bytes)");
  CHECK(
      npy_error(dir, whole.substr(0, whole.size() - 3)) ==
      file +
          ": byte 128: expected 16 data bytes for shape (1, 2) of <f8, found 13 (truncated file)");
  CHECK(npy_error(dir, whole + "xx") ==
        file + ": byte 128: expected 16 data bytes for shape (1, 2) of <f8, found 18");

  CHECK(npy_error(dir,
                  npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (1, 2), }", data)) ==
        file +
            ": header 'fortran_order': Fortran-order arrays are not supported (save a C-order "
            "array, e.g. numpy.ascontiguousarray)");
  for (const std::string descr : {">f8", "<c16", "|i1", "<U3", "|O"}) {
    CAPTURE(descr);
    CHECK_THAT(npy_error(dir, npy_bytes("{'descr': '" + descr +
                                            "', 'fortran_order': False, 'shape': (1, 2), }",
                                        data)),
               Catch::StartsWith(file + ": header 'descr': unsupported dtype '" + descr + "'"));
  }
  CHECK_THAT(npy_error(dir, npy_bytes("{'descr': [('a', '<f8')], 'fortran_order': False, "
                                      "'shape': (1,), }",
                                      data)),
             Catch::StartsWith(file + ": header 'descr': structured or non-string dtypes"));
  CHECK(npy_error(dir, npy_bytes("{'descr': '<f8', 'shape': (1, 2), }", data)) ==
        file + ": header 'fortran_order': missing from the header");
  CHECK(npy_error(dir, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), "
                                 "'extra': 1}",
                                 data)) ==
        file + ": header byte 68: unexpected key 'extra' (expected descr, fortran_order, shape)");
  CHECK(npy_error(
            dir, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, -2), }", data)) ==
        file + ": header byte 64: expected a dimension (a non-negative integer)");
  CHECK(npy_error(dir, npy_bytes("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1, 2), }",
                                 data)) == file + ": header byte 44: expected True or False");
  CHECK(npy_error(dir, npy_bytes("{'descr': '<f8, 'fortran_order': False}", data)) ==
        file + ": header byte 27: expected ',' or '}'");
  CHECK(npy_error(dir, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), } x",
                                 data)) ==
        file + ": header byte 70: unexpected text after the header dictionary");
  CHECK(npy_error(dir, npy_bytes("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, "
                                 "'shape': (1, 2)}",
                                 data)) == file + ": header 'descr': key appears twice");
  // Whitespace, double quotes and no trailing comma are still a valid Python dict.
  CHECK(npy_error(
            dir,
            npy_bytes("{ \"shape\" : ( 1 , 2 ) , \"descr\":\"<f8\",'fortran_order':False}", data))
            .empty());

  CHECK(npy_error(dir,
                  npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data)) ==
        file + ": header 'shape': expected a 2-D score matrix, found shape (2,)");
  CHECK(npy_error(dir, npy_bytes(good_dict, data), true) ==
        file + ": header 'descr': a label matrix must be bool or integer 0/1, found <f8");
  CHECK_THAT(npy_error(dir, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': "
                                      "(99999999999, 99999999999, 99999999999), }",
                                      data)),
             Catch::Contains(
                 "header 'shape': shape (99999999999, 99999999999, 99999999999) is too large"));
  REQUIRE_THROWS_AS(read_npy(dir / "missing.npy"), IoError);
}

TEST_CASE("npy: files numpy writes load here, and files written here load in numpy",
          "[npy][python]") {
  const fs::path python = test::python_with({"numpy"});
  if (python.empty()) return;
  test::TempDir dir;
  // numpy writes one file per dtype, plus a 3-D array, a format 2.0 and a format 3.0 file.
  const std::string make = R"(
import sys, numpy as np
from numpy.lib import format as fmt
d = sys.argv[1]
base = np.array([[0, 1, 1], [1, 0, 1]])
for name, dt in [('b1', bool), ('u1', np.uint8), ('i4', np.int32), ('i8', np.int64),
                 ('f4', np.float32), ('f8', np.float64)]:
    np.save(f'{d}/np_{name}.npy', base.astype(dt))
np.save(f'{d}/np_3d.npy', np.arange(24, dtype=np.int32).reshape(2, 3, 4))
for v in (2, 3):
    with open(f'{d}/np_v{v}.npy', 'wb') as f:
        fmt.write_array(f, np.array([[0.25, -1.0]]), version=(v, 0))
np.save(f'{d}/ref_f8.npy', np.array([[0.1, 0.2, 0.3], [4.0, 5e-300, -0.0]]))
np.save(f'{d}/ref_b1.npy', np.array([[True, False, True], [False, False, True]]))
np.save(f'{d}/ref_f4.npy', np.array([[1.5, -2.0]], dtype=np.float32))
np.save(f'{d}/ref_long.npy', np.zeros((123456789, 0)))
)";
  const auto made = test::run_program(python, {"-c", make, dir.path().string()});
  REQUIRE(made.exit_code == 0);
  for (const std::string name : {"b1", "u1", "i4", "i8", "f4", "f8"}) {
    CAPTURE(name);
    const ScoreMatrix s = read_score_matrix(dir / ("np_" + name + ".npy"));
    REQUIRE(s.rows() == 2);
    REQUIRE(s.cols() == 3);
    CHECK(s(0, 0) == 0.0);
    CHECK(s(0, 1) == 1.0);
    CHECK(s(1, 0) == 1.0);
    if (name != "f4" && name != "f8")
      CHECK(read_label_matrix(dir / ("np_" + name + ".npy"))(1, 2) == 1);
  }
  const NpyArray cube = read_npy(dir / "np_3d.npy");
  CHECK(cube.header.shape == std::vector<std::size_t>{2, 3, 4});
  CHECK(cube.header.dtype == NpyDtype::kInt32);
  std::int32_t last = 0;
  std::memcpy(&last, cube.bytes.data() + 23 * 4, 4);
  CHECK(last == 23);
  for (const int v : {2, 3}) {
    const fs::path file = dir / ("np_v" + std::to_string(v) + ".npy");
    CHECK(read_npy(file).header.major_version == v);
    CHECK(read_score_matrix(file)(0, 0) == 0.25);
  }
  // Our header for version 2.0 is numpy's, byte for byte.
  const std::vector<std::size_t> one_by_two{1, 2};
  CHECK(test::read_text(dir / "np_v2.npy").substr(0, 128) ==
        npy_header(NpyDtype::kFloat64, one_by_two, 2));

  // Our files are byte-identical to numpy.save's for the same arrays.
  ScoreMatrix f8(2, 3);
  f8 << 0.1, 0.2, 0.3, 4.0, 5e-300, -0.0;
  write_score_matrix(dir / "our_f8.npy", f8);
  CHECK(test::read_text(dir / "our_f8.npy") == test::read_text(dir / "ref_f8.npy"));
  LabelMatrix b1(2, 3);
  b1 << 1, 0, 1, 0, 0, 1;
  write_label_matrix(dir / "our_b1.npy", b1);
  CHECK(test::read_text(dir / "our_b1.npy") == test::read_text(dir / "ref_b1.npy"));
  FeatureMatrix f4(1, 2);
  f4 << 1.5f, -2.0f;
  write_feature_matrix(dir / "our_f4.npy", f4);
  CHECK(test::read_text(dir / "our_f4.npy") == test::read_text(dir / "ref_f4.npy"));
  write_score_matrix(dir / "our_long.npy", ScoreMatrix(123456789, 0));
  CHECK(test::read_text(dir / "our_long.npy") == test::read_text(dir / "ref_long.npy"));

  // And numpy.load reads them with the right dtype, shape and values.
  const std::string check = R"(
import sys, numpy as np
d = sys.argv[1]
f8 = np.load(f'{d}/our_f8.npy'); b1 = np.load(f'{d}/our_b1.npy'); f4 = np.load(f'{d}/our_f4.npy')
assert f8.dtype == np.float64 and f8.shape == (2, 3) and f8[1, 1] == 5e-300, f8
assert b1.dtype == np.bool_ and b1.tolist() == [[True, False, True], [False, False, True]], b1
assert f4.dtype == np.float32 and f4.tolist() == [[1.5, -2.0]], f4
print('loaded')
)";
  const auto loaded = test::run_program(python, {"-c", check, dir.path().string()});
  CHECK(loaded.err == "");
  CHECK(loaded.out == "loaded\n");
}

TEST_CASE("npy: the official groundtruth.npy is the test split's label matrix, byte for byte",
          "[npy][shared]") {
  const fs::path jamendo = test::jamendo_dir();
  if (!test::require_shared(jamendo)) return;
  const LabelMatrix groundtruth = read_label_matrix(jamendo / "mediaeval" / "groundtruth.npy");
  REQUIRE(groundtruth.rows() == 4231);
  REQUIRE(groundtruth.cols() == 56);
  CHECK(groundtruth.cast<int>().sum() == 7564);
  const Split test_split =
      read_split(jamendo / "splits" / "split-0" / "autotagging_moodtheme-test.tsv");
  const LabelMatrix labels =
      label_matrix(test_split, read_tag_list(jamendo / "tags" / "moodtheme_split.txt"),
                   UnknownTagPolicy::kError);
  CHECK(labels == groundtruth);

  test::TempDir dir;
  write_label_matrix(dir / "groundtruth.npy", labels);
  CHECK(test::read_text(dir / "groundtruth.npy") ==
        test::read_text(jamendo / "mediaeval" / "groundtruth.npy"));

  const LabelMatrix popular =
      read_label_matrix(jamendo / "mediaeval" / "baseline_popular_decisions.npy");
  CHECK(popular.col(26).cast<int>().sum() == 4231);
  CHECK(popular.cast<int>().sum() == 4231);
}
