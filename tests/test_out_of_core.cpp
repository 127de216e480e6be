// Out-of-core training (`train --memory-limit`): the training matrix streamed in row batches
// into XGBoost's external-memory matrix gives the models in-memory training gives.
#include <rapidjson/document.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "detail/labels.hpp"
#include "moodboost/error.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/npy.hpp"
#include "moodboost/train.hpp"
#include "planted.hpp"
#include "support.hpp"

using namespace moodboost;
using namespace moodboost::test;
namespace fs = std::filesystem;

namespace {

// A FeatureMatrix behind the RowBatchSource interface, counting the rows it hands out.
class MatrixRows final : public RowBatchSource {
 public:
  explicit MatrixRows(const FeatureMatrix& x) : x_(x) {}
  [[nodiscard]] std::size_t rows() const override { return static_cast<std::size_t>(x_.rows()); }
  [[nodiscard]] std::size_t cols() const override { return static_cast<std::size_t>(x_.cols()); }
  void read_rows(std::size_t first, std::size_t count, float* out) const override {
    std::copy_n(x_.data() + first * cols(), count * cols(), out);
    rows_read_ += count;
    largest_batch_ = std::max(largest_batch_, count);
  }
  mutable std::size_t rows_read_ = 0;
  mutable std::size_t largest_batch_ = 0;

