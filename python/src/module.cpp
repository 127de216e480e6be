// The `moodboost` Python module (pybind11): the library's loader, splits, metrics, model
// directories and training, over numpy arrays. Matrices come back without a copy (the numpy array
// owns the library's buffer through a capsule); the GIL is released while files are read and
// models trained; library errors become Python exceptions with the same messages.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/feature_record.hpp"
#include "moodboost/features.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/metrics_format.hpp"
#include "moodboost/model.hpp"
#include "moodboost/model_writer.hpp"
#include "moodboost/pipeline.hpp"
#include "moodboost/version.hpp"

namespace py = pybind11;
namespace fs = std::filesystem;
namespace mb = moodboost;

namespace {

// A row-major Eigen matrix handed to numpy without a copy: the array's base is a capsule that
// owns the matrix.
template <typename Matrix>
py::array_t<typename Matrix::Scalar> to_numpy(Matrix&& matrix) {
  using Scalar = typename Matrix::Scalar;
  auto* owned = new Matrix(std::move(matrix));
  py::capsule base(owned, [](void* p) { delete static_cast<Matrix*>(p); });
  const auto rows = static_cast<py::ssize_t>(owned->rows());
  const auto cols = static_cast<py::ssize_t>(owned->cols());
  return py::array_t<Scalar>(
      {rows, cols},
      {static_cast<py::ssize_t>(sizeof(Scalar)) * cols, static_cast<py::ssize_t>(sizeof(Scalar))},
      owned->data(), base);
}

mb::LabelMatrix to_labels(const py::array& array, const char* what) {
  const auto a =
      py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(array);
  if (!a || a.ndim() != 2) throw mb::InvalidArgument(std::string(what) + ": expected a 2-D array");
  mb::LabelMatrix out(a.shape(0), a.shape(1));
  std::copy(a.data(), a.data() + a.size(), out.data());
  return out;
}

mb::ScoreMatrix to_scores(const py::array& array, const char* what) {
  const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(array);
  if (!a || a.ndim() != 2) throw mb::InvalidArgument(std::string(what) + ": expected a 2-D array");
  mb::ScoreMatrix out(a.shape(0), a.shape(1));
  std::copy(a.data(), a.data() + a.size(), out.data());
  return out;
}

mb::FeatureMatrix to_features(const py::array& array) {
  const auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(array);
  if (!a || a.ndim() != 2) throw mb::InvalidArgument("X: expected a 2-D array");
  mb::FeatureMatrix out(a.shape(0), a.shape(1));
  std::copy(a.data(), a.data() + a.size(), out.data());
  return out;
}

// The loader's keyword options, as the CLI names them (--covariance upper -> covariance="upper").
mb::FeatureOptions feature_options(const py::kwargs& kwargs, mb::FeatureOptions o) {
  for (const auto& [key_handle, value] : kwargs) {
    const std::string key = py::cast<std::string>(key_handle);
    if (key == "covariance") {
      o.covariance = mb::parse_covariance(py::cast<std::string>(value));
    } else if (key == "basic") {
      o.basic_preset = py::cast<bool>(value);
    } else if (key == "include") {
      o.include = py::cast<std::vector<std::string>>(value);
    } else if (key == "exclude") {
      o.exclude = py::cast<std::vector<std::string>>(value);
    } else if (key == "drop_constant") {
      o.drop_constant = py::cast<bool>(value);
    } else if (key == "beats_summary") {
      o.summarize_beats = py::cast<bool>(value);
    } else if (key == "non_finite") {
      o.non_finite = mb::parse_non_finite(py::cast<std::string>(value));
    } else if (key == "lenient") {
      o.shape_mismatch =
          py::cast<bool>(value) ? mb::ShapePolicy::kMissing : mb::ShapePolicy::kError;
    } else if (key == "missing") {
      o.missing_files = mb::parse_missing_files(py::cast<std::string>(value));
    } else if (key == "max_file_bytes") {
      o.max_file_bytes = py::cast<std::uintmax_t>(value);
    } else if (key == "threads") {
      o.threads = py::cast<int>(value);
    } else if (key == "cache") {
      o.cache_dir = value.is_none() ? fs::path() : py::cast<fs::path>(value);
    } else {
      throw mb::InvalidArgument(
          "unknown feature option '" + key +
          "': expected covariance, basic, include, exclude, drop_constant, beats_summary, "
          "non_finite, lenient, missing, max_file_bytes, threads or cache");
    }
  }
  return o;
}

// A schema argument: a FeatureSchema, a path to a saved schema.json, or None.
std::optional<mb::FeatureSchema> schema_argument(const py::object& schema) {
  if (schema.is_none()) return std::nullopt;
  if (py::isinstance<mb::FeatureSchema>(schema)) return py::cast<mb::FeatureSchema>(schema);
  return mb::FeatureSchema::load(py::cast<fs::path>(schema));
}

// The tracks [start, stop) of \p split (Python's slice rules for a (start, stop) pair within
// bounds; InvalidArgument otherwise).
mb::Split slice_rows(mb::Split split, const py::object& rows) {
  if (rows.is_none()) return split;
  const auto range = py::cast<std::pair<std::size_t, std::size_t>>(rows);
  if (range.first > range.second || range.second > split.tracks.size()) {
    throw mb::InvalidArgument("rows (" + std::to_string(range.first) + ", " +
                              std::to_string(range.second) + "): expected 0 <= start <= stop <= " +
                              std::to_string(split.tracks.size()) + " (the split's tracks)");
  }
  split.tracks =
      std::vector<mb::Track>(split.tracks.begin() + static_cast<std::ptrdiff_t>(range.first),
                             split.tracks.begin() + static_cast<std::ptrdiff_t>(range.second));
  return split;
}

py::dict report_dict(const mb::LoadedFeatures& loaded, std::size_t first_row) {
  py::dict d;
  std::vector<std::size_t> kept;
  for (std::size_t r : loaded.kept_rows) kept.push_back(first_row + r);
  d["kept_rows"] = kept;
  d["files_parsed"] = loaded.report.files_parsed;
  d["bytes_parsed"] = loaded.report.bytes_parsed;
  d["files_missing"] = loaded.report.files_missing;
  d["unknown_fields"] = loaded.report.unknown_fields;
  d["synthetic"] = loaded.report.synthetic;
  d["threads"] = loaded.report.threads;
  d["seconds"] = loaded.report.seconds;
  return d;
}

py::tuple load_features(const fs::path& features, const fs::path& split_tsv,
                        const py::object& schema, const py::object& rows, bool report,
                        const py::kwargs& kwargs) {
  const mb::FeatureOptions options = feature_options(kwargs, {});
  const std::optional<mb::FeatureSchema> saved = schema_argument(schema);
  const std::size_t first_row =
      rows.is_none() ? 0 : py::cast<std::pair<std::size_t, std::size_t>>(rows).first;
  const mb::Split split = slice_rows(mb::read_split(split_tsv), rows);
  mb::LoadedFeatures loaded;
  {
    py::gil_scoped_release release;
    loaded = mb::load_features(features, mb::feature_relpaths(split), mb::track_ids(split), options,
                               saved ? &*saved : nullptr);
  }
  std::vector<std::string> names = loaded.schema.column_names();
  if (report) {
    py::dict d = report_dict(loaded, first_row);
    return py::make_tuple(to_numpy(std::move(loaded.matrix)), names, d);
  }
  return py::make_tuple(to_numpy(std::move(loaded.matrix)), names);
}

mb::FeatureSchema discover_schema(const fs::path& features, const fs::path& split_tsv,
                                  const py::kwargs& kwargs) {
  const mb::FeatureOptions options = feature_options(kwargs, {});
  py::gil_scoped_release release;
  return mb::discover_schema(features, mb::feature_relpaths(mb::read_split(split_tsv)), options);
}

py::tuple load_split(const fs::path& split_tsv, const py::object& tags,
                     const std::string& unknown_tags) {
  if (unknown_tags != "error" && unknown_tags != "ignore") {
    throw mb::InvalidArgument("unknown_tags '" + unknown_tags + "': expected error or ignore");
  }
  const mb::Split split = mb::read_split(split_tsv);
  const std::vector<std::string> vocabulary =
      py::isinstance<py::str>(tags) ||
              py::isinstance(tags, py::module_::import("pathlib").attr("PurePath"))
          ? mb::read_tag_list(py::cast<fs::path>(tags))
          : py::cast<std::vector<std::string>>(tags);
  mb::LabelMatrix labels = mb::label_matrix(
      split, vocabulary,
      unknown_tags == "error" ? mb::UnknownTagPolicy::kError : mb::UnknownTagPolicy::kIgnore);
  py::array_t<bool> out({labels.rows(), labels.cols()});
  std::copy(labels.data(), labels.data() + labels.size(),
            reinterpret_cast<std::uint8_t*>(out.mutable_data()));
  return py::make_tuple(mb::track_ids(split), out);
}

py::dict evaluate(const py::array& groundtruth, const py::array& predictions,
                  const py::object& decisions) {
  const mb::LabelMatrix truth = to_labels(groundtruth, "groundtruth");
  const mb::ScoreMatrix scores = to_scores(predictions, "predictions");
  mb::Evaluation evaluation;
  if (decisions.is_none()) {
    evaluation = mb::evaluate(truth, scores);
  } else {
    evaluation = mb::evaluate(truth, scores, to_labels(decisions, "decisions"));
  }
  py::dict out;
  for (const auto& metric : mb::named_metrics(evaluation)) {
    out[py::str(std::string(metric.name))] = metric.value;
  }
  return out;
}

// The training options: the CLI's, as keywords (rounds=300, cv="auto", family="auto", ...); the
// rest are loader options.
mb::TrainOptions train_options(py::kwargs& kwargs) {
  mb::TrainOptions o;
  auto take = [&](const char* key, auto& field) {
    if (kwargs.contains(key)) {
      field = py::cast<std::decay_t<decltype(field)>>(kwargs[key]);
      PyDict_DelItemString(kwargs.ptr(), key);
    }
  };
  take("params", o.params);
  take("rounds", o.rounds);
  take("early_stopping", o.early_stopping);
  take("eval_metric", o.eval_metric);
  take("trials", o.trials);
  take("budget_minutes", o.budget_minutes);
  take("tune_per_tag", o.tune_per_tag);
  take("cv", o.cv);
  take("family", o.family);
  take("scale_pos_weight", o.scale_pos_weight);
  take("refit", o.refit);
  take("thread_strategy", o.thread_strategy);
  take("seed", o.seed);
  take("restart", o.restart);
  return o;
}

std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int /*signal*/) { g_interrupted.store(true); }

