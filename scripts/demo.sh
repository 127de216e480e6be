#!/usr/bin/env bash
# The main job, end to end, on the built-in synthetic dataset (README.md):
#   install missing packages -> build (Release, -j2) -> moodboost synth -> moodboost run
#   (train with a small search budget on validation, predict the test split, evaluate)
#   -> moodboost compare (against the VGG-ish CNN baseline's published figures) -> moodboost importance.
# About 10 minutes on 2 cores. Running it again reuses the data and the finished tags.
#
# Environment: MOODBOOST_DEMO_DIR (default out/demo), MOODBOOST_DEMO_TRACKS (default: the full
# 17,982-track split set; e.g. 1000 for a quick look), MOODBOOST_DEMO_BUDGET_MINUTES (default 8).
set -euo pipefail
cd "$(dirname "$0")/.."

out="${MOODBOOST_DEMO_DIR:-out/demo}"
budget="${MOODBOOST_DEMO_BUDGET_MINUTES:-8}"
tracks="${MOODBOOST_DEMO_TRACKS:-}"
jobs="${MOODBOOST_JOBS:-2}"
step() { printf '\n==> %s\n' "$*" >&2; }

step "installing missing packages"
scripts/install-deps.sh

step "building moodboost (Release)"
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DMOODBOOST_BUILD_TESTS=OFF \
      -DMOODBOOST_BUILD_BENCH=OFF >/dev/null
cmake --build build-demo -j "$jobs" --target moodboost_cli
mb=build-demo/bin/moodboost

data="$out/data"
if [[ -f "$data/features/moodboost-synthetic.json" ]]; then
  step "synthetic dataset already in $data (delete it to regenerate)"
else
  step "generating the synthetic dataset into $data (see $data/SYNTHETIC.md)"
  "$mb" synth --out "$data" ${tracks:+--tracks "$tracks"}
fi

step "training one booster per tag (search budget ${budget} min), predicting and scoring the test split"
"$mb" run --features "$data/features" --splits "$data/splits" --tags "$data/tags.txt" \
          --out "$out/run" --budget-minutes "$budget" --cache "$out/cache"

step "reports: comparison with the VGG-ish baseline, feature importance"
"$mb" compare --groundtruth "$data/splits/synthetic-test.tsv" --tags "$data/tags.txt" \
              --system "boosters=$out/run/test" --out-dir "$out/reports"
"$mb" importance --model "$out/run/model" --out-dir "$out/reports"

cat <<MSG

Done. Everything is in $out:
  $out/run/test/results.tsv        the ten official metrics on the (synthetic) test split
  $out/run/test/predictions.npy    the MediaEval submission files (and decisions.npy)
  $out/run/model/                  manifest.json, one XGBoost JSON model per tag, thresholds.tsv, trials.tsv
  $out/reports/compare.html        boosters vs the VGG-ish CNN baseline (open in a browser; also .md/.tsv/.json)
  $out/reports/importance.html     which descriptors carry each tag (also .md/.tsv/.json)
The data is SYNTHETIC (moodboost synth): the comparison demonstrates the report, it is not a result.
See README.md for the real MTG-Jamendo features.
MSG
