// libFuzzer harness: a split TSV and a tag list through the dataset module.
//
// The input is parsed as a split file (parse_split), then its label matrices are built
// (label_matrix over its own tags, and over half of them with both unknown-tag policies) and its
// feature paths derived (feature_relpath); the same bytes are also read as a tag vocabulary
// (read_tag_list, through a scratch file). Invariants besides "no crash, leak or sanitizer
// report": only moodboost errors escape; a ParseError names the file and a line that exists;
// an accepted split has unique TRACK_IDs, no empty field, at least one tag per row, unique tags
// per row and increasing line numbers; LF and CRLF endings give the same result; a label matrix
// holds exactly the file's labels; a feature path never leaves the features directory.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "moodboost/dataset.hpp"

using namespace moodboost;
using moodboost::fuzz::check;

namespace {

const std::filesystem::path kFile = "splits/fuzz-train.tsv";

std::size_t line_count(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

// A ParseError's place is empty (a whole-file problem) or "line N" with N a line of the file.
void check_line_place(const ParseError& e, std::string_view text, const char* what) {
  fuzz::check_names_file(e, e.file());
  if (e.place().empty()) return;
  check(e.place().starts_with("line "), std::string(what) + ": place is not a line: " + e.what());
  std::size_t line = 0;
  const std::string_view digits = std::string_view(e.place()).substr(5);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), line);
  check(ec == std::errc() && end == digits.data() + digits.size() && line >= 1 &&
            line <= line_count(text),
        std::string(what) + ": a line outside the file: " + e.what());
}

void check_split(const Split& split) {
  check(!split.tracks.empty(), "an accepted split without tracks");
  std::set<std::string> ids;
  std::size_t previous_line = 1;
  for (const Track& t : split.tracks) {
    check(ids.insert(t.track_id).second, "a duplicate TRACK_ID was accepted: " + t.track_id);
    check(t.line > previous_line, "line numbers do not increase");
    previous_line = t.line;
    for (const std::string* field : {&t.track_id, &t.artist_id, &t.album_id, &t.path}) {
      check(!field->empty(), "an empty field was accepted");
      check(field->find_first_of("\t\n\r") == std::string::npos, "a field holds a tab, CR or LF");
    }
    check(std::isfinite(t.duration_s) && t.duration_s >= 0, "a bad DURATION was accepted");
    check(!t.tags.empty(), "a track without tags was accepted");
    std::set<std::string> tags(t.tags.begin(), t.tags.end());
    check(tags.size() == t.tags.size(), "a tag listed twice in a row was accepted");
    check(!tags.contains(""), "an empty tag was accepted");
    for (const auto& tag : tags) {
      check(tag.find_first_of("\t\n\r") == std::string::npos, "a tag holds a tab, CR or LF");
    }
  }
}

bool same_tracks(const Split& a, const Split& b) {
  if (a.tracks.size() != b.tracks.size()) return false;
  for (std::size_t i = 0; i < a.tracks.size(); ++i) {
    const Track &x = a.tracks[i], &y = b.tracks[i];
    if (x.track_id != y.track_id || x.artist_id != y.artist_id || x.album_id != y.album_id ||
        x.path != y.path || x.duration_s != y.duration_s || x.tags != y.tags || x.line != y.line) {
      return false;
    }
  }
  return true;
}

// parse_split's result, or the place of its ParseError.
struct Parsed {
  bool ok = false;
  Split split;
  std::string place;
};

Parsed parse(std::string_view text) {
  Parsed out;
  fuzz::guarded(
      "parse_split",
      [&] {
        out.split = parse_split(text, kFile);
        out.ok = true;
      },
      [&](const Error& e) {
        const auto* parse_error = dynamic_cast<const ParseError*>(&e);
        check(parse_error != nullptr, std::string("parse_split threw: ") + e.what());
        check(parse_error->file() == kFile, "parse_split names another file");
        check_line_place(*parse_error, text, "parse_split");
        out.place = parse_error->place();
      });
  return out;
}

