#include "detail/xgb.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <mutex>

namespace moodboost::detail::xgb {

int major_version() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return major;
}

DMatrixPtr make_dmatrix(const float* data, std::size_t rows, std::size_t cols, int nthread) {
  DMatrixHandle handle = nullptr;
  MOODBOOST_XGB_CHECK(
      XGDMatrixCreateFromMat_omp(data, static_cast<bst_ulong>(rows), static_cast<bst_ulong>(cols),
                                 std::numeric_limits<float>::quiet_NaN(), &handle, nthread));
  return DMatrixPtr(handle);
}

void set_dense_batch(DMatrixHandle proxy, const float* data, std::size_t rows, std::size_t cols) {
  // NumPy's __array_interface__ (version 3), which XGBoost reads for dense host data.
  const std::string interface = R"({"data": [)" +
                                std::to_string(reinterpret_cast<std::uintptr_t>(data)) +
                                R"(, true], "shape": [)" + std::to_string(rows) + ", " +
                                std::to_string(cols) + R"(], "typestr": "<f4", "version": 3})";
  MOODBOOST_XGB_CHECK(XGProxyDMatrixSetDataDense(proxy, interface.c_str()));
}

struct ExternalDMatrix::Iterator {
  BatchFiller fill;
  DMatrixHandle proxy = nullptr;
  std::size_t next = 0;
  std::size_t batches = 0;
  std::exception_ptr error;

  // XGBoost's C callbacks: an exception must not cross them, so it ends the iteration (0) and
  // waits in `error` for the caller.
  static int on_next(DataIterHandle handle) {
    auto* self = static_cast<Iterator*>(handle);
    if (self->error) return 0;
    try {
      if (!self->fill(self->next, self->proxy)) return 0;
    } catch (...) {
      self->error = std::current_exception();
      return 0;
    }
    self->batches = std::max(self->batches, ++self->next);
    return 1;
  }
  static void on_reset(DataIterHandle handle) { static_cast<Iterator*>(handle)->next = 0; }
};

ExternalDMatrix make_external_dmatrix(BatchFiller fill, const std::filesystem::path& cache_prefix,
                                      int nthread) {
  ExternalDMatrix out;
  DMatrixHandle proxy = nullptr;
  MOODBOOST_XGB_CHECK(XGProxyDMatrixCreate(&proxy));
  out.proxy.reset(proxy);
  out.iterator = std::make_shared<ExternalDMatrix::Iterator>();
  out.iterator->fill = std::move(fill);
  out.iterator->proxy = proxy;
  // The prefix is a JSON string: escape what JSON requires.
  std::string prefix;
  for (const char c : cache_prefix.string()) {
    if (c == '"' || c == '\\') prefix.push_back('\\');
    prefix.push_back(c);
  }
  const std::string config = R"({"missing": NaN, "cache_prefix": ")" + prefix +
                             R"(", "nthread": )" + std::to_string(nthread) + "}";
  DMatrixHandle handle = nullptr;
  const int rc =
      XGDMatrixCreateFromCallback(out.iterator.get(), proxy, &ExternalDMatrix::Iterator::on_reset,
                                  &ExternalDMatrix::Iterator::on_next, config.c_str(), &handle);
  if (handle != nullptr) out.matrix.reset(handle);
  if (out.iterator->error) std::rethrow_exception(out.iterator->error);
  if (rc != 0) throw XgbError("XGDMatrixCreateFromCallback", XGBGetLastError());
  out.batches = out.iterator->batches;
  return out;
}

DMatrixPtr slice_rows(DMatrixHandle dmat, std::span<const int> rows) {
  DMatrixHandle handle = nullptr;
  MOODBOOST_XGB_CHECK(
      XGDMatrixSliceDMatrix(dmat, rows.data(), static_cast<bst_ulong>(rows.size()), &handle));
  return DMatrixPtr(handle);
}

void set_labels(DMatrixHandle dmat, std::span<const float> labels) {
  MOODBOOST_XGB_CHECK(
      XGDMatrixSetFloatInfo(dmat, "label", labels.data(), static_cast<bst_ulong>(labels.size())));
}

std::size_t num_rows(DMatrixHandle dmat) {
  bst_ulong rows = 0;
  MOODBOOST_XGB_CHECK(XGDMatrixNumRow(dmat, &rows));
  return static_cast<std::size_t>(rows);
}

Booster::Booster(std::span<const DMatrixHandle> cached) {
  BoosterHandle handle = nullptr;
  MOODBOOST_XGB_CHECK(
      XGBoosterCreate(cached.data(), static_cast<bst_ulong>(cached.size()), &handle));
  handle_.reset(handle);
}

