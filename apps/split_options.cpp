#include "split_options.hpp"

#include <fmt/format.h>

#include <optional>
#include <string>

#include "moodboost/error.hpp"

namespace moodboost::app {

CLI::Option_group* add_split_options(CLI::App& app, SplitOptions& options) {
  CLI::Option_group* group =
      app.add_option_group("Split set", "Which split files and tag vocabulary to use");
  group
      ->add_option("--splits", options.splits_dir,
                   "Directory with exactly one *-train.tsv, *-validation.tsv and *-test.tsv "
                   "(e.g. mtg-jamendo-dataset/data/splits/split-0)")
      ->check(CLI::ExistingDirectory);
  group->add_option("--train", options.train, "Training split TSV (overrides --splits)")
      ->check(CLI::ExistingFile);
  group->add_option("--validation", options.validation, "Validation split TSV (overrides --splits)")
      ->check(CLI::ExistingFile);
  group->add_option("--test", options.test, "Test split TSV (overrides --splits)")
      ->check(CLI::ExistingFile);
  group
      ->add_option("--tags", options.tags,
                   "Tag vocabulary, one tag per line, in matrix column order (default: the sorted "
                   "set of tags used in the split files)")
      ->check(CLI::ExistingFile);
  add_unknown_tags_option(*group, options.unknown_tags,
                          "What to do with a split tag missing from --tags: error (default), or "
                          "ignore (drop the label and report how many were dropped)");
  return group;
}

CLI::Option* add_unknown_tags_option(CLI::App& app, UnknownTagPolicy& policy,
                                     const std::string& description) {
  return app
      .add_option_function<std::string>(
          "--unknown-tags",
          [&policy](const std::string& mode) {
            policy = mode == "ignore" ? UnknownTagPolicy::kIgnore : UnknownTagPolicy::kError;
          },
          description)
      ->transform(CLI::IsMember({"error", "ignore"}, CLI::ignore_case))
      ->type_name("error|ignore");
}

SplitFiles resolve_split_files(const SplitOptions& options, SplitNeeds needs) {
  SplitFiles files;
  if (!options.splits_dir.empty()) files = find_split_files(options.splits_dir, false);
  if (!options.train.empty()) files.train = options.train;
  if (!options.validation.empty()) files.validation = options.validation;
  if (!options.test.empty()) files.test = options.test;

  const auto require = [&](bool needed, const std::filesystem::path& file, std::string_view kind) {
    if (!needed || !file.empty()) return;
    if (options.splits_dir.empty()) {
      throw InvalidArgument(fmt::format("no {0} split: give --splits DIR or --{0} FILE", kind));
    }
    throw InvalidArgument(fmt::format("no {0} split: {1} has no *-{0}.tsv; give --{0} FILE", kind,
                                      options.splits_dir.string()));
  };
  require(needs.train, files.train, "train");
  require(needs.validation, files.validation, "validation");
  require(needs.test, files.test, "test");
  return files;
}

SplitSet load_split_set(const SplitOptions& options, SplitNeeds needs) {
  const SplitFiles files = resolve_split_files(options, needs);
  std::optional<std::filesystem::path> tags;
  if (!options.tags.empty()) tags = options.tags;
  SplitSet set = moodboost::load_split_set(files, tags, options.unknown_tags);
  if (set.unknown_labels() > 0) {
    fmt::print(stderr,
               "moodboost: note: ignored {} labels whose tag is not in {} (train {}, validation "
               "{}, test {})\n",
               set.unknown_labels(), set.tags_file.string(), set.unknown_labels_train,
               set.unknown_labels_validation, set.unknown_labels_test);
  }
  return set;
}

}  // namespace moodboost::app