// SIGINT sets g_interrupted while the object lives; Python's handler is restored after.
struct SigintFlag {
  using Handler = void (*)(int);
  Handler previous;
  SigintFlag() : previous(std::signal(SIGINT, on_sigint)) { g_interrupted = false; }
  ~SigintFlag() { std::signal(SIGINT, previous); }
  SigintFlag(const SigintFlag&) = delete;
  SigintFlag& operator=(const SigintFlag&) = delete;
};

py::dict record_dict(const mb::TagRecord& r) {
  py::dict d;
  d["tag"] = r.tag;
  d["model"] = mb::to_string(r.model);
  d["heldout_pr_auc"] = r.heldout_pr_auc;
  d["validation_pr_auc"] = r.validation_pr_auc;
  d["validation_roc_auc"] = r.validation_roc_auc;
  d["threshold"] = r.threshold;
  py::list components;
  for (const auto& c : r.components) {
    py::dict cd;
    cd["family"] = mb::to_string(c.family);
    cd["weight"] = c.weight;
    cd["params"] = c.params;
    cd["rounds"] = c.best_iteration + 1;
    cd["file"] = c.model_file;
    components.append(cd);
  }
  d["components"] = components;
  return d;
}

py::list train(const fs::path& features, const fs::path& splits, const fs::path& out,
               const std::optional<fs::path>& tags, const std::string& device, py::kwargs kwargs) {
  mb::TrainOptions options = train_options(kwargs);
  mb::TrainingInputs inputs;
  inputs.features = features;
  inputs.splits = mb::find_split_files(splits, false);
  inputs.tags = tags;
  inputs.loader = feature_options(kwargs, mb::training_feature_options());
  options.threads = inputs.loader.threads;
  const mb::DeviceChoice choice = mb::resolve_device(mb::parse_device(device));
  mb::RunSettings settings =
      mb::make_run_settings(options, choice.device, {"moodboost", "python", "train"});
  std::vector<mb::TagRecord> records;
  bool interrupted = false;
  {
    py::gil_scoped_release release;
    const mb::TrainingData data = mb::load_training_data(inputs);
    (void)mb::resolve_selection(settings, options, static_cast<std::size_t>(data.train_x.rows()));
    mb::RunHooks hooks;
    // Ctrl-C stops between rounds (finished tags are kept, as in the CLI): Python handles signals
    // in its main thread only, and that thread is waiting here, so SIGINT sets a flag meanwhile.
    const SigintFlag sigint;
    hooks.fit.stop_requested = [] { return g_interrupted.load(); };
    try {
      records = mb::train_model_dir(data, settings, out, hooks);
    } catch (const mb::TrainingInterrupted&) {
      interrupted = true;
    }
  }
  if (interrupted) {
    PyErr_SetString(PyExc_KeyboardInterrupt,
                    ("training interrupted; finished tags are kept in " + out.string() +
                     ": train again with the same arguments to resume")
                        .c_str());
    throw py::error_already_set();
  }
  py::list summary;
  for (const mb::TagRecord& r : records) summary.append(record_dict(r));
  return summary;
}

