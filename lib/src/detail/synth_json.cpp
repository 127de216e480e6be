// Writes a synthetic track in the layout of Essentia's own JSON output (YamlOutput with
// format=json, as in ab-server_335679c3_lowlevel_2.1-dev_raw-essentia.json of the shared
// samples): top-level keys at column 0, nested keys indented by 4 spaces, lists inline, numbers
// as C++ streams print a float with precision 12 (so whole numbers have no decimal point).
// Within a section Essentia writes numbers and stats dicts first, then vectors and matrices,
// then strings, each group in alphabetical order.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "detail/synth_model.hpp"
#include "moodboost/version.hpp"

namespace moodboost::detail {
namespace {

// Essentia's Real is float: print the float value with 12 significant digits (%.12g).
void append_number(std::string& out, double value) {
  char buf[40];
  const auto as_float = static_cast<double>(static_cast<float>(value));
  const auto result =
      std::to_chars(buf, buf + sizeof buf, as_float, std::chars_format::general, 12);
  out.append(buf, result.ptr);
}

void append_integer(std::string& out, double value) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(value));
  out.append(buf, result.ptr);
}

void append_list(std::string& out, const double* values, std::size_t n) {
  out += '[';
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ", ";
    append_number(out, values[i]);
  }
  out += ']';
}

void append_key(std::string& out, int indent, std::string_view key) {
  out.append(static_cast<std::size_t>(indent), ' ');
  out += '"';
  out += key;
  out += "\": ";
}

int group_of(Descriptor::Kind kind) {
  switch (kind) {
    case Descriptor::Kind::kReal:
    case Descriptor::Kind::kInteger:
    case Descriptor::Kind::kStats:
      return 0;
    case Descriptor::Kind::kVectorStats:
    case Descriptor::Kind::kList:
    case Descriptor::Kind::kCepstrum:
      return 1;
    case Descriptor::Kind::kString:
      return 2;
  }
  return 0;
}

void append_descriptor(std::string& out, const Descriptor& d) {
  append_key(out, 4, d.name);
  switch (d.kind) {
    case Descriptor::Kind::kReal:
      append_number(out, d.real);
      break;
    case Descriptor::Kind::kInteger:
      append_integer(out, d.real);
      break;
    case Descriptor::Kind::kStats:
      out += "{\n";
      for (std::size_t s = 0; s < kStatNames.size(); ++s) {
        append_key(out, 8, kStatNames[s]);
        append_number(out, d.stats.front().values[s]);
        out += s + 1 < kStatNames.size() ? ",\n" : "\n";
      }
      out += "    }";
      break;
    case Descriptor::Kind::kVectorStats: {
      out += "{\n";
      std::vector<double> column(d.stats.size());
      for (std::size_t s = 0; s < kStatNames.size(); ++s) {
        for (std::size_t e = 0; e < d.stats.size(); ++e) column[e] = d.stats[e].values[s];
        append_key(out, 8, kStatNames[s]);
        append_list(out, column.data(), column.size());
        out += s + 1 < kStatNames.size() ? ",\n" : "\n";
      }
      out += "    }";
      break;
    }
    case Descriptor::Kind::kList:
      append_list(out, d.list.data(), d.list.size());
      break;
    case Descriptor::Kind::kCepstrum: {
      // Essentia writes mean, cov, icov in this order; matrices as lists of rows.
      out += "{\n";
      append_key(out, 8, "mean");
      append_list(out, d.list.data(), 13);
      for (const auto& [name, offset] : {std::pair{"cov", 13}, std::pair{"icov", 13 + 169}}) {
        out += ",\n";
        append_key(out, 8, name);
        out += '[';
        for (int row = 0; row < 13; ++row) {
          if (row > 0) out += ", ";
          append_list(out, d.list.data() + offset + 13 * row, 13);
        }
        out += ']';
      }
      out += "\n    }";
      break;
    }
    case Descriptor::Kind::kString:
      out += '"';
      out += d.text;
      out += '"';
      break;
  }
}

void append_section(std::string& out, std::string_view name, const std::vector<Descriptor>& section,
                    bool last) {
  std::vector<const Descriptor*> order;
  for (const auto& d : section) order.push_back(&d);
  std::sort(order.begin(), order.end(), [](const Descriptor* a, const Descriptor* b) {
    const int ga = group_of(a->kind), gb = group_of(b->kind);
    return ga != gb ? ga < gb : a->name < b->name;
  });
  out += '"';
  out += name;
  out += "\": {\n";
  for (std::size_t i = 0; i < order.size(); ++i) {
    append_descriptor(out, *order[i]);
    out += i + 1 < order.size() ? ",\n" : "\n";
  }
  out += last ? "}\n" : "},\n";
}

void append_metadata(std::string& out, const TrackDescriptors& d, const Track& track,
                     std::uint64_t seed) {
  const std::string_view path = track.path;
  const std::string_view file_name = path.substr(path.find_last_of('/') + 1);
  out += "\"metadata\": {\n";
  out += "    \"audio_properties\": {\n";
  out += "        \"analysis_sample_rate\": 44100,\n";
  out += fmt::format("        \"bit_rate\": {},\n", d.bit_rate);
  out += "        \"equal_loudness\": 0,\n";
  out += "        \"length\": ";
  append_number(out, d.length);
  out += ",\n        \"lossless\": 0,\n";
  out += "        \"replay_gain\": ";
  append_number(out, d.replay_gain);
  out += ",\n        \"sample_rate\": 44100,\n";
  out += "        \"codec\": \"mp3\",\n";
  out += "        \"downmix\": \"mix\",\n";
  out += fmt::format("        \"md5_encoded\": \"{}\"\n", d.md5);
  out += "    },\n";
  // The tags say plainly what the file is; values are lists of strings except file_name, as in
  // AcousticBrainz files.
  out += "    \"tags\": {\n";
  out += fmt::format("        \"album\": [\"{}\"],\n", track.album_id);
  out += fmt::format("        \"artist\": [\"{}\"],\n", track.artist_id);
  out += fmt::format(
      "        \"comment\": [\"SYNTHETIC DATA: written by moodboost synth (model {}, seed {}), not "
      "extracted from audio\"],\n",
      kSynthModelVersion, seed);
  out += fmt::format("        \"file_name\": \"{}\",\n", file_name);
  out += fmt::format("        \"title\": [\"{}\"]\n", track.track_id);
  out += "    },\n";
  out += "    \"version\": {\n";
  out += "        \"essentia\": \"2.1-beta2\",\n";
  out += "        \"essentia_git_sha\": \"v2.1_beta2\",\n";
  out += "        \"extractor\": \"music 1.0\",\n";
  out += fmt::format("        \"essentia_build_sha\": \"synthetic-moodboost-{}\"\n", version());
  out += "    }\n";
  out += "},\n";
}

}  // namespace

void write_essentia_json(const TrackDescriptors& d, const Track& track, std::uint64_t seed,
                         std::string& out) {
  out.clear();
  out += "{\n";
  append_section(out, "lowlevel", d.lowlevel, false);
  append_metadata(out, d, track, seed);
  append_section(out, "rhythm", d.rhythm, false);
  append_section(out, "tonal", d.tonal, true);
  out += '}';  // Essentia ends the file without a newline
}

}  // namespace moodboost::detail
