// The resume check: the arguments and data fingerprint of a run (run.json), and claiming a model
// directory for it.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "detail/fnv1a.hpp"
#include "detail/json_util.hpp"
#include "detail/model_dir.hpp"
#include "moodboost/io.hpp"

namespace moodboost::detail {
namespace fs = std::filesystem;

// The arguments that decide what a run produces, as name -> value. Two runs with equal maps
// (and equal data) produce identical models, so a directory holding one may resume the other.
// Threads and the thread strategy are absent: they never change a model (tested).
std::map<std::string, std::string> run_arguments(const RunSettings& s) {
  std::map<std::string, std::string> args{
      {"params", params_text(s.boost.params)},
      {"linear_params", params_text(s.boost.linear_params)},
      {"rounds", std::to_string(s.boost.max_rounds)},
      {"early_stopping", std::to_string(s.boost.early_stopping)},
      {"eval_metric", s.boost.eval_metric},
      {"seed", std::to_string(s.boost.seed)},
      {"scale_pos_weight", to_string(s.boost.scale_pos_weight)},
      {"search_base", s.base_config.key()},
      {"search_linear_base", s.linear_base_config.key()},
      {"trials", std::to_string(s.tune.trials)},
      {"budget_seconds", number_text(s.tune.budget_seconds)},
      {"portfolio", s.tune.portfolio ? "true" : "false"},
      {"families", families_text(s.tune.families)},
      {"halving_eta", std::to_string(s.tune.eta)},
      {"first_stage_tags", std::to_string(s.tune.first_stage_tags)},
      {"tune_per_tag", s.tune.per_tag ? "true" : "false"},
      {"tune_seed", std::to_string(s.tune.seed)},
      {"cv_folds", std::to_string(s.cv_folds)},
      {"refit", to_string(s.refit)},
      {"device", to_string(s.engine.device)},
  };
  std::string fixed;
  for (const auto& name : s.tune.fixed_params) fixed += (fixed.empty() ? "" : ",") + name;
  for (const auto& name : s.tune.fixed_linear_params) {
    fixed += (fixed.empty() ? "linear:" : ",linear:") + name;
  }
  args["fixed_params"] = fixed + (s.tune.fixed_scale_pos_weight ? ";scale_pos_weight" : "");
  return args;
}

std::map<std::string, std::string> data_fingerprint(const TrainingData& data) {
  std::uint64_t features = kFnvOffset;
  if (data.train_source) {
    // The same hash as in memory (FNV-1a runs byte by byte), one batch of rows at a time.
    const RowBatchSource& rows = *data.train_source;
    const std::size_t batch =
        std::max<std::size_t>(1, (std::size_t{4} << 20) / std::max<std::size_t>(1, rows.cols()));
    std::vector<float> buffer;
    for (std::size_t first = 0; first < rows.rows(); first += batch) {
      const std::size_t count = std::min(batch, rows.rows() - first);
      buffer.resize(count * rows.cols());
      rows.read_rows(first, count, buffer.data());
      fnv_update(features, buffer.data(), buffer.size());
    }
  } else {
    fnv_update(features, data.train_x.data(), static_cast<std::size_t>(data.train_x.size()));
  }
  fnv_update(features, data.validation_x.data(),
             static_cast<std::size_t>(data.validation_x.size()));
  const std::string features_json = to_json(data.features);
  const std::string schema_json = data.schema.to_json();
  fnv_update(features, features_json.data(), features_json.size());
  fnv_update(features, schema_json.data(), schema_json.size());
  std::uint64_t labels = kFnvOffset;
  fnv_update(labels, data.train_y.data(), static_cast<std::size_t>(data.train_y.size()));
  fnv_update(labels, data.validation_y.data(), static_cast<std::size_t>(data.validation_y.size()));
  std::string tags;
  for (const auto& tag : data.tags) tags += tag + "\n";
  std::map<std::string, std::string> out{
      {"data.features", hex64(features) + " (" + std::to_string(data.train_rows()) + "+" +
                            std::to_string(data.validation_x.rows()) + " rows x " +
                            std::to_string(data.train_cols()) + " columns)"},
      {"data.labels", hex64(labels)},
      {"data.tags", fnv1a_hex(tags) + " (" + std::to_string(data.tags.size()) + " tags)"},
  };
  for (const auto& split : data.splits) out["data.split." + split.role] = split.hash;
  if (!data.train_groups.empty()) {
    std::string groups;
    for (const auto& group : data.train_groups) groups += group + "\n";
    out["data.groups"] = fnv1a_hex(groups);
  }
  return out;
}

std::string fingerprint_of(const std::map<std::string, std::string>& entries) {
  std::string text;
  for (const auto& [key, value] : entries) text += key + "=" + value + "\n";
  return fnv1a_hex(text);
}

// ---- run.json: the resume check ----------------------------------------------------------------

// Temporary files of AtomicFile writes that a killed run left behind (".<name>.tmp-<random>");
// they were never renamed into place, so nothing refers to them.
void remove_stale_temporaries(const fs::path& dir) {
  for (const fs::path& sub : {dir, dir / "models", dir / "records"}) {
    std::error_code ec;
    if (!fs::is_directory(sub, ec)) continue;
    for (const auto& entry : fs::directory_iterator(sub, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos) {
        fs::remove_all(entry.path(), ec);  // a file, or the external-memory pages' directory
      }
    }
  }
}

namespace {

// True when \p dir holds a per-tag record (a finished tag).
bool any_record(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir / "records", ec)) return false;
  for (const auto& entry : fs::directory_iterator(dir / "records", ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name[0] != '.' && entry.path().extension() == ".json") return true;
  }
  return false;
}

}  // namespace

