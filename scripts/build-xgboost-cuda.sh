#!/usr/bin/env bash
# build-xgboost-cuda.sh -- build a CUDA-enabled libxgboost.so (XGBoost 1.7.4, Debian source)
# with CUDA 13 / CCCL 3.x, for one GPU architecture, static CUDA runtime, OpenMP, no NCCL.
#
# Usage:  build-xgboost-cuda.sh PREFIX [CUDA_ARCH=90] [JOBS=2]
#
# Input: a tree made by `apt-get source xgboost dmlc-core` (or `dpkg-source -x xgboost_1.7.4-1.dsc`),
# i.e. xgboost-1.7.4/ with the Debian quilt patches applied and empty dmlc-core/ gputreeshap/ cub/,
# plus an unpacked dmlc-core-0.5/ source.
#
# Environment overrides:
#   SRC_DIR    xgboost source tree        (default: <script dir>/xgboost-1.7.4)
#   DMLC_DIR   dmlc-core 0.5 source tree  (default: <script dir>/dmlc-core-0.5)
#   BUILD_DIR  cmake build directory      (default: ./build-xgboost-cuda)
#   CUDA_HOME  CUDA toolkit               (default: /usr/local/cuda)
#   STEPS      comma list of patch,configure,build,install   (default: all four)
#   NICE       niceness for the build     (default: 19)
#
# What it does (all idempotent, a marker file records the patch step):
#   1. reverse Debian patches cmake-soversion.patch (plain libxgboost.so, no symlinks) and
#      cmake-dmlc-core.patch (use the bundled dmlc-core again, linked statically);
#   2. copy dmlc-core-0.5 (without debian/, .pc/, Debian soversion patch reversed) to dmlc-core/;
#   3. write a minimal self-written gputreeshap stub (GPU SHAP raises an error);
#   4. apply the CMake + CUDA 13/CCCL 3 source patch embedded below;
#   5. configure (Ninja if present), build, `cmake --install --strip`.
set -euo pipefail

PREFIX=${1:?usage: $0 PREFIX [CUDA_ARCH=90] [JOBS=2]}
CUDA_ARCH=${2:-90}
JOBS=${3:-2}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=${SRC_DIR:-$HERE/xgboost-1.7.4}
DMLC_DIR=${DMLC_DIR:-$HERE/dmlc-core-0.5}
BUILD_DIR=${BUILD_DIR:-$PWD/build-xgboost-cuda}
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
STEPS=${STEPS:-patch,configure,build,install}
NICE=${NICE:-19}
mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)
SRC_DIR=$(cd "$SRC_DIR" && pwd)

has_step() { [[ ",$STEPS," == *",$1,"* ]]; }
log() { echo "[build-xgboost-cuda] $*"; }

