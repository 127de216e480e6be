// `moodboost synth`: writes the built-in synthetic dataset (see moodboost/synth.hpp).
#include <fmt/format.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "moodboost/error.hpp"
#include "moodboost/io.hpp"
#include "moodboost/synth.hpp"
#include "progress.hpp"
#include "split_options.hpp"
#include "validators.hpp"

namespace moodboost::app {
namespace {

struct SynthArgs {
  std::filesystem::path out;
  SplitOptions splits;
  std::uint64_t seed = kDefaultSynthSeed;
  std::size_t tracks = 0;  // 0: not given
  int threads = 0;
};

bool splits_given(const SplitOptions& o) {
  return !o.splits_dir.empty() || !o.train.empty() || !o.validation.empty() || !o.test.empty();
}

std::string with_commas(std::uintmax_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

int run_synth(const SynthArgs& args) {
  const bool given = splits_given(args.splits);
  if (!given && !args.splits.tags.empty()) {
    throw InvalidArgument(
        "--tags applies to a given split set (--splits DIR or --train/"
        "--validation/--test FILE); a generated split set has the 56 split-0 tags");
  }
  if (given && args.tracks != 0) {
    throw InvalidArgument("--tracks applies only when synth generates the split set (no --splits)");
  }

  std::vector<Track> tracks;
  std::string summary;
  std::array<std::size_t, 3> sizes{};
  if (given) {
    const SplitSet set = load_split_set(args.splits, SplitNeeds{});
    const std::array<const Split*, 3> splits = {&set.train, &set.validation, &set.test};
    for (std::size_t s = 0; s < splits.size(); ++s) {
      if (!splits[s]->loaded()) continue;
      sizes[s] = splits[s]->tracks.size();
      tracks.insert(tracks.end(), splits[s]->tracks.begin(), splits[s]->tracks.end());
      if (!summary.empty()) summary += ", ";
      summary += fmt::format("{} {} tracks from {}", kSynthSplitNames[s], with_commas(sizes[s]),
                             splits[s]->file.string());
    }
    summary += fmt::format("; {} tags", set.tags.size());
  } else {
    SynthSplitOptions options;
    options.seed = args.seed;
    if (args.tracks != 0) options.tracks = args.tracks;
    const SynthSplitSet set = generate_synthetic_splits(options);
    for (std::size_t s = 0; s < set.splits.size(); ++s) {
      const auto file = args.out / "splits" / fmt::format("synthetic-{}.tsv", kSynthSplitNames[s]);
      write_file_atomic(file, format_split_tsv(set.splits[s]));
      sizes[s] = set.splits[s].size();
      tracks.insert(tracks.end(), set.splits[s].begin(), set.splits[s].end());
    }
    write_file_atomic(args.out / "tags.txt", format_tag_list(set.tags));
    summary =
        fmt::format("generated: {} / {} / {} tracks (train / validation / test), {} tags, in {}",
                    with_commas(sizes[0]), with_commas(sizes[1]), with_commas(sizes[2]),
                    set.tags.size(), (args.out / "splits").string());
  }

  SynthFeatureOptions options;
  options.seed = args.seed;
  options.threads = args.threads;
  ProgressLine progress("synth: writing feature files", "files");
  options.progress = progress.callback();
  const SynthFeatureSummary written =
      write_synthetic_features(args.out / "features", tracks, options);
  progress.finish();
  write_file_atomic(args.out / "SYNTHETIC.md", synth_model_markdown(args.seed, summary));

  fmt::print(
      "moodboost synth: wrote {} SYNTHETIC feature files ({:.1f} MB, {:.1f} KB per file on "
      "average) to {} in {:.1f} s with {} thread(s), seed {}, model {}. Split set: {}. These "
      "are not features of real audio: {} describes the planted signal and how to use the real "
      "MTG-Jamendo download instead.\n",
      with_commas(written.files), static_cast<double>(written.bytes) / 1e6,
      written.files > 0
          ? static_cast<double>(written.bytes) / 1024.0 / static_cast<double>(written.files)
          : 0.0,
      (args.out / "features").string(), written.seconds, written.threads, args.seed,
      kSynthModelVersion, summary, (args.out / "SYNTHETIC.md").string());
  return kExitOk;
}

const RegisterCommand kSynth{
    {"synth",
     "Write the built-in SYNTHETIC dataset: MTG-Jamendo-shaped splits and AcousticBrainz-shaped "
     "feature files with a planted, documented tag signal",
     5, [](CLI::App& sub) -> CommandRunner {
       auto args = std::make_shared<SynthArgs>();
       sub.add_option("--out", args->out,
                      "Output directory: features/NN/<id>.json, SYNTHETIC.md and, when the split "
                      "set is generated, splits/synthetic-{train,validation,test}.tsv and tags.txt "
                      "(existing files are replaced)")
           ->required();
       add_split_options(sub, args->splits)
           ->description(
               "Split set to synthesise features for (default: generate one shaped like "
               "MTG-Jamendo split-0)");
       sub.add_option("--seed", args->seed, "Seed of every random draw (same seed, same bytes)")
           ->capture_default_str();
       sub.add_option("--tracks", args->tracks,
                      fmt::format("Generate a proportionally smaller split set of N tracks in all "
                                  "(default: the real {}; tests use a few hundred)",
                                  kJamendoSplit0Tracks))
           ->check(whole_number(201, static_cast<std::int64_t>(kJamendoSplit0Tracks)));
       sub.add_option("--threads", args->threads, "Writer threads (default 0: all cores)")
           ->check(whole_number(0, kMaxThreadsOption));
       return [args] { return run_synth(*args); };
     }}};

}  // namespace
}  // namespace moodboost::app
