// `moodboost schema FILE.json`: the columns a feature file (or a saved schema) gives, with their
// families, and the counts per section and group.
#include <fmt/format.h>

#include <memory>

#include "command.hpp"
#include "feature_options.hpp"
#include "moodboost/feature_schema.hpp"
#include "moodboost/features.hpp"
#include "moodboost/io.hpp"

namespace moodboost::app {
namespace {

struct SchemaArgs {
  std::filesystem::path file;
  std::filesystem::path save;
  bool counts_only = false;
  FeatureCliOptions features;
};

// A saved schema names its format in its first lines; anything else is read as a feature file.
bool is_saved_schema(const std::string& text) {
  return text.substr(0, 200).find("\"moodboost-feature-schema\"") != std::string::npos;
}

void print_schema(const FeatureSchema& schema, const std::string& source, bool counts_only) {
  const std::size_t numeric = schema.numeric_count();
  fmt::print("# {}: {} columns ({} numeric, {} one-hot) from {} fields\n", source, schema.size(),
             numeric, schema.size() - numeric, schema.fields().size());
  std::string sections;
  for (const auto& [section, count] : schema.counts_per_section()) {
    sections += fmt::format("{}{} {}", sections.empty() ? "" : ", ", section, count);
  }
  fmt::print("# per section: {}\n", sections);
  std::string groups;
  for (const auto& [group, count] : schema.counts_per_group()) {
    groups += fmt::format("{}{} {}", groups.empty() ? "" : ", ", group, count);
  }
  fmt::print("# per group: {}\n", groups);
  if (counts_only) return;
  fmt::print("index\tname\tsection\tdescriptor\tstatistic\tgroup\n");
  const auto& columns = schema.columns();
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const Column& c = columns[i];
    fmt::print("{}\t{}\t{}\t{}\t{}\t{}\n", i, c.name, c.section, c.descriptor, c.statistic,
               c.group);
  }
}

const RegisterCommand kSchema{
    {"schema",
     "Print the feature columns of a feature file (or a saved schema) with their families", 30,
     [](CLI::App& sub) -> CommandRunner {
       auto args = std::make_shared<SchemaArgs>();
       sub.add_option("FILE", args->file,
                      "An Essentia/AcousticBrainz low-level JSON file, or a schema saved by "
                      "moodboost (schema.json)")
           ->required()
           ->check(CLI::ExistingFile);
       sub.add_option("--save", args->save, "Also write the schema as JSON to this file");
       sub.add_flag("--counts", args->counts_only, "Print only the counts, not every column");
       add_feature_options(sub, args->features, /*column_selection=*/true,
                           /*with_execution=*/false);
       sub.footer(
           "Columns are named by their JSON path, then statistic and index "
           "(lowlevel.mfcc.cov.3.7, tonal.key_key=A#). Lines starting with '#' are the summary; "
           "the rest is a tab-separated table.");
       return [args] {
         const FeatureOptions options = to_feature_options(args->features);
         const std::string text = read_file(args->file, options.max_file_bytes, "--max-file-bytes");
         const FeatureSchema schema =
             is_saved_schema(text) ? FeatureSchema::from_json(text, args->file)
                                   : select_columns(discover_fields(text, args->file), options);
         print_schema(schema, args->file.string(), args->counts_only);
         if (!args->save.empty()) schema.save(args->save);
         return kExitOk;
       };
     }}};

}  // namespace
}  // namespace moodboost::app