###############################################################################
do_patch() {
  cd "$SRC_DIR"
  local marker=.xgboost-cuda13-patched
  if [[ -f $marker ]]; then log "source tree already patched ($SRC_DIR/$marker)"; return; fi
  [[ -f include/xgboost/c_api.h && -f debian/patches/cmake-dmlc-core.patch ]] \
    || { echo "error: $SRC_DIR is not the Debian xgboost 1.7.4 source tree" >&2; exit 1; }

  # 1. Undo Debian's soversion + system-dmlc patches (reverse order of debian/patches/series).
  if grep -q 'SOVERSION 0' CMakeLists.txt; then
    patch -R -p1 --no-backup-if-mismatch < debian/patches/cmake-soversion.patch
  fi
  if grep -q 'find_library(DMLC_LIBRARY dmlc)' CMakeLists.txt; then
    patch -R -p1 --no-backup-if-mismatch < debian/patches/cmake-dmlc-core.patch
  fi

  # 2. Bundled dmlc-core from the dmlc-core 0.5 source package.
  if [[ ! -f dmlc-core/CMakeLists.txt ]]; then
    [[ -f $DMLC_DIR/CMakeLists.txt ]] || { echo "error: no dmlc-core source at $DMLC_DIR" >&2; exit 1; }
    rm -rf dmlc-core && mkdir dmlc-core
    (cd "$DMLC_DIR" && tar --exclude=./debian --exclude=./.pc -cf - .) | (cd dmlc-core && tar -xf -)
    if grep -q 'VERSION 0 SOVERSION 0' dmlc-core/CMakeLists.txt && [[ -f $DMLC_DIR/debian/patches/soversion ]]; then
      patch -R -p1 -d dmlc-core --no-backup-if-mismatch < "$DMLC_DIR/debian/patches/soversion"
    fi
  fi

  # 3. Minimal GPUTreeShap stub (the real header-only library is not available here).
  mkdir -p gputreeshap/GPUTreeShap
  cat > gputreeshap/CMakeLists.txt <<'STUB_CMAKE_EOF'
# Minimal local replacement for the RAPIDS GPUTreeShap submodule (not shipped in
# the Debian orig tarball).  Header-only stub: GPU SHAP entry points raise an error.
add_library(GPUTreeShap INTERFACE)
target_include_directories(GPUTreeShap INTERFACE ${CMAKE_CURRENT_SOURCE_DIR})
STUB_CMAKE_EOF
  cat > gputreeshap/GPUTreeShap/gpu_treeshap.h <<'STUB_HEADER_EOF'
/*
 * Minimal stand-in for <GPUTreeShap/gpu_treeshap.h>.
 *
 * Written from scratch for a CUDA build of XGBoost 1.7.x whose source tree lacks the
 * gputreeshap submodule.  It only provides the declarations used by
 * src/predictor/gpu_predictor.cu.  GPU SHAP values are NOT available in this build:
 * GPUTreeShap()/GPUTreeShapInteractions() throw std::runtime_error, which the XGBoost
 * C API turns into a -1 return code with the message available from XGBGetLastError().
 * Compute SHAP contributions with the CPU predictor instead (predictor=cpu_predictor).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace gpu_treeshap {

/* One element of a root-to-leaf path, as filled in by XGBoost's ExtractPaths(). */
template <typename SplitConditionT>
struct PathElement {
  size_t path_idx;                  // unique id of the path this element belongs to
  int64_t feature_idx;              // feature of the split (-1 for the root/bias element)
  int group;                        // output group of the tree
  SplitConditionT split_condition;  // condition for taking this branch
  double zero_fraction;             // cover(child) / cover(parent)
  float v;                          // leaf value of the path
};

/* Flat index of interaction value (i, j) for the given row and output group. */
inline __host__ __device__ size_t IndexPhiInteractions(size_t row_idx, size_t num_groups,
                                                       size_t group, size_t num_columns,
                                                       size_t i, size_t j) {
  size_t matrix_size = (num_columns + 1) * (num_columns + 1);
  size_t matrix_offset = (row_idx * num_groups + group) * matrix_size;
  return matrix_offset + i * (num_columns + 1) + j;
}

namespace detail {
[[noreturn]] inline void GPUShapNotAvailable() {
  throw std::runtime_error(
      "GPU SHAP not available in this build (XGBoost compiled without the GPUTreeShap "
      "library); set predictor=cpu_predictor to compute SHAP contributions on the CPU.");
}
}  // namespace detail

template <typename DeviceAllocatorT = void, typename DatasetT, typename PathIteratorT,
          typename PhiIteratorT>
void GPUTreeShap(DatasetT, PathIteratorT, PathIteratorT, size_t, PhiIteratorT, PhiIteratorT) {
  detail::GPUShapNotAvailable();
}

template <typename DeviceAllocatorT = void, typename DatasetT, typename PathIteratorT,
          typename PhiIteratorT>
void GPUTreeShapInteractions(DatasetT, PathIteratorT, PathIteratorT, size_t, PhiIteratorT,
                             PhiIteratorT) {
  detail::GPUShapNotAvailable();
}

template <typename DeviceAllocatorT = void, typename DatasetT, typename PathIteratorT,
          typename PhiIteratorT>
void GPUTreeShapInterventional(DatasetT, DatasetT, PathIteratorT, PathIteratorT, size_t,
                               PhiIteratorT, PhiIteratorT) {
  detail::GPUShapNotAvailable();
}

}  // namespace gpu_treeshap
STUB_HEADER_EOF

  # 4. CMake (C++17/CUDA 17, arch list, no -lineinfo, no CLI) and CUDA 13 / CCCL 3.x fixes.
  patch -p1 --forward --no-backup-if-mismatch <<'SRC_PATCH_EOF'