// The settings of a run on the Python module's own trainers (moodboost.dask): trees only, held
// out on the validation split, no search. booster_plan() gives every tag's XGBoost parameters,
// so that those trainers set boosters up as Trainer does.
class TreeRunSettings {
 public:
  explicit TreeRunSettings(py::kwargs kwargs) {  // NOLINT: a copy, emptied as options are read
    options_ = train_options(kwargs);
    if (!kwargs.empty()) {
      throw mb::InvalidArgument("unknown training option '" +
                                py::cast<std::string>(kwargs.begin()->first) + "'");
    }
    if (options_.family != "tree" || options_.cv != "0" || options_.refit != "none" ||
        options_.trials.value_or(0) != 0 || options_.budget_minutes != 0 || options_.tune_per_tag) {
      throw mb::InvalidArgument(
          "this trainer takes family='tree', cv='0', refit='none' and no search (trials 0, no "
          "budget)");
    }
    settings_ = mb::make_run_settings(options_, mb::Device::kCpu, {});
    (void)mb::resolve_selection(settings_, options_, 0);
  }
  py::dict plan(std::size_t positives, std::size_t negatives, int threads) const {
    const mb::BoosterPlan p = mb::booster_plan(
        mb::Family::kTree, settings_.boost, settings_.base_config.params,
        settings_.base_config.scale_pos_weight, positives, negatives, mb::Device::kCpu, threads);
    py::dict d;
    d["params"] = p.params;
    d["max_rounds"] = p.max_rounds;
    d["patience"] = p.patience;
    d["base_score"] = p.base_score;
    d["scale_pos_weight"] = p.scale_pos_weight;
    return d;
  }
  const std::string& eval_metric() const { return settings_.boost.eval_metric; }
  bool maximize() const { return mb::metric_maximize(settings_.boost.eval_metric); }
  const mb::RunSettings& settings() const { return settings_; }