void labels_and_paths(const Split& split) {
  const std::vector<std::string> tags = tags_in({&split});
  check(std::is_sorted(tags.begin(), tags.end()) &&
            std::adjacent_find(tags.begin(), tags.end()) == tags.end(),
        "tags_in is not a sorted set");
  const LabelMatrix all = label_matrix(split, tags, UnknownTagPolicy::kError);
  check(static_cast<std::size_t>(all.cast<std::size_t>().sum()) == split.label_count(),
        "the label matrix does not hold every label");

  // Half of the vocabulary: the other tags are unknown.
  const std::vector<std::string> half(tags.begin(),
                                      tags.begin() + static_cast<std::ptrdiff_t>(tags.size() / 2));
  std::size_t unknown = 0;
  const LabelMatrix some = label_matrix(split, half, UnknownTagPolicy::kIgnore, &unknown);
  check(static_cast<std::size_t>(some.cast<std::size_t>().sum()) + unknown == split.label_count(),
        "known plus unknown labels differ from the file's labels");
  if (unknown > 0) {
    fuzz::guarded(
        "label_matrix", [&] { (void)label_matrix(split, half, UnknownTagPolicy::kError); },
        [](const Error& e) {
          check(dynamic_cast<const ParseError*>(&e) != nullptr,
                std::string("label_matrix threw: ") + e.what());
        });
  }

  for (const Track& t : split.tracks) {
    fuzz::guarded(
        "feature_relpath",
        [&] {
          const std::filesystem::path rel = feature_relpath(t);
          check(rel.is_relative() && rel.string().ends_with(".json"), "a bad feature path");
          for (const auto& part : rel) check(part != "..", "a feature path leaves its directory");
        },
        [](const Error& e) {
          check(dynamic_cast<const DataError*>(&e) != nullptr,
                std::string("feature_relpath threw: ") + e.what());
        });
  }
}

void tag_list(std::string_view text) {
  const std::filesystem::path file = fuzz::scratch_path("tags.txt");
  fuzz::write_bytes(file, text);
  fuzz::guarded(
      "read_tag_list",
      [&] {
        const std::vector<std::string> tags = read_tag_list(file);
        check(!tags.empty(), "an empty vocabulary was accepted");
        std::set<std::string> unique(tags.begin(), tags.end());
        check(unique.size() == tags.size(), "a duplicate tag was accepted");
        for (const auto& tag : tags) {
          check(!tag.empty() && tag.find_first_of("\t\n\r") == std::string::npos,
                "a tag holding a tab, CR or LF was accepted");
        }
        check(!tags.front().starts_with("\xEF\xBB\xBF"), "a byte-order mark became a tag");
      },
      [&](const Error& e) {
        const auto* parse_error = dynamic_cast<const ParseError*>(&e);
        check(parse_error != nullptr, std::string("read_tag_list threw: ") + e.what());
        check(parse_error->file() == file, "read_tag_list names another file");
        check_line_place(*parse_error, text, "read_tag_list");
      });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Parsed lf = parse(text);
  if (lf.ok) {
    check_split(lf.split);
    labels_and_paths(lf.split);
  }
  // CRLF endings (as the real files have) must not change anything.
  if (text.find('\r') == std::string_view::npos) {
    std::string crlf;
    crlf.reserve(text.size() + text.size() / 8);
    for (const char c : text) {
      if (c == '\n') crlf += '\r';
      crlf += c;
    }
    const Parsed other = parse(crlf);
    check(other.ok == lf.ok, "LF and CRLF endings disagree on accepting the file");
    if (lf.ok) check(same_tracks(lf.split, other.split), "CRLF endings changed the tracks");
    if (!lf.ok) check(lf.place == other.place, "CRLF endings moved the error");
  }
  tag_list(text);
  return 0;
}