RunLock::RunLock(const fs::path& dir) : file_(dir / ".lock") {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(dir, "cannot create the model directory: " + ec.message());
  fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw IoError(file_, std::string("cannot open the lock file: ") + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[32] = {0};
    (void)::pread(fd_, holder, sizeof(holder) - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) {
      std::string pid(holder);
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      throw DataError(dir.string() + " is being written by another moodboost process" +
                      (pid.empty() ? std::string() : " (pid " + pid + ")") +
                      ": wait for it to finish, or choose another --out directory");
    }
    throw IoError(file_, std::string("cannot lock: ") + std::strerror(error));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) (void)::pwrite(fd_, pid.data(), pid.size(), 0);
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock; the file stays (harmless)
}

void check_or_claim_dir(const fs::path& dir, const std::map<std::string, std::string>& entries,
                        bool restart, const RunHooks& hooks) {
  const fs::path file = dir / kRunFile;
  std::error_code ec;
  if (fs::exists(file, ec)) {
    const auto doc = parse_json(read_file(file), file);
    const auto old = string_map(member(doc, "arguments", file), file, "/arguments");
    if (old != entries) {
      std::vector<std::string> differ;
      for (const auto& [key, value] : entries) {
        const auto it = old.find(key);
        if (it == old.end() || it->second != value) differ.push_back(key);
      }
      for (const auto& [key, value] : old) {
        if (!entries.contains(key)) differ.push_back(key);
      }
      // A start that failed before its first finished tag (a wrong option found late, a kill
      // while loading) holds nothing worth keeping: the corrected command replaces it.
      const bool nothing_finished = !fs::exists(dir / kManifest, ec) && !any_record(dir);
      if (!restart && !nothing_finished) {
        std::string list;
        for (const auto& key : differ) list += (list.empty() ? "" : ", ") + key;
        throw InvalidArgument(dir.string() +
                              " holds a training run with other arguments or data "
                              "(differs in: " +
                              list +
                              "); give --restart to discard it, or "
                              "choose another --out directory");
      }
      if (hooks.message) {
        hooks.message(restart ? "restart: discarding the earlier run in " + dir.string()
                              : "replacing an earlier start in " + dir.string() +
                                    " that finished no tag (it had other arguments)");
      }
      for (const char* name : {kManifest, kTuningFile, kTrialsFile, kThresholdsFile, kSchemaFile}) {
        fs::remove(dir / name, ec);
      }
      fs::remove_all(dir / "records", ec);
      fs::remove_all(dir / "models", ec);
    }
  } else if (fs::exists(dir / kManifest, ec) || fs::exists(dir / "records", ec)) {
    if (!restart) {
      throw InvalidArgument(dir.string() +
                            " holds model files but no run.json; give --restart "
                            "to discard them, or choose another --out directory");
    }
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("format_version");
  w.Int(kFormatVersion);
  w.Key("fingerprint");
  w.String(fingerprint_of(entries).c_str());
  w.Key("arguments");
  write_string_map(w, entries);
  w.EndObject();
  write_file_atomic(file, std::string(buffer.GetString(), buffer.GetSize()) + "\n");
}

}  // namespace moodboost::detail
