// Synthetic feature files, the marker file and SYNTHETIC.md (see synth.hpp).
#include "moodboost/synth.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <set>

#include "detail/synth_model.hpp"
#include "moodboost/error.hpp"
#include "moodboost/io.hpp"
#include "moodboost/version.hpp"

namespace moodboost {
namespace {

// Flushes the file system holding `dir` once (Linux syncfs), after thousands of files were
// written with deferred durability: one flush instead of one fsync per file.
void sync_file_system(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw IoError(dir, "cannot open directory to sync it");
  const int rc = ::syncfs(fd);
  ::close(fd);
  if (rc != 0) throw IoError(dir, "syncfs failed");
}

// 0 means OpenMP's default (all cores); without OpenMP everything runs on one thread.
int resolve_threads(int requested) {
#ifdef _OPENMP
  return requested > 0 ? requested : omp_get_max_threads();
#else
  (void)requested;
  return 1;
#endif
}

}  // namespace

std::string synthetic_feature_json(const Track& track, std::uint64_t seed) {
  std::string out;
  detail::write_essentia_json(detail::synthesize_track(track, seed), track, seed, out);
  return out;
}

SynthFeatureSummary write_synthetic_features(const std::filesystem::path& features_dir,
                                             std::span<const Track> tracks,
                                             const SynthFeatureOptions& options) {
  if (options.threads < 0) {
    throw InvalidArgument(
        fmt::format("threads must be 0 (all cores) or more, got {}", options.threads));
  }
  const int threads = resolve_threads(options.threads);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::filesystem::path> paths;
  std::set<std::filesystem::path> seen, dirs;
  for (const auto& track : tracks) {
    paths.push_back(features_dir / feature_relpath(track));
    if (!seen.insert(paths.back()).second) {
      throw DataError(fmt::format("two tracks have the feature file {} (track {})",
                                  paths.back().string(), track.track_id));
    }
    dirs.insert(paths.back().parent_path());
  }
  // Directories first, serially, so that parallel writers never race to create them.
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw IoError(dir, "cannot create directory: " + ec.message());
  }

  const auto n = static_cast<std::ptrdiff_t>(tracks.size());
  std::atomic<std::size_t> done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  std::uintmax_t bytes = 0;
#pragma omp parallel num_threads(threads) reduction(+ : bytes)
  {
    std::string json;
#pragma omp for schedule(dynamic, 16)
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      if (failed.load(std::memory_order_relaxed)) continue;
      try {
        const auto& track = tracks[static_cast<std::size_t>(i)];
        detail::write_essentia_json(detail::synthesize_track(track, options.seed), track,
                                    options.seed, json);
        write_file_atomic(paths[static_cast<std::size_t>(i)], json,
                          AtomicFile::Durability::kDeferred);
        bytes += json.size();
        const std::size_t finished = done.fetch_add(1) + 1;
        if (options.progress) options.progress(finished, tracks.size());
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed.store(true);
      }
    }
  }
  if (first_error) std::rethrow_exception(first_error);

  SynthMarker marker;
  marker.seed = options.seed;
  marker.model = std::string(kSynthModelVersion);
  marker.moodboost_version = version();
  marker.files = tracks.size();
  // One flush for all feature files, then the marker, durably: a marker on disk means that the
  // files it describes are on disk too.
  if (options.sync) sync_file_system(features_dir);
  write_file_atomic(
      features_dir / kSynthMarkerFile, format_synth_marker(marker),
      options.sync ? AtomicFile::Durability::kFsync : AtomicFile::Durability::kDeferred);

  SynthFeatureSummary summary;
  summary.files = tracks.size();
  summary.bytes = bytes;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary.threads = threads;
  return summary;
}

std::string format_synth_marker(const SynthMarker& marker) {
  return fmt::format(
      "{{\n"
      "  \"synthetic\": true,\n"
      "  \"generator\": \"moodboost synth\",\n"
      "  \"model\": \"{}\",\n"
      "  \"moodboost_version\": \"{}\",\n"
      "  \"seed\": {},\n"
      "  \"files\": {},\n"
      "  \"note\": \"SYNTHETIC DATA: the feature files in this directory were generated by "
      "moodboost synth with a planted, documented tag-dependent signal (see SYNTHETIC.md beside "
      "this directory). They are not features of real audio; results on them say nothing about "
      "music.\"\n"
      "}}\n",
      marker.model, marker.moodboost_version, marker.seed, marker.files);
}

std::optional<SynthMarker> read_synth_marker(const std::filesystem::path& features_dir) {
  const std::filesystem::path file = features_dir / kSynthMarkerFile;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  const std::string text = read_file(file, 1u << 20);
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    throw ParseError(file, fmt::format("byte {}", doc.GetErrorOffset()),
                     rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) throw ParseError(file, "/", "expected a JSON object");
  const auto member = [&](const char* name) -> const rapidjson::Value& {
    const auto it = doc.FindMember(name);
    if (it == doc.MemberEnd()) throw ParseError(file, "/", fmt::format("missing \"{}\"", name));
    return it->value;
  };
  if (!member("synthetic").IsBool() || !member("synthetic").GetBool()) {
    throw ParseError(file, "/synthetic", "expected true");
  }
  SynthMarker marker;
  if (!member("seed").IsUint64()) throw ParseError(file, "/seed", "expected an unsigned integer");
  marker.seed = member("seed").GetUint64();
  if (!member("files").IsUint64()) throw ParseError(file, "/files", "expected an unsigned integer");
  marker.files = static_cast<std::size_t>(member("files").GetUint64());
  if (!member("model").IsString()) throw ParseError(file, "/model", "expected a string");
  marker.model = member("model").GetString();
  if (!member("moodboost_version").IsString()) {
    throw ParseError(file, "/moodboost_version", "expected a string");
  }
  marker.moodboost_version = member("moodboost_version").GetString();
  return marker;
}

}  // namespace moodboost
