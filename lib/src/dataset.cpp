#include "moodboost/dataset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "detail/lines.hpp"
#include "moodboost/error.hpp"
#include "moodboost/io.hpp"

namespace moodboost {
namespace {

namespace fs = std::filesystem;

// The fixed header of every MTG-Jamendo split file.
constexpr std::string_view kSplitHeader = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS";
constexpr std::size_t kFixedColumns = 5;
// The full autotagging.tsv of MTG-Jamendo is ~5 MB; leave room for larger custom sets.
constexpr std::uintmax_t kMaxSplitBytes = 256u * 1024u * 1024u;

std::string line_place(std::size_t line) { return fmt::format("line {}", line); }

// Text editors on Windows may start a file with a UTF-8 byte-order mark. It would silently become
// part of the first header or tag ("\xEF\xBB\xBFmood/theme---action"), so it is refused by name.
void refuse_bom(std::string_view text, const fs::path& file) {
  if (text.starts_with("\xEF\xBB\xBF")) {
    throw ParseError(file, line_place(1),
                     "the file starts with a UTF-8 byte-order mark (EF BB BF); save it without "
                     "one (remove the first 3 bytes)");
  }
}

// One trailing CR per line is a CRLF ending; another CR (a CR CR LF ending, or CR-only line
// endings) would silently become part of a tag, so it is refused.
void refuse_cr(std::string_view field, const fs::path& file, std::size_t line) {
  if (field.find('\r') != std::string_view::npos) {
    throw ParseError(file, line_place(line),
                     "a stray carriage return (CR) inside the line (CR CR LF or CR-only line "
                     "endings?): lines must end in LF or CRLF");
  }
}

// Shortens a field quoted in an error message, so that a garbage line does not flood the terminal.
std::string quote_field(std::string_view text) {
  constexpr std::size_t kMax = 60;
  if (text.size() <= kMax) return fmt::format("'{}'", text);
  return fmt::format("'{}...' ({} bytes)", text.substr(0, kMax), text.size());
}

double parse_duration(std::string_view field, const fs::path& file, std::size_t line) {
  double value = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc() || end != field.data() + field.size() || !std::isfinite(value) ||
      value < 0) {
    throw ParseError(
        file, line_place(line),
        fmt::format("DURATION: expected a number of seconds >= 0, found {}", quote_field(field)));
  }
  return value;
}

Track parse_track(const std::vector<std::string_view>& fields, const fs::path& file,
                  std::size_t line) {
  if (fields.size() < kFixedColumns + 1) {
    throw ParseError(file, line_place(line),
                     fmt::format("expected at least 6 tab-separated columns (TRACK_ID, ARTIST_ID, "
                                 "ALBUM_ID, PATH, DURATION and at least one tag), found {}",
                                 fields.size()));
  }
  static constexpr std::string_view kColumnNames[] = {"TRACK_ID", "ARTIST_ID", "ALBUM_ID", "PATH",
                                                      "DURATION"};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    refuse_cr(fields[i], file, line);
    if (!fields[i].empty()) continue;
    const std::string column = i < kFixedColumns
                                   ? std::string(kColumnNames[i])
                                   : fmt::format("tag column {}", i - kFixedColumns + 1);
    throw ParseError(file, line_place(line), fmt::format("{} is empty (column {})", column, i + 1));
  }
  Track track;
  track.track_id = fields[0];
  track.artist_id = fields[1];
  track.album_id = fields[2];
  track.path = fields[3];
  track.duration_s = parse_duration(fields[4], file, line);
  track.line = line;
  track.tags.reserve(fields.size() - kFixedColumns);
  for (std::size_t i = kFixedColumns; i < fields.size(); ++i) {
    const std::string_view tag = fields[i];
    // Rows hold a handful of tags, so a linear scan is the cheapest duplicate check.
    if (std::find(track.tags.begin(), track.tags.end(), tag) != track.tags.end()) {
      throw ParseError(
          file, line_place(line),
          fmt::format("tag {} is listed twice for {}", quote_field(tag), track.track_id));
    }
    track.tags.emplace_back(tag);
  }
  return track;
}

std::unordered_map<std::string_view, std::size_t> tag_index(const std::vector<std::string>& tags) {
  std::unordered_map<std::string_view, std::size_t> index;
  index.reserve(tags.size());
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (!index.emplace(tags[i], i).second) {
      throw DataError(fmt::format("tag vocabulary lists {} twice", quote_field(tags[i])));
    }
  }
  return index;
}

}  // namespace