--- a/CMakeLists.txt
+++ b/CMakeLists.txt
@@ -263,7 +263,7 @@
   ${xgboost_SOURCE_DIR}/dmlc-core/include
   ${xgboost_SOURCE_DIR}/rabit/include
 )
-set_target_properties(runxgboost PROPERTIES OUTPUT_NAME xgboost)
+set_target_properties(runxgboost PROPERTIES OUTPUT_NAME xgboost EXCLUDE_FROM_ALL ON)
 #-- End CLI for xgboost
 
 # Common setup for all targets
@@ -282,7 +282,7 @@
 set_output_directory(runxgboost ${xgboost_SOURCE_DIR})
 set_output_directory(xgboost ${xgboost_SOURCE_DIR}/lib)
 # Ensure these two targets do not build simultaneously, as they produce outputs with conflicting names
-add_dependencies(xgboost runxgboost)
+# CLI is not built/installed in this CUDA build (it would duplicate the whole library).
 
 #-- Installing XGBoost
 if (R_LIB)
@@ -320,7 +320,7 @@
 if (BUILD_STATIC_LIB)
   set(INSTALL_TARGETS xgboost runxgboost objxgboost dmlc)
 else (BUILD_STATIC_LIB)
-  set(INSTALL_TARGETS xgboost runxgboost)
+  set(INSTALL_TARGETS xgboost)
 endif (BUILD_STATIC_LIB)
 
 install(TARGETS ${INSTALL_TARGETS}
--- a/cmake/Utils.cmake
+++ b/cmake/Utils.cmake
@@ -106,6 +106,7 @@
   if (CMAKE_VERSION VERSION_GREATER_EQUAL "3.18")
     cmake_policy(SET CMP0104 NEW)
     list(GET flags -1 latest_arch)
+    list(REMOVE_AT flags -1)
     list(TRANSFORM flags APPEND "-real")
     list(APPEND flags ${latest_arch})
     set(CMAKE_CUDA_ARCHITECTURES ${flags})
@@ -157,8 +158,7 @@
     target_compile_options(${target} PRIVATE
       $<$<AND:$<CONFIG:DEBUG>,$<COMPILE_LANGUAGE:CUDA>>:-G;-src-in-ptx>)
   else (USE_DEVICE_DEBUG)
-    target_compile_options(${target} PRIVATE
-      $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo>)
+    # -lineinfo dropped to keep the fat binary small (CUDA 13 build).
   endif (USE_DEVICE_DEBUG)
 
   if (USE_NVTX)
@@ -185,7 +185,7 @@
       CUDA_SEPARABLE_COMPILATION OFF)
   else ()
     set_target_properties(${target} PROPERTIES
-      CUDA_STANDARD 14
+      CUDA_STANDARD 17
       CUDA_STANDARD_REQUIRED ON
       CUDA_SEPARABLE_COMPILATION OFF)
   endif (PLUGIN_RMM)
@@ -212,7 +212,7 @@
       POSITION_INDEPENDENT_CODE ON)
   else ()
     set_target_properties(${target} PROPERTIES
-      CXX_STANDARD 14
+      CXX_STANDARD 17
       CXX_STANDARD_REQUIRED ON
       POSITION_INDEPENDENT_CODE ON)
   endif (PLUGIN_RMM)
--- a/src/common/device_helpers.cuh
+++ b/src/common/device_helpers.cuh
@@ -1172,17 +1172,11 @@
 void InclusiveScan(InputIteratorT d_in, OutputIteratorT d_out, ScanOpT scan_op,
                    OffsetT num_items) {
   size_t bytes = 0;
-  safe_cuda((
-      cub::DispatchScan<InputIteratorT, OutputIteratorT, ScanOpT, cub::NullType,
-                        OffsetT>::Dispatch(nullptr, bytes, d_in, d_out, scan_op,
-                                           cub::NullType(), num_items, nullptr,
-                                           false)));
+  // CCCL 3.x: the public API picks a (64 bit) unsigned offset type from `num_items`.
+  safe_cuda((cub::DeviceScan::InclusiveScan(nullptr, bytes, d_in, d_out, scan_op, num_items)));
   TemporaryArray<char> storage(bytes);
-  safe_cuda((
-      cub::DispatchScan<InputIteratorT, OutputIteratorT, ScanOpT, cub::NullType,
-                        OffsetT>::Dispatch(storage.data().get(), bytes, d_in,
-                                           d_out, scan_op, cub::NullType(),
-                                           num_items, nullptr, false)));
+  safe_cuda((cub::DeviceScan::InclusiveScan(storage.data().get(), bytes, d_in, d_out, scan_op,
+                                            num_items)));
 }
 
 template <typename InIt, typename OutIt, typename Predicate>
