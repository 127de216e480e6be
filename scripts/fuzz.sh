#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz) with clang, ASan and UBSan into build-fuzz/, and
# runs each for SECONDS (default 60). Fails on any crash, leak, timeout, out-of-memory or
# sanitizer report, and prints the executions of each harness.
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]      e.g. scripts/fuzz.sh 600 fuzz_npy
#
# Seeds: build-fuzz/seeds/<harness> (written by fuzz_make_seeds from the project's own fixtures
# and writers) and the bad-input corpus tests/data/bad/<kind>, which also holds every input a
# harness once crashed on (as a regression case in cases.tsv). New inputs go to
# build-fuzz/corpus/<harness> (kept between runs), findings to build-fuzz/artifacts/<harness>/
# (crash-*, leak-*, timeout-*, oom-*); reproduce one with `build-fuzz/bin/<harness> FILE`.
# Environment: MOODBOOST_JOBS (build jobs, default 2), FUZZ_NICE=N runs the harnesses at
# niceness N (on a busy machine a high N starves them: compare executions only at equal load).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
harnesses=("$@")
[[ ${#harnesses[@]} -eq 0 ]] && harnesses=(fuzz_features fuzz_split fuzz_npy)
jobs="${MOODBOOST_JOBS:-2}"
build=build-fuzz

# Which bad-input corpus directory seeds each harness.
declare -A bad_corpus=([fuzz_features]="json" [fuzz_split]="tsv tags" [fuzz_npy]="npy")

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ is missing (sudo apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi

# OpenMP is left out: the harnesses are single-threaded, and clang's libomp would meet the
# libgomp that Debian's XGBoost links.
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_DISABLE_FIND_PACKAGE_OpenMP=ON \
      -DMOODBOOST_SANITIZE=ON -DMOODBOOST_BUILD_FUZZ=ON -DMOODBOOST_BUILD_TESTS=OFF \
      -DMOODBOOST_BUILD_APPS=OFF -DMOODBOOST_BUILD_BENCH=OFF -DMOODBOOST_WERROR=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target fuzz_make_seeds "${harnesses[@]}"
rm -rf "$build/seeds"
"$build/tests/fuzz/fuzz_make_seeds" "$build/seeds"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:allocator_may_return_null=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tests/sanitizer/ubsan.supp"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer/lsan.supp"
nice_cmd=()
[[ -n "${FUZZ_NICE:-}" ]] && nice_cmd=(nice -n "$FUZZ_NICE")

failed=()
summary=()
for h in "${harnesses[@]}"; do
  corpus="$build/corpus/$h"
  artifacts="$build/artifacts/$h"
  log="$build/logs/$h.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  printf '==> %s for %ss (log: %s)\n' "$h" "$seconds" "$log"
  seed_dirs=()
  for kind in ${bad_corpus[$h]}; do seed_dirs+=("tests/data/bad/$kind"); done
  status=0
  "${nice_cmd[@]}" "$build/tests/fuzz/$h" -max_total_time="$seconds" -print_final_stats=1 \
      -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=16384 \
      -dict="tests/fuzz/$h.dict" -artifact_prefix="$artifacts/" \
      "$corpus" "$build/seeds/$h" "${seed_dirs[@]}" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
  line="$h: ${execs:-?} executions (${rate:-?}/s), ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l) files"
  if [[ $status -ne 0 ]] || grep -q 'ERROR: \(AddressSanitizer\|LeakSanitizer\|UndefinedBehaviorSanitizer\|libFuzzer\)\|runtime error:' "$log"; then
    line+=" -- FAILED (exit $status)"
    failed+=("$h")
    grep -m 20 -A 30 'ERROR:\|runtime error:\|invariant broken' "$log" >&2 || tail -n 40 "$log" >&2
    ls "$artifacts" >&2
  fi
  summary+=("$line")
  echo "$line"
done

printf '\nfuzz summary (%ss each):\n' "$seconds"
printf '  %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