std::size_t Split::label_count() const noexcept {
  std::size_t n = 0;
  for (const auto& track : tracks) n += track.tags.size();
  return n;
}

Split parse_split(std::string_view text, const fs::path& file) {
  if (text.empty()) throw ParseError(file, "", "empty file, expected a split TSV with a header");
  refuse_bom(text, file);
  detail::LineReader lines(text);
  std::string_view line;
  lines.next(line);
  if (line != kSplitHeader) {
    throw ParseError(file, line_place(1),
                     fmt::format("expected the header \"{}\" (tab-separated), found {}",
                                 kSplitHeader, quote_field(line)));
  }
  Split split;
  split.file = file;
  std::unordered_map<std::string, std::size_t> first_line;  // TRACK_ID -> line
  std::vector<std::string_view> fields;
  while (lines.next(line)) {
    if (line.empty()) throw ParseError(file, line_place(lines.number()), "empty line");
    detail::split_fields(line, '\t', fields);
    Track track = parse_track(fields, file, lines.number());
    const auto [it, inserted] = first_line.emplace(track.track_id, track.line);
    if (!inserted) {
      throw ParseError(
          file, line_place(track.line),
          fmt::format("duplicate TRACK_ID {} (first on line {})", track.track_id, it->second));
    }
    split.tracks.push_back(std::move(track));
  }
  if (split.tracks.empty()) throw ParseError(file, "", "has a header but no tracks");
  return split;
}

Split read_split(const fs::path& tsv) { return parse_split(read_file(tsv, kMaxSplitBytes), tsv); }

std::vector<std::string> read_tag_list(const fs::path& file) {
  const std::string text = read_file(file);
  if (text.empty()) throw ParseError(file, "", "empty file, expected one tag per line");
  refuse_bom(text, file);
  detail::LineReader lines(text);
  std::vector<std::string> tags;
  std::unordered_map<std::string, std::size_t> first_line;
  std::string_view line;
  while (lines.next(line)) {
    const std::string place = line_place(lines.number());
    if (line.empty()) throw ParseError(file, place, "blank line, expected a tag");
    refuse_cr(line, file, lines.number());
    if (line.find('\t') != std::string_view::npos) {
      throw ParseError(file, place,
                       fmt::format("a tag cannot contain a tab: {}", quote_field(line)));
    }
    const auto [it, inserted] = first_line.emplace(line, lines.number());
    if (!inserted) {
      throw ParseError(
          file, place,
          fmt::format("duplicate tag {} (first on line {})", quote_field(line), it->second));
    }
    tags.emplace_back(line);
  }
  return tags;
}

SplitFiles find_split_files(const fs::path& dir, bool require_all) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw IoError(dir, "not a directory (expected a split directory)");
  std::vector<fs::path> tsvs;
  fs::directory_iterator it(dir, ec);
  if (ec) throw IoError(dir, "cannot list directory: " + ec.message());
  for (const auto& entry : it) {
    if (entry.path().extension() == ".tsv") tsvs.push_back(entry.path());
  }
  std::sort(tsvs.begin(), tsvs.end());

  const auto listing = [&] {
    if (tsvs.empty()) return std::string("no .tsv files");
    std::string out = "found:";
    for (const auto& p : tsvs) out += " " + p.filename().string();
    return out;
  };
  const auto find_one = [&](std::string_view suffix) {
    std::vector<fs::path> matches;
    for (const auto& p : tsvs) {
      const std::string name = p.filename().string();
      if (name.size() > suffix.size() && name.ends_with(suffix)) matches.push_back(p);
    }
    if (matches.size() > 1) {
      std::string names;
      for (const auto& m : matches) names += " " + m.filename().string();
      throw DataError(fmt::format("{}: more than one *{} file:{}", dir.string(), suffix, names));
    }
    if (matches.empty()) {
      if (require_all) {
        throw DataError(fmt::format("{}: no *{} file ({})", dir.string(), suffix, listing()));
      }
      return fs::path();
    }
    return matches.front();
  };
  SplitFiles files;
  files.train = find_one("-train.tsv");
  files.validation = find_one("-validation.tsv");
  files.test = find_one("-test.tsv");
  return files;
}