@@ -1202,7 +1196,7 @@
 
 template <typename InputIteratorT, typename OutputIteratorT, typename OffsetT>
 void InclusiveSum(InputIteratorT d_in, OutputIteratorT d_out, OffsetT num_items) {
-  InclusiveScan(d_in, d_out, cub::Sum(), num_items);
+  InclusiveScan(d_in, d_out, cuda::std::plus<>(), num_items);
 }
 
 template <bool accending, typename IdxT, typename U>
@@ -1223,26 +1217,28 @@
   // track https://github.com/NVIDIA/cub/pull/340 for 64bit length support
   using OffsetT = std::conditional_t<!BuildWithCUDACub(), std::ptrdiff_t, int32_t>;
   CHECK_LE(sorted_idx.size(), std::numeric_limits<OffsetT>::max());
+  // CCCL 3.x: use the public API (results go to the `out` buffers, like the old
+  // Dispatch(..., is_overwrite_okay=false) call).
   if (accending) {
     void *d_temp_storage = nullptr;
-    safe_cuda((cub::DispatchRadixSort<false, KeyT, ValueT, OffsetT>::Dispatch(
-        d_temp_storage, bytes, d_keys, d_values, sorted_idx.size(), 0,
-        sizeof(KeyT) * 8, false, nullptr, false)));
+    safe_cuda((cub::DeviceRadixSort::SortPairs(
+        d_temp_storage, bytes, d_keys.Current(), d_keys.Alternate(), d_values.Current(),
+        d_values.Alternate(), sorted_idx.size(), 0, sizeof(KeyT) * 8)));
     TemporaryArray<char> storage(bytes);
     d_temp_storage = storage.data().get();
-    safe_cuda((cub::DispatchRadixSort<false, KeyT, ValueT, OffsetT>::Dispatch(
-        d_temp_storage, bytes, d_keys, d_values, sorted_idx.size(), 0,
-        sizeof(KeyT) * 8, false, nullptr, false)));
+    safe_cuda((cub::DeviceRadixSort::SortPairs(
+        d_temp_storage, bytes, d_keys.Current(), d_keys.Alternate(), d_values.Current(),
+        d_values.Alternate(), sorted_idx.size(), 0, sizeof(KeyT) * 8)));
   } else {
     void *d_temp_storage = nullptr;
-    safe_cuda((cub::DispatchRadixSort<true, KeyT, ValueT, OffsetT>::Dispatch(
-        d_temp_storage, bytes, d_keys, d_values, sorted_idx.size(), 0,
-        sizeof(KeyT) * 8, false, nullptr, false)));
+    safe_cuda((cub::DeviceRadixSort::SortPairsDescending(
+        d_temp_storage, bytes, d_keys.Current(), d_keys.Alternate(), d_values.Current(),
+        d_values.Alternate(), sorted_idx.size(), 0, sizeof(KeyT) * 8)));
     TemporaryArray<char> storage(bytes);
     d_temp_storage = storage.data().get();
-    safe_cuda((cub::DispatchRadixSort<true, KeyT, ValueT, OffsetT>::Dispatch(
-        d_temp_storage, bytes, d_keys, d_values, sorted_idx.size(), 0,
-        sizeof(KeyT) * 8, false, nullptr, false)));
+    safe_cuda((cub::DeviceRadixSort::SortPairsDescending(
+        d_temp_storage, bytes, d_keys.Current(), d_keys.Alternate(), d_values.Current(),
+        d_values.Alternate(), sorted_idx.size(), 0, sizeof(KeyT) * 8)));
   }
 
   safe_cuda(cudaMemcpyAsync(sorted_idx.data(), sorted_idx_out.data().get(),
@@ -1269,21 +1265,18 @@
   CHECK_LE(num_items, std::numeric_limits<OffsetT>::max());
   // For Thrust >= 1.12 or CUDA >= 11.4, we require system cub installation
 
-#if (THRUST_MAJOR_VERSION == 1 && THRUST_MINOR_VERSION >= 13) || THRUST_MAJOR_VERSION > 1
-  safe_cuda((cub::DispatchSegmentedRadixSort<
-             descending, KeyT, ValueT, BeginOffsetIteratorT, EndOffsetIteratorT,
-             OffsetT>::Dispatch(d_temp_storage, temp_storage_bytes, d_keys,
-                                d_values, num_items, num_segments,
-                                d_begin_offsets, d_end_offsets, begin_bit,
-                                end_bit, false, nullptr, false)));
-#else
-  safe_cuda((cub::DispatchSegmentedRadixSort<
-             descending, KeyT, ValueT, BeginOffsetIteratorT,
-             OffsetT>::Dispatch(d_temp_storage, temp_storage_bytes, d_keys,
-                                d_values, num_items, num_segments,
-                                d_begin_offsets, d_end_offsets, begin_bit,
-                                end_bit, false, nullptr, false)));
-#endif
+  // CCCL 3.x: use the public API (is_overwrite_okay=false semantics, output in *_out).
+  if (descending) {
+    safe_cuda((cub::DeviceSegmentedRadixSort::SortPairsDescending(
+        d_temp_storage, temp_storage_bytes, d_keys.Current(), d_keys.Alternate(),
+        d_values.Current(), d_values.Alternate(), num_items, num_segments, d_begin_offsets,
+        d_end_offsets, begin_bit, end_bit)));
+  } else {
+    safe_cuda((cub::DeviceSegmentedRadixSort::SortPairs(
+        d_temp_storage, temp_storage_bytes, d_keys.Current(), d_keys.Alternate(),
+        d_values.Current(), d_values.Alternate(), num_items, num_segments, d_begin_offsets,
+        d_end_offsets, begin_bit, end_bit)));
+  }
 
 }
 }  // namespace detail
