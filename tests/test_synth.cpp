// moodboost synth: the facts tables, generated split sets, synthetic feature files (shape,
// determinism, planted signal), the marker file and the command. Small scales only (a few
// hundred tracks); the full-scale set is a benchmark input, never a test input.
#include <rapidjson/document.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/synth.hpp"
#include "support.hpp"

using namespace moodboost;
namespace fs = std::filesystem;
using moodboost::test::TempDir;

namespace {

constexpr std::size_t kSmall = 300;

std::vector<std::vector<std::string>> read_tsv_rows(const fs::path& file) {
  std::istringstream in(test::read_text(file));
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::istringstream fs_line(line);
    for (std::string f; std::getline(fs_line, f, '\t');) fields.push_back(f);
    rows.push_back(fields);
  }
  return rows;
}

std::vector<Track> all_tracks(const SynthSplitSet& set) {
  std::vector<Track> out;
  for (const auto& split : set.splits) out.insert(out.end(), split.begin(), split.end());
  return out;
}

// The expected positives of a tag in a scaled split: the real count times the split's scale,
// rounded, at least min_positives (synth.hpp).
std::size_t scaled_positives(std::size_t real, std::size_t split_tracks, std::size_t real_tracks) {
  const double exact = static_cast<double>(real) * static_cast<double>(split_tracks) /
                       static_cast<double>(real_tracks);
  return std::max<std::size_t>(3, static_cast<std::size_t>(std::llround(exact)));
}

// The shape of a JSON value, path by path: "object", "array N", "string" or "number" (bools
// count as numbers: Essentia writes 0/1 where the AcousticBrainz API writes true/false).
void shapes(const rapidjson::Value& v, const std::string& path,
            std::map<std::string, std::string>& out) {
  if (v.IsObject()) {
    out[path] = "object";
    if (path == "/metadata/tags") return;  // free-form in real files
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      shapes(it->value, path + "/" + it->name.GetString(), out);
    }
  } else if (v.IsArray()) {
    // beats_position has a track-dependent length (checked against beats_count separately)
    out[path] = path == "/rhythm/beats_position" ? "array" : "array " + std::to_string(v.Size());
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      if (v[i].IsArray()) shapes(v[i], path + "/" + std::to_string(i), out);
    }
  } else if (v.IsString()) {
    out[path] = "string";
  } else {
    out[path] = "number";
  }
}

rapidjson::Document parse_json(const fs::path& file) {
  const std::string text = test::read_text(file);
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  INFO(file.string());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

// Numbers in lowlevel/rhythm/tonal, except beats_position; strings counted apart.
void count_leaves(const rapidjson::Value& v, std::size_t& numbers, std::size_t& strings) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      if (std::string(it->name.GetString()) == "beats_position") continue;
      count_leaves(it->value, numbers, strings);
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) count_leaves(e, numbers, strings);
  } else if (v.IsString()) {
    ++strings;
  } else {
    ++numbers;
  }
}

std::map<fs::path, std::string> read_tree(const fs::path& dir) {
  std::map<fs::path, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), dir)] = test::read_text(e.path());
  }
  return files;
}

double mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Welch's t statistic of mean(a) - mean(b).
double welch_t(const std::vector<double>& a, const std::vector<double>& b) {
  const auto var = [](const std::vector<double>& v, double m) {
    double s = 0.0;
    for (const double x : v) s += (x - m) * (x - m);
    return s / static_cast<double>(v.size() - 1);
  };
  const double ma = mean(a), mb = mean(b);
  return (ma - mb) / std::sqrt(var(a, ma) / static_cast<double>(a.size()) +
                               var(b, mb) / static_cast<double>(b.size()));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Facts

TEST_CASE("jamendo facts: the compiled-in tables are the data/ files", "[synth]") {
  const auto tag_rows =
      read_tsv_rows(test::source_dir() / "data" / "jamendo_moodtheme_split0_tags.tsv");
  const auto tags = jamendo_split0_tags();
  REQUIRE(tag_rows.size() == tags.size() + 1);
  CHECK(tag_rows[0] == std::vector<std::string>{"tag", "train", "validation", "test"});
  REQUIRE(tags.size() == 56);
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const auto& row = tag_rows[i + 1];
    REQUIRE(row.size() == 4);
    CHECK(row[0] == tags[i].name);
    for (std::size_t s = 0; s < 3; ++s) CHECK(std::stoul(row[s + 1]) == tags[i].positives[s]);
  }
  CHECK(std::is_sorted(tags.begin(), tags.end(),
                       [](const auto& a, const auto& b) { return a.name < b.name; }));

  const auto split_rows =
      read_tsv_rows(test::source_dir() / "data" / "jamendo_moodtheme_split0_splits.tsv");
  const auto splits = jamendo_split0_splits();
  REQUIRE(split_rows.size() == 4);
  std::size_t total = 0;
  for (std::size_t s = 0; s < 3; ++s) {
    const auto& row = split_rows[s + 1];
    REQUIRE(row.size() == 16);
    CHECK(row[0] == splits[s].split);
    CHECK(std::stoul(row[1]) == splits[s].tracks);
    CHECK(std::stoul(row[2]) == splits[s].artists);
    CHECK(std::stoul(row[3]) == splits[s].albums);
    CHECK(std::stoul(row[4]) == splits[s].labels);
    std::size_t tracks = 0, labels = 0, positives = 0;
    for (std::size_t k = 0; k < 8; ++k) {
      CHECK(std::stoul(row[5 + k]) == splits[s].tracks_with_k_tags[k]);
      tracks += splits[s].tracks_with_k_tags[k];
      labels += (k + 1) * splits[s].tracks_with_k_tags[k];
    }
    for (const auto& t : tags) positives += t.positives[s];
    // The tables agree with themselves: tracks, labels and per-tag positives add up.
    CHECK(tracks == splits[s].tracks);
    CHECK(labels == splits[s].labels);
    CHECK(positives == splits[s].labels);
    total += splits[s].tracks;
  }
  CHECK(total == kJamendoSplit0Tracks);
}