 private:
  mb::TrainOptions options_;
  mb::RunSettings settings_;
};

// A model directory written from boosters trained in Python (model_writer.hpp).
class PyModelDirWriter {
 public:
  PyModelDirWriter(const fs::path& out, const TreeRunSettings& settings, const fs::path& features,
                   const std::vector<std::string>& tags,
                   const std::vector<std::tuple<std::string, fs::path, std::size_t>>& splits,
                   const mb::FeatureSchema& schema, const py::array& validation_labels,
                   const std::map<std::string, std::string>& fingerprint,
                   const std::map<std::string, std::string>& trainer,
                   const std::vector<std::string>& command_line, bool restart,
                   const py::kwargs& kwargs) {
    mb::DataRecord data;
    data.tags = tags;
    for (const auto& [role, file, rows] : splits) {
      data.splits.push_back(mb::split_record(role, file, rows));
    }
    data.schema = schema;
    data.features.features_dir = features;
    data.features.columns = schema.size();
    std::error_code ec;
    data.features.synthetic = fs::exists(features / "moodboost-synthetic.json", ec);
    data.features.options = feature_options(kwargs, mb::training_feature_options());
    data.features.options.threads = 0;
    data.features.options.cache_dir.clear();
    data.fingerprint = fingerprint;
    mb::RunSettings run = settings.settings();
    run.command_line = command_line;
    run.restart = restart;
    mb::RunHooks hooks;
    hooks.message = [this](const std::string& line) { messages_.push_back(line); };
    writer_ = std::make_unique<mb::ModelDirWriter>(
        out, std::move(data), to_labels(validation_labels, "validation_labels"), run, trainer,
        hooks);
  }
  py::object finished(std::size_t index) const {
    const auto r = writer().finished(index);
    return r ? py::object(record_dict(*r)) : py::object(py::none());
  }
  py::dict add(std::size_t index, const std::string& model_json, int best_iteration,
               int rounds_trained, double best_score, double scale_pos_weight, double base_score,
               std::size_t positives, std::vector<double> validation_scores, double seconds) {
    mb::ExternalTreeFit fit;
    fit.index = index;
    fit.model_json = model_json;
    fit.best_iteration = best_iteration;
    fit.rounds_trained = rounds_trained;
    fit.best_score = best_score;
    fit.scale_pos_weight = scale_pos_weight;
    fit.base_score = base_score;
    fit.positives = positives;
    fit.validation_scores = std::move(validation_scores);
    fit.seconds = seconds;
    return record_dict(writer().add(fit));
  }
  py::list finish(int threads, const std::string& strategy) {
    py::list out;
    for (const auto& r : writer().finish(threads, mb::parse_thread_strategy(strategy))) {
      out.append(record_dict(r));
    }
    return out;
  }
  const std::vector<std::string>& messages() const { return messages_; }
  // Releases the directory's lock now: a Python object lives as long as a reference to it (a
  // traceback's frame keeps one), and a resume in the same process must not wait for that.
  void close() { writer_.reset(); }

