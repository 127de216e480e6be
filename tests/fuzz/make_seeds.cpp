// fuzz_make_seeds OUT_DIR: writes the seed corpus of each harness, with the project's own
// fixtures and writers (nothing from ../shared):
//   OUT_DIR/fuzz_features/  tests/data/good/lowlevel.json and variants of it (compact, CRLF, bare
//                           nan/inf, Python's NaN/Infinity, a music-2.0-style key dict), and the
//                           feature files of a tiny planted dataset (tests/planted.hpp)
//   OUT_DIR/fuzz_split/     the planted dataset's split files (LF and CRLF) and tag list
//   OUT_DIR/fuzz_npy/       arrays written by write_npy / write_*_matrix in every dtype, ranks 0-3,
//                           an empty matrix, and format 2.0 and 3.0 headers
// scripts/fuzz.sh also passes tests/data/bad/{json,tsv,npy} as read-only seed directories.
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "moodboost/npy.hpp"
#include "planted.hpp"

using namespace moodboost;
namespace fs = std::filesystem;

namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

void feature_seeds(const fs::path& out, const fs::path& planted_features) {
  const std::string doc = fuzz::read_bytes(MOODBOOST_FUZZ_FIXTURE);
  std::string compact;
  for (const char c : doc) {
    if (c != '\n' && c != ' ') compact += c;  // the fixture's strings hold no spaces that matter
  }
  fuzz::write_bytes(out / "fixture.json", doc);
  fuzz::write_bytes(out / "compact.json", compact);
  fuzz::write_bytes(out / "crlf.json", replace_all(doc, "\n", "\r\n"));
  fuzz::write_bytes(out / "bare_nan.json",
                    replace_all(replace_all(compact, "0.8125", "nan"), "120.5", "-inf"));
  fuzz::write_bytes(out / "python_nan.json",
                    replace_all(replace_all(compact, "0.8125", "NaN"), "120.5", "-Infinity"));
  fuzz::write_bytes(
      out / "music2_keys.json",
      replace_all(compact, R"("key_key":"A#","key_scale":"major",)",
                  R"("key_edma":{"key":"Ab","scale":"minor","strength":0.5},"loudness_ebu128":)"
                  R"({"integrated":-9.5,"momentary":{"mean":-10,"stdev":2}},)"));
  fuzz::write_bytes(out / "nulls.json", replace_all(compact, "0.5", "null"));
  int n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(planted_features)) {
    if (entry.is_regular_file() && n++ < 3) {
      fs::copy_file(entry.path(), out / ("planted_" + std::to_string(n) + ".json"),
                    fs::copy_options::overwrite_existing);
    }
  }
}

void split_seeds(const fs::path& out, const test::PlantedDataset& planted) {
  for (const auto& entry : fs::directory_iterator(planted.splits)) {
    const std::string text = fuzz::read_bytes(entry.path());
    const std::string name = entry.path().stem().string();
    fuzz::write_bytes(out / (name + ".tsv"), text);
    fuzz::write_bytes(out / (name + "_crlf.tsv"), replace_all(text, "\n", "\r\n"));
  }
  fuzz::write_bytes(out / "tags.txt", fuzz::read_bytes(planted.tags));
}

void npy_seeds(const fs::path& out) {
  const std::array<NpyDtype, 6> dtypes = {NpyDtype::kBool,  NpyDtype::kUInt8,   NpyDtype::kInt32,
                                          NpyDtype::kInt64, NpyDtype::kFloat32, NpyDtype::kFloat64};
  const std::vector<std::vector<std::size_t>> shapes = {{}, {3}, {2, 3}, {0, 4}, {2, 1, 2}};
  for (const NpyDtype dtype : dtypes) {
    for (const auto& shape : shapes) {
      std::size_t count = 1;
      for (const std::size_t d : shape) count *= d;
      std::vector<std::uint8_t> data(count * npy_itemsize(dtype));
      for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = dtype == NpyDtype::kBool || dtype == NpyDtype::kUInt8
                      ? static_cast<std::uint8_t>(i % 2)
                      : static_cast<std::uint8_t>(i * 37 + 11);
      }
      std::string name = std::string(npy_descr(dtype)).substr(1) + "_rank" +
                         std::to_string(shape.size()) + (count == 0 ? "_empty" : "") + ".npy";
      write_npy(out / name, dtype, shape, data);
    }
  }
  ScoreMatrix scores(3, 2);
  scores << 0.25, 0.5, 1e-300, -0.0, 0.75, 1.0;
  write_score_matrix(out / "scores.npy", scores);
  LabelMatrix labels(2, 3);
  labels << 1, 0, 1, 0, 0, 1;
  write_label_matrix(out / "labels.npy", labels);
  FeatureMatrix features(2, 2);
  features << 1.5f, -2.0f, std::numeric_limits<float>::quiet_NaN(), 3.0f;
  write_feature_matrix(out / "features.npy", features);
  // Format 2.0 (forced) and 3.0 (2.0 with the version byte changed) headers.
  const std::array<std::size_t, 2> shape{1, 2};
  std::string v2 = npy_header(NpyDtype::kFloat64, shape, 2);
  v2.append(16, '\x01');
  fuzz::write_bytes(out / "v2.npy", v2);
  v2[6] = '\x03';
  fuzz::write_bytes(out / "v3.npy", v2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds OUT_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  const fs::path scratch = out / ".planted";
  fs::remove_all(scratch);
  const auto planted = test::write_planted_dataset(scratch, 4, 3, 3, 6, 2, 7);
  for (const char* harness : {"fuzz_features", "fuzz_split", "fuzz_npy"}) {
    fs::create_directories(out / harness);
  }
  feature_seeds(out / "fuzz_features", planted.features);
  split_seeds(out / "fuzz_split", planted);
  npy_seeds(out / "fuzz_npy");
  fs::remove_all(scratch);
  return 0;
}