--- a/src/common/quantile.cu
+++ b/src/common/quantile.cu
@@ -181,7 +181,7 @@
       merge_path.data(), [=] __device__(Tuple const &t) -> Tuple {
         auto ind = get_ind(t);  // == 0 if element is from x
         // x_counter, y_counter
-        return thrust::make_tuple<uint64_t, uint64_t>(!ind, ind);
+        return thrust::make_tuple(static_cast<uint64_t>(!ind), static_cast<uint64_t>(ind));
       });
 
   // Compute the index for both x and y (which of the element in a and b are used in each
--- a/src/data/ellpack_page.cu
+++ b/src/data/ellpack_page.cu
@@ -155,11 +155,11 @@
 
   using Tuple = thrust::tuple<size_t, size_t, size_t>;
   __device__ size_t operator()(Tuple out) {
-    auto e = batch.GetElement(out.get<2>());
+    auto e = batch.GetElement(thrust::get<2>(out));
     if (is_valid(e)) {
       // -1 because the scan is inclusive
       size_t output_position =
-          accessor.row_stride * e.row_idx + out.get<1>() - 1;
+          accessor.row_stride * e.row_idx + thrust::get<1>(out) - 1;
       uint32_t bin_idx = 0;
       if (common::IsCat(feature_types, e.column_idx)) {
         bin_idx = accessor.SearchBin<true>(e.value, e.column_idx);
@@ -176,8 +176,8 @@
 struct TupleScanOp {
   __device__ Tuple operator()(Tuple a, Tuple b) {
     // Key equal
-    if (a.template get<0>() == b.template get<0>()) {
-      b.template get<1>() += a.template get<1>();
+    if (thrust::get<0>(a) == thrust::get<0>(b)) {
+      thrust::get<1>(b) += thrust::get<1>(a);
       return b;
     }
     // Not equal
@@ -234,16 +234,13 @@
   // Go one level down into cub::DeviceScan API to set OffsetT as 64 bit
   // So we don't crash on n > 2^31
   size_t temp_storage_bytes = 0;
-  using DispatchScan =
-      cub::DispatchScan<decltype(key_value_index_iter), decltype(out),
-                        TupleScanOp<Tuple>, cub::NullType, int64_t>;
-  DispatchScan::Dispatch(nullptr, temp_storage_bytes, key_value_index_iter, out,
-                         TupleScanOp<Tuple>(), cub::NullType(), batch.Size(),
-                         nullptr, false);
+  // CCCL 3.x: the public API uses a 64 bit unsigned offset for a size_t `num_items`.
+  cub::DeviceScan::InclusiveScan(nullptr, temp_storage_bytes, key_value_index_iter, out,
+                                 TupleScanOp<Tuple>(), static_cast<size_t>(batch.Size()));
   dh::TemporaryArray<char> temp_storage(temp_storage_bytes);
-  DispatchScan::Dispatch(temp_storage.data().get(), temp_storage_bytes,
-                         key_value_index_iter, out, TupleScanOp<Tuple>(),
-                         cub::NullType(), batch.Size(), nullptr, false);
+  cub::DeviceScan::InclusiveScan(temp_storage.data().get(), temp_storage_bytes,
+                                 key_value_index_iter, out, TupleScanOp<Tuple>(),
+                                 static_cast<size_t>(batch.Size()));
 }
 
 void WriteNullValues(EllpackPageImpl* dst, int device_idx,
--- a/src/metric/auc.cu
+++ b/src/metric/auc.cu
@@ -24,7 +24,7 @@
 using Pair = thrust::pair<double, double>;
 
 template <typename T, typename U, typename P = thrust::pair<T, U>>
-struct PairPlus : public thrust::binary_function<P, P, P> {
+struct PairPlus {
   XGBOOST_DEVICE P operator()(P const& l, P const& r) const {
     return thrust::make_pair(l.first + r.first, l.second + r.second);
   }
--- a/src/objective/rank_obj.cu
+++ b/src/objective/rank_obj.cu
@@ -216,7 +216,7 @@
  public:
 #if defined(__CUDACC__)
   // This function object computes the item's DCG value
-  class ComputeItemDCG : public thrust::unary_function<uint32_t, float> {
+  class ComputeItemDCG {
    public:
     XGBOOST_DEVICE ComputeItemDCG(const common::Span<const float> &dsorted_labels,
                                   const common::Span<const uint32_t> &dgroups,
--- a/src/tree/gpu_hist/evaluate_splits.cu
+++ b/src/tree/gpu_hist/evaluate_splits.cu
@@ -117,7 +117,7 @@
       bool thread_active = (scan_begin + threadIdx.x) < gidx_end;
       GradientPairInt64 bin = thread_active ? LoadGpair(node_histogram + scan_begin + threadIdx.x)
                                               : GradientPairInt64();
-      BlockScanT(temp_storage->scan).ExclusiveScan(bin, bin, cub::Sum(), prefix_op);
+      BlockScanT(temp_storage->scan).ExclusiveScan(bin, bin, cuda::std::plus<>(), prefix_op);
       // Whether the gradient of missing values is put to the left side.
       bool missing_left = true;
       float gain = thread_active ? LossChangeMissing(bin, missing, parent_sum, param, nidx, fidx,
@@ -294,7 +294,7 @@
     agent.Numerical(&best_split);
   }
 
-  cub::CTA_SYNC();
+  __syncthreads();
   if (threadIdx.x == 0) {
     // Record best loss for each feature
     out_candidates[blockIdx.x] = best_split;
--- a/src/tree/gpu_hist/gradient_based_sampler.cu
+++ b/src/tree/gpu_hist/gradient_based_sampler.cu
@@ -20,7 +20,7 @@
 namespace tree {
 
 /*! \brief A functor that returns random weights. */
-class RandomWeight : public thrust::unary_function<size_t, float> {
+class RandomWeight {
  public:
   explicit RandomWeight(size_t seed) : seed_(seed) {}
 
@@ -36,7 +36,7 @@
 };
 
 /*! \brief A functor that performs a Bernoulli trial to discard a gradient pair. */
-class BernoulliTrial : public thrust::unary_function<size_t, bool> {
+class BernoulliTrial {
  public:
   BernoulliTrial(size_t seed, float p) : rnd_(seed), p_(p) {}
 
@@ -50,14 +50,14 @@
 };
 
 /*! \brief A functor that returns true if the gradient pair is non-zero. */
-struct IsNonZero : public thrust::unary_function<GradientPair, bool> {
+struct IsNonZero {
   XGBOOST_DEVICE bool operator()(const GradientPair& gpair) const {
     return gpair.GetGrad() != 0 || gpair.GetHess() != 0;
   }
 };
 
 /*! \brief A functor that clears the row indexes with empty gradient. */
-struct ClearEmptyRows : public thrust::binary_function<GradientPair, size_t, size_t> {
+struct ClearEmptyRows {
   XGBOOST_DEVICE size_t operator()(const GradientPair& gpair, size_t row_index) const {
     if (gpair.GetGrad() != 0 || gpair.GetHess() != 0) {
       return row_index;
@@ -74,7 +74,7 @@
  * \see Ibragimov, B., & Gusev, G. (2019). Minimal Variance Sampling in Stochastic Gradient
  * Boosting. In Advances in Neural Information Processing Systems (pp. 15061-15071).
  */
-class CombineGradientPair : public thrust::unary_function<GradientPair, float> {
+class CombineGradientPair {
  public:
   XGBOOST_DEVICE float operator()(const GradientPair& gpair) const {
     return sqrtf(powf(gpair.GetGrad(), 2) + kLambda * powf(gpair.GetHess(), 2));
@@ -87,7 +87,7 @@
 /*! \brief A functor that calculates the difference between the sample rate and the desired sample
  * rows, given a cumulative gradient sum.
  */
-class SampleRateDelta : public thrust::binary_function<float, size_t, float> {
+class SampleRateDelta {
  public:
   SampleRateDelta(common::Span<float> threshold, size_t n_rows, size_t sample_rows)
       : threshold_(threshold), n_rows_(n_rows), sample_rows_(sample_rows) {}
@@ -111,7 +111,7 @@
 };
 
 /*! \brief A functor that performs Poisson sampling, and scales gradient pairs by 1/p_i. */
-class PoissonSampling : public thrust::binary_function<GradientPair, size_t, GradientPair> {
+class PoissonSampling {
  public:
   PoissonSampling(common::Span<float> threshold, size_t threshold_index, RandomWeight rnd)
       : threshold_(threshold), threshold_index_(threshold_index), rnd_(rnd) {}
--- a/src/tree/gpu_hist/histogram.cu
+++ b/src/tree/gpu_hist/histogram.cu
@@ -57,7 +57,7 @@
 }
 }  // anonymous namespace
 
-struct Clip : public thrust::unary_function<GradientPair, Pair> {
+struct Clip {
   static XGBOOST_DEV_INLINE float Pclip(float v) { return v > 0 ? v : 0; }
   static XGBOOST_DEV_INLINE float Nclip(float v) { return v < 0 ? abs(v) : 0; }
 
SRC_PATCH_EOF

  touch "$marker"
  log "source tree patched"
}

###############################################################################
do_configure() {
  local gen="Unix Makefiles"
  command -v ninja >/dev/null 2>&1 && gen=Ninja
  mkdir -p "$BUILD_DIR"
  cmake -G "$gen" -S "$SRC_DIR" -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_CUDA_COMPILER="$CUDA_HOME/bin/nvcc" \
    -DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCH" \
    -DGPU_COMPUTE_VER="$CUDA_ARCH" \
    -DCMAKE_CUDA_RUNTIME_LIBRARY=Static \
    -DUSE_CUDA=ON -DUSE_NCCL=OFF -DUSE_OPENMP=ON \
    -DBUILD_STATIC_LIB=OFF -DGOOGLE_TEST=OFF -DHIDE_CXX_SYMBOLS=ON \
    -DPLUGIN_RMM=OFF -DPLUGIN_FEDERATED=OFF -DPLUGIN_DENSE_PARSER=OFF \
    -DJVM_BINDINGS=OFF -DR_LIB=OFF -DBUILD_C_DOC=OFF
}

do_build() {
  local t0=$SECONDS
  nice -n "$NICE" cmake --build "$BUILD_DIR" -j "$JOBS"
  log "build took $((SECONDS - t0)) s"
}

do_install() {
  cmake --install "$BUILD_DIR" --strip
  local so="$PREFIX/lib/libxgboost.so"
  log "installed $so: $(stat -c %s "$so") bytes (stripped), xz -9: $(xz -9 -T2 -c "$so" | wc -c) bytes"
  ldd "$so" || true
}

has_step patch && do_patch
has_step configure && do_configure
has_step build && do_build
has_step install && do_install
log "done"
