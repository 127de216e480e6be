#!/usr/bin/env bash
# The one command that builds moodboost and runs every test (README.md; .ci/run calls exactly this):
#   1. installs missing Debian packages (scripts/install-deps.sh --test),
#   2. builds with warnings as errors (the Python module included) and runs the Catch2 suite
#      through ctest, the Python module's pytest suite, and a consumer project built against
#      `cmake --install` with find_package(moodboost),
#   3. rebuilds with AddressSanitizer + UBSan and runs the whole suite again,
#   4. builds the libFuzzer harnesses with clang and runs each for FUZZ_SECONDS (default 30),
#   5. checks formatting of the sources with clang-format.
# Options: --quick runs step 2 only (for development). Build trees go to build-ci*/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
jobs="${MOODBOOST_JOBS:-2}"
fuzz_seconds="${FUZZ_SECONDS:-30}"
export MOODBOOST_NO_PROGRESS=1

# Each step prints how long the previous one took, so CI logs show where the time goes.
step_start=$SECONDS
step() {
  printf '    (%ss)\n\n==> %s\n' "$((SECONDS - step_start))" "$*"
  step_start=$SECONDS
}

step "installing missing packages"
scripts/install-deps.sh --test

step "build (Release, warnings as errors)"
# GCC 12's false warnings (-Wrestrict, PR 105651) are switched off in cmake/MoodboostOptions.cmake.
cmake -S . -B build-ci -DCMAKE_BUILD_TYPE=Release \
      -DMOODBOOST_WERROR=ON -DMOODBOOST_BUILD_PYTHON=ON -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build-ci -j "$jobs"
step "tests"
(cd build-ci && ctest --output-on-failure -j "$jobs")
step "Python module (pytest)"
PYTHONPATH="$PWD/build-ci/python" MOODBOOST_CLI="$PWD/build-ci/bin/moodboost" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider python/tests
step "consumer project against the installed library (find_package)"
rm -rf build-ci/prefix build-ci/consumer build-ci/consumer-data build-ci/consumer-out
cmake --install build-ci --prefix build-ci/prefix >/dev/null
cmake -S tests/consumer -B build-ci/consumer -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$PWD/build-ci/prefix" >/dev/null
cmake --build build-ci/consumer -j "$jobs"
build-ci/bin/moodboost synth --out build-ci/consumer-data --tracks 240 --threads "$jobs" >/dev/null
build-ci/consumer/consumer build-ci/consumer-data build-ci/consumer-out
[[ $quick -eq 1 ]] && exit 0

step "build (AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake -S . -B build-ci-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
      -DMOODBOOST_SANITIZE=ON -DMOODBOOST_BUILD_BENCH=OFF -DMOODBOOST_WERROR=ON >/dev/null
cmake --build build-ci-asan -j "$jobs"
step "tests under ASan + UBSan"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer/lsan.supp"
(cd build-ci-asan && ctest --output-on-failure -j "$jobs")
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

if [[ -d tests/fuzz ]]; then
  step "fuzz harnesses (clang, libFuzzer + ASan + UBSan), ${fuzz_seconds}s each"
  scripts/fuzz.sh "$fuzz_seconds"
fi

step "formatting (clang-format --dry-run)"
git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

step "all tests passed"