TEST_CASE("jamendo facts: recounted from the real split-0 files", "[synth][shared]") {
  const fs::path dir = test::jamendo_dir() / "splits" / "split-0";
  if (!test::require_shared(dir)) return;
  const auto tags = jamendo_split0_tags();
  const auto facts = jamendo_split0_splits();
  for (std::size_t s = 0; s < 3; ++s) {
    const Split split =
        read_split(dir / ("autotagging_moodtheme-" + std::string(kSynthSplitNames[s]) + ".tsv"));
    std::map<std::string, std::size_t> positives;
    std::array<std::size_t, 8> k{};
    std::set<std::string> artists, albums;
    for (const auto& t : split.tracks) {
      for (const auto& tag : t.tags) ++positives[tag];
      ++k.at(t.tags.size() - 1);
      artists.insert(t.artist_id);
      albums.insert(t.album_id);
    }
    INFO(kSynthSplitNames[s]);
    CHECK(split.tracks.size() == facts[s].tracks);
    CHECK(artists.size() == facts[s].artists);
    CHECK(albums.size() == facts[s].albums);
    CHECK(split.label_count() == facts[s].labels);
    CHECK(k == facts[s].tracks_with_k_tags);
    REQUIRE(positives.size() == tags.size());
    for (const auto& t : tags) {
      CHECK(positives[std::string(kMoodThemePrefix) + std::string(t.name)] == t.positives[s]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Split sets

TEST_CASE("synth splits: small-scale files parse and are shaped like the real ones", "[synth]") {
  TempDir tmp;
  SynthSplitOptions options;
  options.tracks = kSmall;
  const SynthSplitSet set = generate_synthetic_splits(options);
  REQUIRE(set.tags.size() == 56);
  CHECK(std::is_sorted(set.tags.begin(), set.tags.end()));
  CHECK(set.tags.front() == "mood/theme---action");

  const auto facts = jamendo_split0_splits();
  std::size_t total = 0;
  std::set<std::string> ids;
  std::array<std::set<std::string>, 3> artists;
  for (std::size_t s = 0; s < 3; ++s) {
    INFO(kSynthSplitNames[s]);
    const fs::path file = tmp / ("synthetic-" + std::string(kSynthSplitNames[s]) + ".tsv");
    test::write_text(file, format_split_tsv(set.splits[s]));
    const std::string text = test::read_text(file);
    // Real header, CRLF on every line, final CRLF.
    CHECK(text.starts_with("TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\r\n"));
    CHECK(text.ends_with("\r\n"));
    CHECK(std::count(text.begin(), text.end(), '\n') == std::count(text.begin(), text.end(), '\r'));

    const Split split = read_split(file);
    REQUIRE(split.tracks.size() == set.splits[s].size());
    // Split sizes are proportional to the real ones.
    const double expected = static_cast<double>(kSmall) * static_cast<double>(facts[s].tracks) /
                            static_cast<double>(kJamendoSplit0Tracks);
    CHECK(std::abs(static_cast<double>(split.tracks.size()) - expected) <= 1.0);
    total += split.tracks.size();

    std::map<std::string, std::size_t> positives;
    long previous_id = -1;
    for (const auto& t : split.tracks) {
      REQUIRE(t.track_id.size() == 13);
      CHECK(t.track_id.starts_with("track_9"));
      const long id = std::stol(t.track_id.substr(6));
      CHECK(id > previous_id);  // rows sorted by numeric id
      previous_id = id;
      CHECK(ids.insert(t.track_id).second);  // unique across splits
      CHECK(t.artist_id.size() == 13);
      CHECK(t.artist_id.starts_with("artist_9"));
      CHECK(t.album_id.size() == 12);
      CHECK(t.album_id.starts_with("album_9"));
      const long nn = id % 100;
      CHECK(t.path ==
            (nn < 10 ? "0" : "") + std::to_string(nn) + "/" + std::to_string(id) + ".mp3");
      CHECK(t.duration_s >= 30.0);
      CHECK(t.duration_s <= 1800.0);
      CHECK(std::abs(t.duration_s * 10 - std::round(t.duration_s * 10)) < 1e-6);
      CHECK(t.tags.size() >= 1);
      CHECK(t.tags.size() <= 8);
      CHECK(std::is_sorted(t.tags.begin(), t.tags.end()));
      for (const auto& tag : t.tags) ++positives[tag];
      artists[s].insert(t.artist_id);
    }
    for (const auto& tag : jamendo_split0_tags()) {
      INFO(tag.name);
      CHECK(positives[std::string(kMoodThemePrefix) + std::string(tag.name)] ==
            scaled_positives(tag.positives[s], split.tracks.size(), facts[s].tracks));
    }
  }
  CHECK(total == kSmall);
  // No artist in two splits.
  for (std::size_t a = 0; a < 3; ++a) {
    for (std::size_t b = a + 1; b < 3; ++b) {
      std::vector<std::string> both;
      std::set_intersection(artists[a].begin(), artists[a].end(), artists[b].begin(),
                            artists[b].end(), std::back_inserter(both));
      CHECK(both.empty());
    }
  }
  const std::string tag_list = format_tag_list(set.tags);
  CHECK(tag_list.starts_with("mood/theme---action\nmood/theme---adventure\n"));
  CHECK(tag_list.ends_with("mood/theme---uplifting\n"));
  CHECK(std::count(tag_list.begin(), tag_list.end(), '\n') == 56);
  CHECK(tag_list.find('\r') == std::string::npos);
}

TEST_CASE("synth splits: at the real scale the split sizes and per-tag counts are the real ones",
          "[synth]") {
  // Split rows only, in memory (milliseconds); no feature file is written at this scale.
  const SynthSplitSet set = generate_synthetic_splits({});
  const auto facts = jamendo_split0_splits();
  for (std::size_t s = 0; s < 3; ++s) {
    INFO(kSynthSplitNames[s]);
    REQUIRE(set.splits[s].size() == facts[s].tracks);
    std::map<std::string, std::size_t> positives;
    std::array<std::size_t, 8> k{};
    std::set<std::string> artists, albums;
    for (const auto& t : set.splits[s]) {
      for (const auto& tag : t.tags) ++positives[tag];
      ++k.at(t.tags.size() - 1);
      artists.insert(t.artist_id);
      albums.insert(t.album_id);
    }
    for (const auto& tag : jamendo_split0_tags()) {
      CHECK(positives[std::string(kMoodThemePrefix) + std::string(tag.name)] == tag.positives[s]);
    }
    CHECK(k == facts[s].tracks_with_k_tags);  // the real distribution of tags per track
    CHECK(artists.size() == facts[s].artists);
    CHECK(albums.size() == facts[s].albums);
  }
}

TEST_CASE("synth splits: deterministic in the seed", "[synth]") {
  SynthSplitOptions a;
  a.tracks = kSmall;
  SynthSplitOptions b = a;
  b.seed = a.seed + 1;
  const auto first = generate_synthetic_splits(a), again = generate_synthetic_splits(a);
  const auto other = generate_synthetic_splits(b);
  for (std::size_t s = 0; s < 3; ++s) {
    CHECK(format_split_tsv(first.splits[s]) == format_split_tsv(again.splits[s]));
    CHECK(format_split_tsv(first.splits[s]) != format_split_tsv(other.splits[s]));
  }
}

TEST_CASE("synth splits: too few tracks or more than the real set are refused", "[synth]") {
  SynthSplitOptions options;
  const std::size_t minimum = min_synthetic_tracks(options);
  CHECK(minimum > 50);
  CHECK(minimum < kSmall);
  options.tracks = minimum;
  CHECK_NOTHROW(generate_synthetic_splits(options));
  options.tracks = minimum - 1;
  CHECK_THROWS_WITH(
      generate_synthetic_splits(options),
      Catch::Contains("too few") && Catch::Contains("use at least " + std::to_string(minimum)));
  options.tracks = kJamendoSplit0Tracks + 1;
  CHECK_THROWS_AS(generate_synthetic_splits(options), InvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Feature files

TEST_CASE("synth features: byte-identical with 1 and 2 threads and different with another seed",
          "[synth]") {
  SynthSplitOptions split_options;
  split_options.tracks = 240;
  const auto tracks = all_tracks(generate_synthetic_splits(split_options));
  TempDir one, two;
  SynthFeatureOptions options;
  options.sync = false;  // a whole-file-system flush would time other processes' writes too
  options.threads = 1;
  const auto summary = write_synthetic_features(one.path(), tracks, options);
  options.threads = 2;
  write_synthetic_features(two.path(), tracks, options);

  CHECK(summary.files == tracks.size());
  CHECK(summary.threads == 1);
  const auto a = read_tree(one.path()), b = read_tree(two.path());
  REQUIRE(a.size() == tracks.size() + 1);  // + the marker
  CHECK(a == b);
  std::uintmax_t bytes = 0;
  for (const auto& [path, text] : a) bytes += path == kSynthMarkerFile ? 0 : text.size();
  CHECK(bytes == summary.bytes);
  for (std::size_t i = 0; i < tracks.size(); i += 12) {
    const std::string& file = a.at(feature_relpath(tracks[i]));
    // A file is a function of its own row and the seed: the track alone gives the same bytes,
    // another seed other bytes.
    CHECK(synthetic_feature_json(tracks[i], kDefaultSynthSeed) == file);
    CHECK(synthetic_feature_json(tracks[i], kDefaultSynthSeed + 1) != file);
  }
}

TEST_CASE("synth features: exactly the key paths and list lengths of a real music-1.0 file",
          "[synth][shared]") {
  const fs::path real_file = test::samples_dir() / "ab-server_0dad432b_lowlevel_2.1-beta2.json";
  if (!test::require_shared(real_file)) return;
  std::map<std::string, std::string> expected;
  shapes(parse_json(real_file), "", expected);

  SynthSplitOptions split_options;
  split_options.tracks = kSmall;
  const auto tracks = all_tracks(generate_synthetic_splits(split_options));
  for (std::size_t i = 0; i < tracks.size(); i += 10) {
    rapidjson::Document doc;
    const std::string text = synthetic_feature_json(tracks[i], kDefaultSynthSeed);
    doc.Parse(text.data(), text.size());
    REQUIRE_FALSE(doc.HasParseError());
    std::map<std::string, std::string> got;
    shapes(doc, "", got);
    INFO(tracks[i].track_id);
    CHECK(got == expected);
  }
}

TEST_CASE("synth features: every file has 2647 numbers and 4 strings with plausible values",
          "[synth]") {
  SynthSplitOptions split_options;
  split_options.tracks = kSmall;
  const auto tracks = all_tracks(generate_synthetic_splits(split_options));
  const std::set<std::string> keys = {"A",  "A#", "B", "C",  "C#", "D",
                                      "D#", "E",  "F", "F#", "G",  "G#"};
  const std::set<std::string> scales = {"major", "minor"};
  std::size_t sizes = 0;
  for (const auto& track : tracks) {
    INFO(track.track_id);
    const std::string text = synthetic_feature_json(track, kDefaultSynthSeed);
    sizes += text.size();
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    REQUIRE_FALSE(doc.HasParseError());
    std::size_t numbers = 0, strings = 0;
    for (const char* section : {"lowlevel", "rhythm", "tonal"})
      count_leaves(doc[section], numbers, strings);
    CHECK(numbers == 2647);
    CHECK(strings == 4);

    const auto& rhythm = doc["rhythm"];
    CHECK(rhythm["beats_count"].IsInt());
    CHECK(rhythm["beats_position"].Size() ==
          static_cast<rapidjson::SizeType>(rhythm["beats_count"].GetInt()));
    CHECK(rhythm["beats_position"].Size() > 10);
    const auto& tonal = doc["tonal"];
    CHECK(keys.count(tonal["key_key"].GetString()) == 1);
    CHECK(keys.count(tonal["chords_key"].GetString()) == 1);
    CHECK(scales.count(tonal["key_scale"].GetString()) == 1);
    CHECK(scales.count(tonal["chords_scale"].GetString()) == 1);
    CHECK(tonal["thpcp"][0].GetDouble() == 1.0);
    double histogram = 0.0;
    for (const auto& v : tonal["chords_histogram"].GetArray()) histogram += v.GetDouble();
    CHECK(histogram == Approx(100.0).epsilon(1e-5));
    CHECK_THAT(std::string(doc["metadata"]["tags"]["comment"][0].GetString()),
               Catch::Contains("SYNTHETIC"));
    CHECK(doc["metadata"]["version"]["extractor"].GetString() == std::string("music 1.0"));

    // Stats dicts: min <= median, mean <= max; var >= 0; degenerate bpm histogram peaks.
    for (const char* section : {"lowlevel", "rhythm", "tonal"}) {
      for (const auto& m : doc[section].GetObject()) {
        const auto& v = m.value;
        if (!v.IsObject() || !v.HasMember("median") || !v["mean"].IsNumber()) continue;
        INFO(m.name.GetString());
        const double lo = v["min"].GetDouble(), hi = v["max"].GetDouble();
        CHECK(lo <= v["median"].GetDouble());
        CHECK(v["median"].GetDouble() <= hi);
        CHECK(lo <= v["mean"].GetDouble() * (1 + 1e-6) + 1e-30);
        CHECK(v["mean"].GetDouble() <= hi * (1 + 1e-6) + 1e-30);
        CHECK(v["var"].GetDouble() >= 0.0);
        if (std::string(m.name.GetString()).starts_with("bpm_histogram_")) {
          CHECK(v["var"].GetDouble() == 0.0);
          CHECK(v["dmean"].GetDouble() == 0.0);
          CHECK(lo == hi);
        }
      }
    }
    // mfcc: cov symmetric with a positive diagonal, icov its inverse.
    const auto& cov = doc["lowlevel"]["mfcc"]["cov"];
    const auto& icov = doc["lowlevel"]["mfcc"]["icov"];
    for (rapidjson::SizeType i = 0; i < 13; ++i) {
      CHECK(cov[i][i].GetDouble() > 0.0);
      for (rapidjson::SizeType j = 0; j < 13; ++j) {
        CHECK(cov[i][j].GetDouble() == cov[j][i].GetDouble());
        double product = 0.0;
        for (rapidjson::SizeType k = 0; k < 13; ++k)
          product += cov[i][k].GetDouble() * icov[k][j].GetDouble();
        CHECK(product == Approx(i == j ? 1.0 : 0.0).margin(1e-3));
      }
    }
  }
  // Real music-1.0 files run from 55 to 87 KB.
  const double mean_kb = static_cast<double>(sizes) / 1024.0 / static_cast<double>(tracks.size());
  CHECK(mean_kb > 50.0);
  CHECK(mean_kb < 80.0);
}

TEST_CASE("synth features: Python's json module reads every file", "[synth][python]") {
  const fs::path python = test::python_with({"json"});
  if (python.empty()) return;
  SynthSplitOptions split_options;
  split_options.tracks = 240;
  TempDir tmp;
  SynthFeatureOptions options;
  options.sync = false;
  const auto summary = write_synthetic_features(
      tmp.path(), all_tracks(generate_synthetic_splits(split_options)), options);
  const std::string script =
      "import json, pathlib, sys\n"
      "n = 0\n"
      "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.json')):\n"
      "    d = json.loads(p.read_text())\n"
      "    if p.name != 'moodboost-synthetic.json':\n"
      "        assert d['metadata']['version']['extractor'] == 'music 1.0', p\n"
      "        n += 1\n"
      "print(n)\n";
  const auto run = test::run_program(python, {"-c", script, tmp.path().string()});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(std::stoul(run.out) == summary.files);
}

TEST_CASE("synth features: the planted signal shows in simple statistics at small scale",
          "[synth]") {
  // Tags loading +1 on a mood factor versus tags loading -1 (SYNTHETIC.md's loading table): bpm
  // moves with the energy factor, the spectral centroid with brightness.
  struct Contrast {
    const char* descriptor;
    std::set<std::string> up, down;
  };
  const Contrast contrasts[] = {
      {"bpm",
       {"action", "energetic", "fast", "heavy", "party", "powerful", "sport"},
       {"calm", "meditative", "relaxing", "slow"}},
      {"spectral_centroid",
       {"advertising", "commercial", "children", "christmas", "corporate", "funny", "positive",
        "summer"},
       {"dark", "deep", "retro", "cool", "soft", "space"}},
  };
  const auto has_any = [](const Track& t, const std::set<std::string>& names) {
    return std::any_of(t.tags.begin(), t.tags.end(), [&](const std::string& tag) {
      return names.count(tag.substr(kMoodThemePrefix.size())) == 1;
    });
  };
  SynthSplitOptions split_options;
  split_options.tracks = 400;
  const auto tracks = all_tracks(generate_synthetic_splits(split_options));
  std::vector<rapidjson::Document> docs(tracks.size());
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    const std::string text = synthetic_feature_json(tracks[i], kDefaultSynthSeed);
    docs[i].Parse(text.data(), text.size());
  }
  for (const auto& c : contrasts) {
    std::vector<double> up, down;
    for (std::size_t i = 0; i < tracks.size(); ++i) {
      const double v = std::string(c.descriptor) == "bpm"
                           ? docs[i]["rhythm"]["bpm"].GetDouble()
                           : docs[i]["lowlevel"]["spectral_centroid"]["mean"].GetDouble();
      const bool is_up = has_any(tracks[i], c.up), is_down = has_any(tracks[i], c.down);
      if (is_up && !is_down) up.push_back(std::log(v));
      if (is_down && !is_up) down.push_back(std::log(v));
    }
    INFO(c.descriptor << ": " << up.size() << " vs " << down.size()
                      << " tracks, t = " << welch_t(up, down));
    REQUIRE(up.size() >= 30);
    REQUIRE(down.size() >= 30);
    CHECK(welch_t(up, down) > 3.5);  // p < 0.001
    // ... and far from perfect: the two groups overlap.
    CHECK(*std::max_element(down.begin(), down.end()) > *std::min_element(up.begin(), up.end()));
  }
}

// ---------------------------------------------------------------------------------------------
// Marker and SYNTHETIC.md

TEST_CASE("synth marker: written with the files and read back while absent means real data",
          "[synth]") {
  TempDir tmp;
  CHECK_FALSE(read_synth_marker(tmp.path()).has_value());
  SynthSplitOptions split_options;
  split_options.tracks = 240;
  SynthFeatureOptions options;
  options.seed = 77;
  write_synthetic_features(tmp.path(), all_tracks(generate_synthetic_splits(split_options)),
                           options);
  const auto marker = read_synth_marker(tmp.path());
  REQUIRE(marker.has_value());
  CHECK(marker->seed == 77);
  CHECK(marker->model == kSynthModelVersion);
  CHECK(marker->files == 240);
  CHECK(test::read_text(tmp / std::string(kSynthMarkerFile)).find("SYNTHETIC DATA") !=
        std::string::npos);

  test::write_text(tmp / std::string(kSynthMarkerFile), "{\"synthetic\": true, \"seed\": \"x\"}");
  CHECK_THROWS_WITH(
      read_synth_marker(tmp.path()),
      Catch::Contains("moodboost-synthetic.json: /seed: expected a non-negative integer"));
  test::write_text(tmp / std::string(kSynthMarkerFile), "{\"synthetic\": tru");
  CHECK_THROWS_AS(read_synth_marker(tmp.path()), ParseError);
}

TEST_CASE("synth markdown: says the data are synthetic and documents every tag's loadings",
          "[synth]") {
  const std::string md = synth_model_markdown(42, "a test split set");
  CHECK(md.starts_with("# SYNTHETIC DATA"));
  CHECK(md.find("seed 42") != std::string::npos);
  CHECK(md.find("a test split set") != std::string::npos);
  CHECK(md.find("Using the real data instead") != std::string::npos);
  CHECK(md.find("download.py --dataset autotagging_moodtheme --type acousticbrainz") !=
        std::string::npos);
  for (const auto& tag : jamendo_split0_tags()) {
    CHECK(md.find("| " + std::string(tag.name) + " |") != std::string::npos);
  }
  CHECK(md.find("| energy | `bpm` +0.6") != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// The command

TEST_CASE(
    "synth CLI: writes the dataset layout and --splits of its own splits gives the same files",
    "[synth][cli]") {
  TempDir tmp;
  const fs::path out = tmp / "synth", again = tmp / "again";
  const auto run =
      test::run_cli({"synth", "--out", out.string(), "--tracks", "240", "--threads", "2"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("wrote 240 SYNTHETIC feature files") != std::string::npos);
  CHECK(run.out.find("SYNTHETIC.md") != std::string::npos);
  for (const char* split : {"train", "validation", "test"}) {
    CHECK(fs::is_regular_file(out / "splits" / ("synthetic-" + std::string(split) + ".tsv")));
  }
  CHECK(read_tag_list(out / "tags.txt").size() == 56);
  CHECK(test::read_text(out / "SYNTHETIC.md").starts_with("# SYNTHETIC DATA"));
  REQUIRE(read_synth_marker(out / "features").has_value());

  // The split-set options find the generated files (one *-train/-validation/-test.tsv each).
  const auto rerun =
      test::run_cli({"synth", "--out", again.string(), "--splits", (out / "splits").string(),
                     "--tags", (out / "tags.txt").string(), "--threads", "1"});
  INFO(rerun.err);
  REQUIRE(rerun.exit_code == 0);
  CHECK(read_tree(again / "features") == read_tree(out / "features"));
  CHECK_FALSE(fs::exists(again / "splits"));
  CHECK(fs::exists(again / "SYNTHETIC.md"));
}

TEST_CASE("synth CLI: misuse exits 2 with a message", "[synth][cli]") {
  TempDir tmp;
  auto run = test::run_cli({"synth", "--out", (tmp / "a").string(), "--tracks", "20"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("expected a whole number from 201 to 17982") != std::string::npos);
  test::write_text(tmp / "tags.txt", "mood/theme---calm\n");
  run = test::run_cli(
      {"synth", "--out", (tmp / "b").string(), "--tags", (tmp / "tags.txt").string()});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("--tags applies to a given split set") != std::string::npos);
  test::write_text(
      tmp / "s" / "x-train.tsv",
      "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\r\n"
      "track_0000001\tartist_000001\talbum_000001\t01/1.mp3\t30.0\tmood/theme---calm\r\n");
  run = test::run_cli({"synth", "--out", (tmp / "c").string(), "--splits", (tmp / "s").string(),
                       "--tracks", "300"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("--tracks applies only") != std::string::npos);
}

TEST_CASE("synth CLI: features for rows of the real split files land at their PATH",
          "[synth][cli][shared]") {
  const fs::path real =
      test::jamendo_dir() / "splits" / "split-0" / "autotagging_moodtheme-validation.tsv";
  if (!test::require_shared(real)) return;
  // The first 40 real rows (read at test time, never stored in the project).
  TempDir tmp;
  std::istringstream in(test::read_text(real));
  std::string text, line;
  for (int i = 0; i < 41 && std::getline(in, line); ++i) text += line + "\n";
  test::write_text(tmp / "part-validation.tsv", text);
  const auto run = test::run_cli({"synth", "--out", (tmp / "out").string(), "--validation",
                                  (tmp / "part-validation.tsv").string()});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const Split split = read_split(tmp / "part-validation.tsv");
  REQUIRE(split.tracks.size() == 40);
  for (const auto& t : split.tracks) {
    const fs::path file = tmp / "out" / "features" / feature_relpath(t);
    REQUIRE(fs::is_regular_file(file));
    const auto doc = parse_json(file);
    CHECK(doc["metadata"]["tags"]["title"][0].GetString() == t.track_id);
  }
}
