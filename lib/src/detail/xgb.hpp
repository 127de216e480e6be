// Private RAII wrapper over the XGBoost C API: owned handles with noexcept deleters, every
// return code checked (XgbError carries the call and XGBGetLastError()), and copies of anything
// XGBoost lends (predictions, evaluation strings, model buffers) before the next call.
#pragma once

#include <xgboost/c_api.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "moodboost/error.hpp"

/// Runs an XGBoost C API call and throws moodboost::XgbError("<call as written>",
/// XGBGetLastError()) when it returns non-zero.
#define MOODBOOST_XGB_CHECK(call)                                           \
  do {                                                                      \
    if ((call) != 0) throw ::moodboost::XgbError(#call, XGBGetLastError()); \
  } while (0)

namespace moodboost::detail::xgb {

/// Frees an XGBoost handle; a failure while freeing cannot be reported from a destructor.
template <auto Free>
struct HandleDeleter {
  void operator()(void* handle) const noexcept { (void)Free(handle); }
};
using DMatrixPtr = std::unique_ptr<void, HandleDeleter<&XGDMatrixFree>>;
using BoosterPtr = std::unique_ptr<void, HandleDeleter<&XGBoosterFree>>;

/// The linked XGBoost's major version (1 or 2...), from XGBoostVersion().
int major_version();

/// A dense row-major float matrix as an XGBoost DMatrix; NaN marks a missing value.
/// \p nthread threads build it (0 = XGBoost's default).
DMatrixPtr make_dmatrix(const float* data, std::size_t rows, std::size_t cols, int nthread);

/// Fills XGBoost's proxy matrix with batch \p batch (0-based) of an external-memory matrix:
/// call set_dense_batch(proxy, ...) once. Returns false when there is no such batch (the end).
using BatchFiller = std::function<bool(std::size_t batch, DMatrixHandle proxy)>;

/// Lends XGBoost a dense row-major float batch through its proxy matrix (array interface; NaN =
/// missing). \p data must stay valid until the next batch is asked for.
void set_dense_batch(DMatrixHandle proxy, const float* data, std::size_t rows, std::size_t cols);

/// An external-memory DMatrix (XGDMatrixCreateFromCallback): XGBoost pulls the batches from \p
/// fill once, writes its own pages next to \p cache_prefix (a path prefix in an existing
/// directory) and reads them back page by page while training. \p nthread threads build it. An
/// exception thrown by \p fill ends the iteration and is rethrown here. The iterator and the
/// proxy live as long as the returned matrix; returns the batch count through \p batches.
struct ExternalDMatrix {
  struct Iterator;
  std::shared_ptr<Iterator> iterator;  // must outlive matrix (XGBoost may iterate again)
  DMatrixPtr proxy;
  DMatrixPtr matrix;
  std::size_t batches = 0;
};
ExternalDMatrix make_external_dmatrix(BatchFiller fill, const std::filesystem::path& cache_prefix,
                                      int nthread);

/// The rows \p rows of \p dmat as a new matrix (XGDMatrixSliceDMatrix), in the order given.
DMatrixPtr slice_rows(DMatrixHandle dmat, std::span<const int> rows);

/// Replaces the "label" float info of \p dmat (one value per row).
void set_labels(DMatrixHandle dmat, std::span<const float> labels);

/// Number of rows of \p dmat.
std::size_t num_rows(DMatrixHandle dmat);

/// One booster. Not copyable; movable.
class Booster {
 public:
  /// A booster that caches predictions for \p cached (the training matrix and the
  /// evaluation matrices, as XGBoost's own training loop does).
  explicit Booster(std::span<const DMatrixHandle> cached);
  /// A booster read from an XGBoost model buffer (JSON or UBJSON, as XGBoost detects).
  static Booster from_buffer(std::string_view model);

  /// XGBoosterSetParam.
  void set_param(const std::string& key, const std::string& value);
  /// One boosting round on \p dtrain (XGBoosterUpdateOneIter).
  void update(int iteration, DMatrixHandle dtrain);
  /// XGBoosterEvalOneIter on one matrix named \p name; returns the text XGBoost prints,
  /// e.g. "[3]\tvalid-aucpr:0.412".
  std::string eval(int iteration, DMatrixHandle dmat, const char* name);
  /// Probabilities (binary:logistic) for every row of \p dmat from trees [0, iteration_end)
  /// (0 = all trees), copied out of XGBoost's buffer.
  std::vector<float> predict(DMatrixHandle dmat, int iteration_end = 0);
  /// Number of boosted rounds.
  int boosted_rounds() const;
  /// The rounds [begin, end) as a new booster (XGBoosterSlice).
  Booster slice(int begin, int end) const;
  /// The model as XGBoost JSON (XGBoosterSaveModelToBuffer with format "json").
  std::string save_json() const;
  /// Sets a string attribute stored in the saved model.
  void set_attr(const std::string& key, const std::string& value);

  /// The raw handle, for calls this wrapper does not cover.
  [[nodiscard]] BoosterHandle get() const noexcept { return handle_.get(); }

 private:
  explicit Booster(BoosterPtr handle) : handle_(std::move(handle)) {}
  BoosterPtr handle_;
};

/// XGBoost's log messages, captured while an object lives (XGBoost reports parameter validation
/// only through its log). The C API takes one process-wide plain function, so captures are
/// serialised (one at a time, a mutex held for the object's life); when the object goes, the
/// callback is replaced by one that prints to stderr as XGBoost's default logger does.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  /// The messages so far, one per line.
  [[nodiscard]] std::string text() const;
};

/// The value of "<name>-<metric>" in an XGBoosterEvalOneIter string ("[0]\tvalid-aucpr:0.5");
/// throws XgbError when it is absent or not a number.
double parse_eval(std::string_view text, std::string_view name_metric);

}  // namespace moodboost::detail::xgb