 private:
  mb::ModelDirWriter& writer() const {
    if (!writer_) throw mb::InvalidArgument("the model directory writer is closed");
    return *writer_;
  }
  std::vector<std::string> messages_;
  std::unique_ptr<mb::ModelDirWriter> writer_;
};

// A loaded model directory.
class Model {
 public:
  Model(const fs::path& dir, const std::string& models, int threads)
      : model_(dir, mb::parse_model_choice(models), threads) {}

  py::array_t<double> predict(const py::array& x) const {
    mb::FeatureMatrix features = to_features(x);
    mb::ScoreMatrix scores;
    {
      py::gil_scoped_release release;
      scores = model_.predict(features);
    }
    return to_numpy(std::move(scores));
  }
  py::array_t<bool> decide(const py::array& scores) const {
    const mb::LabelMatrix d = model_.decide(to_scores(scores, "scores"));
    py::array_t<bool> out({d.rows(), d.cols()});
    std::copy(d.data(), d.data() + d.size(), reinterpret_cast<std::uint8_t*>(out.mutable_data()));
    return out;
  }
  const std::vector<std::string>& tags() const { return model_.tags(); }
  const std::vector<double>& thresholds() const { return model_.thresholds(); }
  std::vector<std::string> tag_models() const {
    std::vector<std::string> out;
    for (auto m : model_.tag_models()) out.push_back(mb::to_string(m));
    return out;
  }
  std::vector<std::string> columns() const { return model_.schema().column_names(); }

 private:
  mb::LoadedModel model_;
};

}  // namespace