LabelMatrix label_matrix(const Split& split, const std::vector<std::string>& tags,
                         UnknownTagPolicy policy, std::size_t* unknown_count) {
  const auto index = tag_index(tags);
  LabelMatrix labels = LabelMatrix::Zero(static_cast<Eigen::Index>(split.tracks.size()),
                                         static_cast<Eigen::Index>(tags.size()));
  std::size_t unknown = 0;
  for (std::size_t row = 0; row < split.tracks.size(); ++row) {
    const Track& track = split.tracks[row];
    for (const auto& tag : track.tags) {
      const auto it = index.find(tag);
      if (it == index.end()) {
        if (policy == UnknownTagPolicy::kError) {
          throw ParseError(split.file, line_place(track.line),
                           fmt::format("tag {} is not in the tag vocabulary ({} tags)",
                                       quote_field(tag), tags.size()));
        }
        ++unknown;
        continue;
      }
      labels(static_cast<Eigen::Index>(row), static_cast<Eigen::Index>(it->second)) = 1;
    }
  }
  if (unknown_count != nullptr) *unknown_count = unknown;
  return labels;
}

std::vector<std::string> tags_in(std::initializer_list<const Split*> splits) {
  std::set<std::string, std::less<>> seen;
  for (const Split* split : splits) {
    if (split == nullptr) continue;
    for (const auto& track : split->tracks) seen.insert(track.tags.begin(), track.tags.end());
  }
  return {seen.begin(), seen.end()};
}

fs::path feature_relpath(const Track& track, const fs::path& split_file) {
  constexpr std::string_view kAudioSuffix = ".mp3";
  const auto fail = [&](std::string_view why) {
    return DataError(fmt::format("{}{} (line {}): PATH {} {}",
                                 split_file.empty() ? "" : split_file.string() + ": ",
                                 track.track_id, track.line, quote_field(track.path), why));
  };
  if (!std::string_view(track.path).ends_with(kAudioSuffix) ||
      track.path.size() == kAudioSuffix.size()) {
    throw fail("does not end in .mp3, so its feature file (.json) cannot be named");
  }
  const fs::path rel = track.path.substr(0, track.path.size() - kAudioSuffix.size()) + ".json";
  if (rel.is_absolute()) throw fail("is absolute; it must be relative to the features directory");
  for (const auto& part : rel) {
    if (part == "..") throw fail("leaves the features directory (a '..' component)");
  }
  return rel;
}

std::vector<std::string> feature_relpaths(const Split& split) {
  std::vector<std::string> out;
  out.reserve(split.tracks.size());
  for (const Track& track : split.tracks)
    out.push_back(feature_relpath(track, split.file).string());
  return out;
}

std::vector<std::string> track_ids(const Split& split) {
  std::vector<std::string> out;
  out.reserve(split.tracks.size());
  for (const Track& track : split.tracks) out.push_back(track.track_id);
  return out;
}

std::string tag_display_name(std::string_view tag) {
  constexpr std::string_view kCategorySeparator = "---";
  const std::size_t at = tag.find(kCategorySeparator);
  if (at == std::string_view::npos || at == 0 || at + kCategorySeparator.size() == tag.size()) {
    return std::string(tag);
  }
  return std::string(tag.substr(at + kCategorySeparator.size()));
}

LabelMatrix SplitSet::labels(const Split& split) const {
  return label_matrix(split, tags, unknown_tag_policy);
}

SplitSet load_split_set(const SplitFiles& files, const std::optional<fs::path>& tags_file,
                        UnknownTagPolicy policy) {
  SplitSet set;
  set.unknown_tag_policy = policy;
  if (!files.train.empty()) set.train = read_split(files.train);
  if (!files.validation.empty()) set.validation = read_split(files.validation);
  if (!files.test.empty()) set.test = read_split(files.test);

  // A track in two splits would leak test labels into training.
  std::unordered_map<std::string_view, const Split*> owner;
  for (const Split* split : {&set.train, &set.validation, &set.test}) {
    for (const auto& track : split->tracks) {
      const auto [it, inserted] = owner.emplace(track.track_id, split);
      if (!inserted) {
        throw DataError(fmt::format("{} is in two splits: {} and {} (line {})", track.track_id,
                                    it->second->file.string(), split->file.string(), track.line));
      }
    }
  }

  if (tags_file) {
    set.tags = read_tag_list(*tags_file);
    set.tags_file = *tags_file;
  } else {
    set.tags = tags_in({&set.train, &set.validation, &set.test});
    if (set.tags.empty()) throw DataError("no split file given, so there is no tag vocabulary");
  }
  // Check every split now, so that a bad tag is reported before any long computation.
  label_matrix(set.train, set.tags, policy, &set.unknown_labels_train);
  label_matrix(set.validation, set.tags, policy, &set.unknown_labels_validation);
  label_matrix(set.test, set.tags, policy, &set.unknown_labels_test);
  return set;
}

}  // namespace moodboost
