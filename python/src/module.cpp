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

std::vector<std::string> relpaths_of(const mb::Split& split) {
  std::vector<std::string> out;
  for (const auto& track : split.tracks) out.push_back(mb::feature_relpath(track).string());
  return out;
}

std::vector<std::string> ids_of(const mb::Split& split) {
  std::vector<std::string> out;
  for (const auto& track : split.tracks) out.push_back(track.track_id);
  return out;
}

py::tuple load_features(const fs::path& features, const fs::path& split_tsv,
                        const std::optional<fs::path>& schema, const py::kwargs& kwargs) {
  const mb::FeatureOptions options = feature_options(kwargs, {});
  mb::LoadedFeatures loaded;
  {
    py::gil_scoped_release release;
    const mb::Split split = mb::read_split(split_tsv);
    std::optional<mb::FeatureSchema> saved;
    if (schema) saved = mb::FeatureSchema::load(*schema);
    loaded = mb::load_features(features, relpaths_of(split), ids_of(split), options,
                               saved ? &*saved : nullptr);
  }
  std::vector<std::string> names = loaded.schema.column_names();
  return py::make_tuple(to_numpy(std::move(loaded.matrix)), names);
}

py::tuple load_split(const fs::path& split_tsv, const py::object& tags) {
  const mb::Split split = mb::read_split(split_tsv);
  const std::vector<std::string> vocabulary =
      py::isinstance<py::str>(tags) ||
              py::isinstance(tags, py::module_::import("pathlib").attr("PurePath"))
          ? mb::read_tag_list(py::cast<fs::path>(tags))
          : py::cast<std::vector<std::string>>(tags);
  mb::LabelMatrix labels = mb::label_matrix(split, vocabulary, mb::UnknownTagPolicy::kError);
  py::array_t<bool> out({labels.rows(), labels.cols()});
  std::copy(labels.data(), labels.data() + labels.size(),
            reinterpret_cast<std::uint8_t*>(out.mutable_data()));
  return py::make_tuple(ids_of(split), out);
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
  for (const mb::TagRecord& r : records) {
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
    summary.append(d);
  }
  return summary;
}

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

  m.def("load_features", &load_features, py::arg("features_dir"), py::arg("split_tsv"),
        py::arg("schema") = py::none(),
        "Feature matrix of a split's tracks: (X, names), X float32 (rows = tracks in split "
        "order), equal to `moodboost flatten`. schema: a saved schema.json (e.g. a model's). "
        "Keywords: the loader options of the command line (covariance='full'|'upper'|'none', "
        "basic, include, exclude, drop_constant, beats_summary, non_finite, lenient, missing, "
        "max_file_bytes, threads, cache).");
  m.def("load_split", &load_split, py::arg("split_tsv"), py::arg("tags"),
        "(track ids, labels): labels a bool array, tracks x tags; tags is a list or a tag file");
  m.def("evaluate", &evaluate, py::arg("groundtruth"), py::arg("predictions"),
        py::arg("decisions") = py::none(),
        "The official metrics, keyed by their names ('ROC-AUC-macro', 'PR-AUC-macro', ...)");
  m.def("train", &train, py::arg("features"), py::arg("splits"), py::arg("out"),
        py::arg("tags") = py::none(), py::arg("device") = "cpu",
        "Trains a model directory as `moodboost train` does; keywords are its options "
        "(params=['max_depth=3'], rounds, early_stopping, eval_metric, trials, budget_minutes, "
        "tune_per_tag, cv, family, scale_pos_weight, refit, thread_strategy, seed, restart) and "
        "the loader options. Returns one dict per tag.");

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