PYBIND11_MODULE(_moodboost, m) {
  m.doc() = "moodboost: mood/theme auto-tagging on Essentia/AcousticBrainz descriptors";
  // The library's errors, with the same messages. Error is a RuntimeError; InvalidArgument is
  // also a ValueError, IoError also an OSError.
  static py::exception<mb::Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<mb::ParseError> parse_error(m, "ParseError", error.ptr());
  static py::exception<mb::DataError> data_error(m, "DataError", error.ptr());
  static py::exception<mb::XgbError> xgb_error(m, "XgbError", error.ptr());
  static py::object invalid_argument = py::reinterpret_steal<py::object>(
      PyErr_NewException("moodboost.InvalidArgument",
                         py::make_tuple(error, py::handle(PyExc_ValueError)).ptr(), nullptr));
  static py::object io_error = py::reinterpret_steal<py::object>(PyErr_NewException(
      "moodboost.IoError", py::make_tuple(error, py::handle(PyExc_OSError)).ptr(), nullptr));
  m.attr("InvalidArgument") = invalid_argument;
  m.attr("IoError") = io_error;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const mb::ParseError& e) {
      PyErr_SetString(parse_error.ptr(), e.what());
    } catch (const mb::DataError& e) {
      PyErr_SetString(data_error.ptr(), e.what());
    } catch (const mb::XgbError& e) {
      PyErr_SetString(xgb_error.ptr(), e.what());
    } catch (const mb::InvalidArgument& e) {
      PyErr_SetString(invalid_argument.ptr(), e.what());
    } catch (const mb::IoError& e) {
      PyErr_SetString(io_error.ptr(), e.what());
    } catch (const mb::Error& e) {
      PyErr_SetString(error.ptr(), e.what());
    }
  });

  m.attr("__version__") = mb::version();
  m.def("xgboost_version", &mb::xgboost_version, "The linked XGBoost's version");

  py::class_<mb::FeatureSchema>(m, "FeatureSchema",
                                "The columns of a feature matrix, in order (schema.json)")
      .def_static("load", &mb::FeatureSchema::load, py::arg("path"), "Reads a saved schema.json")
      .def_static(
          "from_json",
          [](const std::string& text) { return mb::FeatureSchema::from_json(text, "<schema>"); },
          py::arg("text"))
      .def("to_json", &mb::FeatureSchema::to_json)
      .def("save", &mb::FeatureSchema::save, py::arg("path"), "Writes schema.json atomically")
      .def_property_readonly("columns", &mb::FeatureSchema::column_names)
      .def("__len__", &mb::FeatureSchema::size)
      .def(
          "keep",
          [](const mb::FeatureSchema& schema, const std::vector<std::size_t>& indices) {
            std::vector<char> keep(schema.size(), 0);
            for (std::size_t i : indices) {
              if (i >= schema.size()) {
                throw mb::InvalidArgument("column " + std::to_string(i) + " out of range (" +
                                          std::to_string(schema.size()) + " columns)");
              }
              keep[i] = 1;
            }
            std::size_t index = 0;
            return schema.filtered([&](const mb::Column&) { return keep[index++] != 0; });
          },
          py::arg("indices"), "The schema of only the columns at indices (kept in schema order)")
      .def(py::pickle([](const mb::FeatureSchema& s) { return s.to_json(); },
                      [](const std::string& text) {
                        return mb::FeatureSchema::from_json(text, "<pickled schema>");
                      }));

  m.def("load_features", &load_features, py::arg("features_dir"), py::arg("split_tsv"),
        py::arg("schema") = py::none(), py::arg("rows") = py::none(), py::arg("report") = false,
        "Feature matrix of a split's tracks: (X, names), X float32 (rows = tracks in split "
        "order), equal to `moodboost flatten`. schema: a FeatureSchema or a saved schema.json "
        "(e.g. a model's). rows: (start, stop), only those tracks of the split. report=True adds "
        "a third item, a dict: kept_rows (split row of each matrix row), files_parsed, "
        "bytes_parsed, files_missing, unknown_fields, synthetic, threads, seconds. Keywords: the "
        "loader options of the command line (covariance='full'|'upper'|'none', basic, include, "
        "exclude, drop_constant, beats_summary, non_finite, lenient, missing, max_file_bytes, "
        "threads, cache).");
  m.def(
      "find_splits",
      [](const fs::path& dir) {
        const mb::SplitFiles files = mb::find_split_files(dir, false);
        py::dict d;
        for (const auto& [role, file] :
             {std::pair{"train", files.train}, std::pair{"validation", files.validation},
              std::pair{"test", files.test}}) {
          d[role] = file.empty() ? py::object(py::none()) : py::cast(file);
        }
        return d;
      },
      py::arg("splits_dir"),
      "The split files of a directory as `moodboost train --splits` finds them: a dict train, "
      "validation, test (None when absent)");
  m.def("discover_schema", &discover_schema, py::arg("features_dir"), py::arg("split_tsv"),
        "The FeatureSchema load_features discovers from its sample of the split's files (16, "
        "evenly spaced) without reading the others; drop_constant is not applied. Keywords: the "
        "loader options.");
  m.def("load_split", &load_split, py::arg("split_tsv"), py::arg("tags"),
        py::arg("unknown_tags") = "error",
        "(track ids, labels): labels a bool array, tracks x tags; tags is a list or a tag file; "
        "unknown_tags: 'error' (a tag outside the list is a ParseError) or 'ignore'");
  m.def("evaluate", &evaluate, py::arg("groundtruth"), py::arg("predictions"),
        py::arg("decisions") = py::none(),
        "The official metrics, keyed by their names ('ROC-AUC-macro', 'PR-AUC-macro', ...)");
  m.def("train", &train, py::arg("features"), py::arg("splits"), py::arg("out"),
        py::arg("tags") = py::none(), py::arg("device") = "cpu",
        "Trains a model directory as `moodboost train` does; keywords are its options "
        "(params=['max_depth=3'], rounds, early_stopping, eval_metric, trials, budget_minutes, "
        "tune_per_tag, cv, family, scale_pos_weight, refit, thread_strategy, seed, restart) and "
        "the loader options. Returns one dict per tag.");

  py::class_<TreeRunSettings>(m, "TreeRunSettings",
                              "Training options of a trees-only run held out on the validation "
                              "split, checked as `moodboost train` checks them")
      .def(py::init([](const py::kwargs& kwargs) { return TreeRunSettings(kwargs); }))
      .def("plan", &TreeRunSettings::plan, py::arg("positives"), py::arg("negatives"),
           py::arg("threads") = 0,
           "A tag's booster as moodboost trains it: dict(params, max_rounds, patience, "
           "base_score, scale_pos_weight)")
      .def_property_readonly("eval_metric", &TreeRunSettings::eval_metric)
      .def_property_readonly("maximize", &TreeRunSettings::maximize);

  py::class_<PyModelDirWriter>(m, "ModelDirWriter",
                               "A model directory written from boosters trained in Python, "
                               "resumable as `moodboost train`'s (model_writer.hpp)")
      .def(py::init<const fs::path&, const TreeRunSettings&, const fs::path&,
                    const std::vector<std::string>&,
                    const std::vector<std::tuple<std::string, fs::path, std::size_t>>&,
                    const mb::FeatureSchema&, const py::array&,
                    const std::map<std::string, std::string>&,
                    const std::map<std::string, std::string>&, const std::vector<std::string>&,
                    bool, const py::kwargs&>(),
           py::arg("out"), py::arg("settings"), py::arg("features_dir"), py::arg("tags"),
           py::arg("splits"), py::arg("schema"), py::arg("validation_labels"),
           py::arg("fingerprint"), py::arg("trainer"), py::arg("command_line"),
           py::arg("restart") = false)
      .def("finished", &PyModelDirWriter::finished, py::arg("index"),
           "The record of a finished tag (this run or an earlier one), or None")
      .def("add", &PyModelDirWriter::add, py::arg("index"), py::arg("model_json"),
           py::arg("best_iteration"), py::arg("rounds_trained"), py::arg("best_score"),
           py::arg("scale_pos_weight"), py::arg("base_score"), py::arg("positives"),
           py::arg("validation_scores"), py::arg("seconds"),
           "Writes a finished tag (model, then its record); returns its record")
      .def("finish", &PyModelDirWriter::finish, py::arg("threads"), py::arg("strategy"),
           "thresholds.tsv, schema.json, then manifest.json; returns the records")
      .def_property_readonly("messages", &PyModelDirWriter::messages)
      .def("close", &PyModelDirWriter::close,
           "Releases the directory (its lock); the writer cannot be used afterwards")
      .def("__enter__", [](PyModelDirWriter& w) -> PyModelDirWriter& { return w; })
      .def("__exit__", [](PyModelDirWriter& w, const py::args&) { w.close(); });

  py::class_<Model>(m, "Model")
      .def(py::init<const fs::path&, const std::string&, int>(), py::arg("model_dir"),
           py::arg("models") = "default", py::arg("threads") = 0)
      .def_static(
          "load",
          [](const fs::path& dir, const std::string& models, int threads) {
            return Model(dir, models, threads);
          },
          py::arg("model_dir"), py::arg("models") = "default", py::arg("threads") = 0,
          "Loads a model directory (default: the refit models when the run made them)")
      .def("predict", &Model::predict, py::arg("X"),
           "Scores, float64, rows of X x tags; X's columns are the model's (schema.json)")
      .def("decide", &Model::decide, py::arg("scores"), "score > threshold (strict), per tag")
      .def_property_readonly("tags", &Model::tags)
      .def_property_readonly("thresholds", &Model::thresholds)
      .def_property_readonly("tag_models", &Model::tag_models)
      .def_property_readonly("columns", &Model::columns);
}