Booster Booster::from_buffer(std::string_view model) {
  BoosterHandle handle = nullptr;
  MOODBOOST_XGB_CHECK(XGBoosterCreate(nullptr, 0, &handle));
  BoosterPtr owned(handle);
  MOODBOOST_XGB_CHECK(
      XGBoosterLoadModelFromBuffer(handle, model.data(), static_cast<bst_ulong>(model.size())));
  return Booster(std::move(owned));
}

void Booster::set_param(const std::string& key, const std::string& value) {
  MOODBOOST_XGB_CHECK(XGBoosterSetParam(handle_.get(), key.c_str(), value.c_str()));
}

void Booster::update(int iteration, DMatrixHandle dtrain) {
  MOODBOOST_XGB_CHECK(XGBoosterUpdateOneIter(handle_.get(), iteration, dtrain));
}

std::string Booster::eval(int iteration, DMatrixHandle dmat, const char* name) {
  DMatrixHandle dmats[] = {dmat};
  const char* names[] = {name};
  const char* out = nullptr;
  MOODBOOST_XGB_CHECK(XGBoosterEvalOneIter(handle_.get(), iteration, dmats, names, 1, &out));
  return out != nullptr ? std::string(out) : std::string();  // copy: XGBoost reuses the buffer
}

std::vector<float> Booster::predict(DMatrixHandle dmat, int iteration_end) {
  const std::string config = R"({"type": 0, "training": false, "iteration_begin": 0, )"
                             R"("iteration_end": )" +
                             std::to_string(iteration_end) + R"(, "strict_shape": false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  MOODBOOST_XGB_CHECK(
      XGBoosterPredictFromDMatrix(handle_.get(), dmat, config.c_str(), &shape, &dims, &result));
  bst_ulong size = 1;
  for (bst_ulong i = 0; i < dims; ++i) size *= shape[i];
  return std::vector<float>(result, result + size);  // copy: the buffer belongs to XGBoost
}

int Booster::boosted_rounds() const {
  int rounds = 0;
  MOODBOOST_XGB_CHECK(XGBoosterBoostedRounds(handle_.get(), &rounds));
  return rounds;
}

Booster Booster::slice(int begin, int end) const {
  BoosterHandle out = nullptr;
  MOODBOOST_XGB_CHECK(XGBoosterSlice(handle_.get(), begin, end, 1, &out));
  return Booster(BoosterPtr(out));
}

std::string Booster::save_json() const {
  bst_ulong size = 0;
  const char* data = nullptr;
  MOODBOOST_XGB_CHECK(
      XGBoosterSaveModelToBuffer(handle_.get(), R"({"format": "json"})", &size, &data));
  return std::string(data, static_cast<std::size_t>(size));
}

void Booster::set_attr(const std::string& key, const std::string& value) {
  MOODBOOST_XGB_CHECK(XGBoosterSetAttr(handle_.get(), key.c_str(), value.c_str()));
}

namespace {

std::mutex capture_mutex;  // one LogCapture at a time
std::mutex text_mutex;     // guards captured (XGBoost may log from several threads)
std::string captured;

void capture_message(const char* message) {
  const std::lock_guard lock(text_mutex);
  captured.append(message).push_back('\n');
}

// XGBoost's default console logger: the message and a newline on stderr.
void print_message(const char* message) { std::fprintf(stderr, "%s\n", message); }

}  // namespace

LogCapture::LogCapture() {
  capture_mutex.lock();
  {
    const std::lock_guard lock(text_mutex);
    captured.clear();
  }
  if (XGBRegisterLogCallback(capture_message) != 0) {
    const std::string error = XGBGetLastError();
    capture_mutex.unlock();
    throw XgbError("XGBRegisterLogCallback", error);
  }
}

LogCapture::~LogCapture() {
  (void)XGBRegisterLogCallback(print_message);
  capture_mutex.unlock();
}

std::string LogCapture::text() const {
  const std::lock_guard lock(text_mutex);
  return captured;
}

double parse_eval(std::string_view text, std::string_view name_metric) {
  // XGBoost formats each entry as "\t<name>-<metric>:<value>" after "[<iteration>]".
  std::size_t pos = 0;
  while ((pos = text.find(name_metric, pos)) != std::string_view::npos) {
    const bool starts_field = pos > 0 && (text[pos - 1] == '\t' || text[pos - 1] == ' ');
    const std::size_t colon = pos + name_metric.size();
    if (starts_field && colon < text.size() && text[colon] == ':') {
      double value = 0.0;
      const char* first = text.data() + colon + 1;
      const char* last = text.data() + text.size();
      const auto [end, ec] = std::from_chars(first, last, value);
      if (ec == std::errc() && end != first) return value;
      // XGBoost prints nan/inf through printf-style formatting; from_chars accepts those too.
      break;
    }
    pos = colon;
  }
  throw XgbError("XGBoosterEvalOneIter", "no number for '" + std::string(name_metric) + "' in \"" +
                                             std::string(text) + "\"");
}

}  // namespace moodboost::detail::xgb