 private:
  const FeatureMatrix& x_;
};

std::vector<TagJob> jobs(int tags) {
  std::vector<TagJob> out;
  for (int t = 0; t < tags; ++t) {
    TagJob job;
    job.column = static_cast<std::size_t>(t);
    job.tag = "tag" + std::to_string(t);
    out.push_back(std::move(job));
  }
  return out;
}

BoostOptions sampled_options() {
  BoostOptions options;  // the defaults sample rows (0.8) and columns (0.5): the RNG must agree
  options.params["max_depth"] = "3";
  options.params["max_bin"] = "32";
  options.params["eta"] = "0.3";
  options.max_rounds = 40;
  options.early_stopping = 5;
  options.seed = 7;
  return options;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double out = 0;
  for (std::size_t i = 0; i < a.size(); ++i) out = std::max(out, std::fabs(a[i] - b[i]));
  return out;
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

bool has_pages_dir(const fs::path& model_dir) {
  for (const auto& entry : fs::directory_iterator(model_dir)) {
    if (entry.path().filename().string().starts_with(".external-memory")) return true;
  }
  return false;
}

// The tolerance asserted between out-of-core and in-memory predictions. Measured: 0 (XGBoost
// 1.7's external-memory hist builds the same quantile cuts for these sizes, where the sketch is
// exact, and draws the same row and column samples, so the trees are the same bit for bit); 1e-6
// leaves room for a float32 rounding in the summation order of another XGBoost build.
constexpr double kTolerance = 1e-6;

}  // namespace

TEST_CASE("out of core: a Trainer on row batches fits what the in-memory Trainer fits",
          "[train][out-of-core]") {
  const auto train = planted_split(500, 20, 3, 11);
  const auto valid = planted_split(200, 20, 3, 12);
  TempDir tmp;
  const EngineOptions engine{Device::kCpu, 2, ThreadStrategy::kPerTag};
  const BoostOptions options = sampled_options();

  Trainer in_memory(train.x, &valid.x, engine);
  const auto expected = in_memory.fit(train.y, &valid.y, jobs(3), options);

  const MatrixRows rows(train.x);
  std::vector<TagFit> fits;
  {
    Trainer out_of_core(rows, &valid.x, engine, {.batch_rows = 64, .cache_dir = tmp.path()});
    CHECK(out_of_core.strategy() == ThreadStrategy::kPerTag);
    fits = out_of_core.fit(train.y, &valid.y, jobs(3), options);
    // 500 rows in batches of 64: 8 batches, each row read once for every tag together.
    CHECK(out_of_core.external_batches() == 8);
    CHECK(rows.largest_batch_ == 64);
    CHECK(rows.rows_read_ == 500);
    bool pages = false;
    for (const auto& entry : fs::recursive_directory_iterator(tmp.path())) {
      pages = pages || entry.path().string().find(".page") != std::string::npos;
    }
    CHECK(pages);  // XGBoost's pages are on disk while the Trainer lives...
  }
  CHECK(fs::is_empty(tmp.path()));  // ... and gone with it

  REQUIRE(fits.size() == expected.size());
  for (std::size_t t = 0; t < fits.size(); ++t) {
    INFO("tag " << t);
    CHECK(fits[t].best_iteration == expected[t].best_iteration);
    CHECK(fits[t].rounds_trained == expected[t].rounds_trained);
    CHECK(max_abs_diff(fits[t].validation_scores, expected[t].validation_scores) <= kTolerance);
    const auto labels = detail::label_column(valid.y, t);
    CHECK(std::fabs(roc_auc(fits[t].validation_scores, labels) -
                    roc_auc(expected[t].validation_scores, labels)) <= kTolerance);
  }
}

TEST_CASE("out of core: the linear family and a GPU are refused", "[train][out-of-core]") {
  const auto train = planted_split(100, 8, 2, 3);
  TempDir tmp;
  const MatrixRows rows(train.x);
  Trainer trainer(rows, nullptr, {Device::kCpu, 1, ThreadStrategy::kAuto},
                  {.batch_rows = 16, .cache_dir = tmp.path()});
  auto linear = jobs(1);
  linear[0].family = Family::kLinear;
  CHECK_THROWS_AS(trainer.fit(train.y, nullptr, linear, sampled_options()), InvalidArgument);
  CHECK_THROWS_AS(Trainer(rows, nullptr, {Device::kCuda, 1, ThreadStrategy::kAuto},
                          {.batch_rows = 16, .cache_dir = tmp.path()}),
                  InvalidArgument);
  CHECK_THROWS_AS(Trainer(rows, nullptr, {Device::kCpu, 1, ThreadStrategy::kAuto},
                          {.batch_rows = 0, .cache_dir = tmp.path()}),
                  InvalidArgument);
}

TEST_CASE("out of core: train --memory-limit below the matrix gives the in-memory models",
          "[train][cli][out-of-core]") {
  TempDir tmp;
  // 300 x 150 training cells: 1.08 MB by the 24-byte estimate, just over the 1M limit
  // (1,048,576 bytes); batches of 1M / 32 / (150 x 4 bytes) = 54 rows.
  const auto data = write_planted_dataset(tmp / "data", 300, 200, 120, 150, 3, 47);
  auto in_memory = planted_train_args(data, tmp / "memory");
  in_memory.insert(in_memory.end(),
                   {"--cache", (tmp / "cache-memory").string(), "--refit", "train+validation"});
  const RunResult base = run_cli(in_memory);
  INFO(base.err);
  REQUIRE(base.exit_code == 0);

  // The out-of-core run keeps --cv and --family at auto: out of core they resolve to the
  // validation split and the trees, which the in-memory run names explicitly.
  std::vector<std::string> out_of_core = planted_train_args(data, tmp / "disk");
  out_of_core.resize(out_of_core.size() - 4);  // drop --cv 0 --family tree
  out_of_core.insert(out_of_core.end(), {"--cache", (tmp / "cache-disk").string(), "--refit",
                                         "train+validation", "--memory-limit", "1M"});
  const RunResult disk = run_cli(out_of_core);  // a cache miss: parsed, cached, then streamed
  INFO(disk.err);
  REQUIRE(disk.exit_code == 0);
  CHECK_THAT(disk.err, Catch::Contains("out-of-core: the training matrix (300 x 150") &&
                           Catch::Contains("in batches of 54 rows"));
  CHECK_THAT(disk.err, Catch::Contains("selection: held out on the validation split (out of "
                                       "core: XGBoost cannot slice an external-memory matrix"));
  const auto manifest = parse(read_text(tmp / "disk/manifest.json"));
  REQUIRE(manifest.HasMember("out_of_core"));
  const auto& ooc = manifest["out_of_core"];
  CHECK(ooc["used"].GetBool());
  CHECK(ooc["memory_limit"].GetUint64() == 1048576);
  CHECK(ooc["estimated_in_memory_bytes"].GetUint64() == 300u * 150u * 24u);
  CHECK(ooc["batch_rows"].GetUint64() == 54);
  CHECK(ooc["batches"].GetUint64() == 6);    // ceil(300 / 54)
  CHECK_FALSE(has_pages_dir(tmp / "disk"));  // XGBoost's pages were removed
  CHECK_FALSE(parse(read_text(tmp / "memory/manifest.json")).HasMember("out_of_core"));

  // The same models: predictions of the test split with the refit (default) and train-only
  // models, and the thresholds.
  CHECK(read_text(tmp / "disk/thresholds.tsv") == read_text(tmp / "memory/thresholds.tsv"));
  for (const char* models : {"default", "train"}) {
    INFO("--models " << models);
    for (const char* name : {"memory", "disk"}) {
      const RunResult predict = run_cli(
          {"predict", "--model", (tmp / name).string(), "--features", data.features.string(),
           "--split", (data.splits / "tiny-test.tsv").string(), "--models", models, "--out-dir",
           (tmp / (std::string("pred-") + name + models)).string()});
      INFO(predict.err);
      REQUIRE(predict.exit_code == 0);
    }
    const ScoreMatrix a =
        read_score_matrix(tmp / (std::string("pred-memory") + models) / "predictions.npy");
    const ScoreMatrix b =
        read_score_matrix(tmp / (std::string("pred-disk") + models) / "predictions.npy");
    REQUIRE(a.rows() == 120);
    REQUIRE(a.cols() == b.cols());
    const double diff = (a - b).cwiseAbs().maxCoeff();
    INFO("max |prediction difference| " << diff);
    CHECK(diff <= kTolerance);
  }

  // A second run reads the cache without holding the matrix (a hit), and resumes the finished
  // run: every tag is kept (the fingerprint, computed batch by batch, is the same).
  const RunResult again = run_cli(out_of_core);
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK_THAT(again.err, Catch::Contains("cache hit") && Catch::Contains("out-of-core:"));
  CHECK_THAT(again.err, Catch::Contains("resuming: 4 of 4 tags already trained"));

  // A limit the matrix fits trains in memory and says so.
  std::vector<std::string> roomy = out_of_core;
  roomy.back() = "3M";
  roomy[std::find(roomy.begin(), roomy.end(), "--out") - roomy.begin() + 1] =
      (tmp / "roomy").string();
  const RunResult fits = run_cli(roomy);
  INFO(fits.err);
  REQUIRE(fits.exit_code == 0);
  CHECK_THAT(fits.err, Catch::Contains("in memory: the training matrix (300 x 150"));
  CHECK_FALSE(parse(read_text(tmp / "roomy/manifest.json"))["out_of_core"]["used"].GetBool());
}

TEST_CASE(
    "out of core: a bad --memory-limit, or one with --cv K, --family linear or no --cache, "
    "is refused before any work",
    "[train][cli][out-of-core]") {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 40, 20, 10, 6, 2, 5);
  auto args_with = [&](std::vector<std::string> extra, const std::string& out = "out") {
    std::vector<std::string> args = planted_train_args(data, tmp / out);
    args.resize(args.size() - 4);  // drop --cv 0 --family tree
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const std::string cache = (tmp / "cache").string();
  for (const char* bad : {"abc", "0", "512", "1023K", "1.5G", "-1M", "4Q", "20000000T", ""}) {
    const RunResult run = run_cli(args_with({"--cache", cache, "--memory-limit", bad}));
    INFO(bad << ": " << run.err);
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::Contains("--memory-limit"));
  }
  const std::pair<std::vector<std::string>, const char*> refused[] = {
      {{"--cache", cache, "--memory-limit", "1G", "--cv", "5"}, "--cv 5 with --memory-limit"},
      {{"--cache", cache, "--memory-limit", "1G", "--family", "linear"},
       "--family linear with --memory-limit"},
      {{"--memory-limit", "4G"}, "--memory-limit needs the binary feature cache"},
  };
  for (const auto& [extra, message] : refused) {
    const RunResult run = run_cli(args_with(extra));
    INFO(run.err);
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::Contains(message));
  }
  CHECK_FALSE(fs::exists(tmp / "out"));
  CHECK_FALSE(fs::exists(tmp / "cache"));
  // A cache too small for the training matrix cannot serve out-of-core training: said, not hidden.
  const RunResult small = run_cli(
      args_with({"--cache", cache, "--cache-max-bytes", "100", "--memory-limit", "1M"}, "small"));
  INFO(small.err);
  CHECK(small.exit_code != 0);
  CHECK_THAT(small.err, Catch::Contains("out-of-core loading needs the feature cache") &&
                            Catch::Contains("--cache-max-bytes"));
  CHECK_FALSE(fs::exists(tmp / "small/manifest.json"));
  // Suffixes and plain bytes are accepted (a limit the matrix fits: trained in memory).
  for (const char* good : {"1048576", "1m", "2MiB", "1G"}) {
    const RunResult run = run_cli(args_with({"--cache", cache, "--memory-limit", good, "--cv", "0"},
                                            std::string("ok-") + good));
    INFO(good << ": " << run.err);
    CHECK(run.exit_code == 0);
  }
}
