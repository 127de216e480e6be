// The split-set options shared by every command that names a split set, so that they all read
// the same way:
//
//   --splits DIR          a directory with exactly one *-train.tsv, *-validation.tsv and
//                         *-test.tsv (as MTG-Jamendo's splits/split-0/)
//   --train FILE          the training split (overrides the one found in DIR)
//   --validation FILE     the validation split (overrides DIR's)
//   --test FILE           the test split (overrides DIR's)
//   --tags FILE           the tag vocabulary, one tag per line: the column order of every label
//                         matrix (default: the sorted set of tags used in the split files)
//   --unknown-tags MODE   error (default): a split tag missing from --tags is an error naming the
//                         file and line; ignore: such labels are dropped and counted on stderr
//
// Usage in a command's setup function:
//
//   auto splits = std::make_shared<SplitOptions>();
//   add_split_options(sub, *splits);
//   return [splits] {
//     const SplitSet set = load_split_set(*splits, {.train = true, .test = true});
//     ...
//   };
//
// A command states which splits it needs; a needed split that is neither found in DIR nor named
// is an error. Every split that is available is loaded (even one the command does not need), so
// that the default vocabulary, and hence the column order, is the same for every command.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>

#include "moodboost/dataset.hpp"

namespace moodboost::app {

/// The parsed values of the split-set options.
struct SplitOptions {
  std::filesystem::path splits_dir;  ///< --splits DIR (empty when not given)
  std::filesystem::path train;       ///< --train FILE
  std::filesystem::path validation;  ///< --validation FILE
  std::filesystem::path test;        ///< --test FILE
  std::filesystem::path tags;        ///< --tags FILE
  UnknownTagPolicy unknown_tags = UnknownTagPolicy::kError;  ///< --unknown-tags error|ignore
};

/// The splits a command cannot run without.
struct SplitNeeds {
  bool train = false;       ///< needs the training split
  bool validation = false;  ///< needs the validation split
  bool test = false;        ///< needs the test split
};

/// Declares the options above on \p app, in an option group titled "Split set", writing into
/// \p options (which must outlive the parse). Returns the group.
CLI::Option_group* add_split_options(CLI::App& app, SplitOptions& options);

/// Declares `--unknown-tags error|ignore` on \p app (a command or an option group), writing into
/// \p policy (which must outlive the parse); \p description says what each choice does there.
CLI::Option* add_unknown_tags_option(CLI::App& app, UnknownTagPolicy& policy,
                                     const std::string& description);

/// The split files named by \p options: those found in --splits DIR (a kind missing from DIR is
/// left empty), each replaced by --train/--validation/--test when given. Throws InvalidArgument
/// when a split in \p needs is missing ("no test split: give --splits DIR or --test FILE") and the
/// errors of find_split_files().
SplitFiles resolve_split_files(const SplitOptions& options, SplitNeeds needs);

/// resolve_split_files(), then moodboost::load_split_set() with --tags and --unknown-tags. When
/// labels were dropped (--unknown-tags ignore) prints one note with the counts on stderr.
SplitSet load_split_set(const SplitOptions& options, SplitNeeds needs);

}  // namespace moodboost::app
