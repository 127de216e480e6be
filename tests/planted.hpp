// Small generated data for the training tests: Gaussian features and tags planted on a few of
// them, so that a booster must learn them (and a shuffled one could not).
#pragma once

#include <cstdint>
#include <limits>
#include <random>

#include "moodboost/types.hpp"

namespace moodboost::test {

/// Features and labels of one split.
struct PlantedSplit {
  FeatureMatrix x;
  LabelMatrix y;
};

/// \p rows rows, \p cols Gaussian columns (every 7th value of the first noise column missing), \p
/// tags tags: tag t is positive when x[t] + 0.7 x[t + tags] + noise > 1.3 (about 15% positives).
/// The same seed always gives the same data.
inline PlantedSplit planted_split(int rows, int cols, int tags, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  PlantedSplit split{FeatureMatrix(rows, cols), LabelMatrix(rows, tags)};
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) split.x(r, c) = normal(rng);
    for (int t = 0; t < tags; ++t) {
      const float signal = split.x(r, t) + 0.7f * split.x(r, t + tags) + 0.6f * normal(rng);
      split.y(r, t) = signal > 1.3f ? 1 : 0;
    }
    if (cols > 2 * tags && r % 7 == 0) {
      split.x(r, 2 * tags) = std::numeric_limits<float>::quiet_NaN();
    }
  }
  return split;
}

}  // namespace moodboost::test

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace moodboost::test {

/// A tiny dataset on disk in the MTG-Jamendo + AcousticBrainz layout: DIR/features/NN/<n>.json
/// (lowlevel/rhythm/tonal sections holding the planted_split() features), DIR/splits/
/// tiny-{train,validation,test}.tsv and DIR/tags.txt. Tag t is "mood/theme---tagT"; a track
/// with no planted tag gets "mood/theme---other" (every split row needs a tag).
struct PlantedDataset {
  std::filesystem::path features;
  std::filesystem::path splits;
  std::filesystem::path tags;
  std::vector<std::string> tag_names;
};

inline PlantedDataset write_planted_dataset(const std::filesystem::path& dir, int train_rows,
                                            int validation_rows, int test_rows, int cols, int tags,
                                            std::uint32_t seed) {
  PlantedDataset out{dir / "features", dir / "splits", dir / "tags.txt", {}};
  for (int t = 0; t < tags; ++t) out.tag_names.push_back("mood/theme---tag" + std::to_string(t));
  out.tag_names.push_back("mood/theme---other");
  std::filesystem::create_directories(out.splits);
  {
    std::ofstream tag_file(out.tags);
    for (const auto& name : out.tag_names) tag_file << name << "\n";
  }
  int next_id = 1;
  const std::pair<const char*, int> parts[] = {
      {"train", train_rows}, {"validation", validation_rows}, {"test", test_rows}};
  std::uint32_t part_seed = seed;
  for (const auto& [name, rows] : parts) {
    const PlantedSplit split = planted_split(rows, cols, tags, part_seed++);
    std::ofstream tsv(out.splits / (std::string("tiny-") + name + ".tsv"));
    tsv << "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\n";
    for (int r = 0; r < rows; ++r, ++next_id) {
      const std::string folder = (next_id % 100 < 10 ? "0" : "") + std::to_string(next_id % 100);
      const std::string rel = folder + "/" + std::to_string(next_id);
      tsv << "track_" << next_id << "\tartist_" << next_id << "\talbum_" << next_id << "\t" << rel
          << ".mp3\t200.0";
      bool any = false;
      for (int t = 0; t < tags; ++t) {
        if (split.y(r, t) != 0) {
          tsv << "\t" << out.tag_names[static_cast<std::size_t>(t)];
          any = true;
        }
      }
      if (!any) tsv << "\t" << out.tag_names.back();
      tsv << "\n";
      std::filesystem::create_directories(out.features / folder);
      std::ofstream json(out.features / (rel + ".json"));
      json.precision(9);
      json << "{\"lowlevel\": {\"planted\": {\"mean\": [";
      for (int c = 0; c < cols; ++c) {
        const float v = split.x(r, c);
        json << (c ? ", " : "");
        if (v != v) {
          json << "NaN";
        } else {
          json << v;
        }
      }
      json << "]}}, \"rhythm\": {\"bpm\": 120}, \"tonal\": {\"tuning_frequency\": 440},"
              " \"metadata\": {\"version\": {\"essentia\": \"test\"}}}\n";
    }
  }
  return out;
}

/// `moodboost train` arguments for \p data into \p out with small, fast settings (trees only,
/// early stopping on the validation split, no search, 30 rounds, depth 3, 32 bins, eta 0.3, 2
/// threads); tests edit or append to them.
inline std::vector<std::string> planted_train_args(const PlantedDataset& data,
                                                   const std::filesystem::path& out) {
  return {"train",
          "--features",
          data.features.string(),
          "--splits",
          data.splits.string(),
          "--tags",
          data.tags.string(),
          "--out",
          out.string(),
          "--rounds",
          "30",
          "--param",
          "max_depth=3",
          "--param",
          "max_bin=32",
          "--param",
          "eta=0.3",
          "--threads",
          "2",
          "--cv",
          "0",
          "--family",
          "tree"};
}

}  // namespace moodboost::test
