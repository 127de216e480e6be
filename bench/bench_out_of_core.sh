#!/usr/bin/env bash
# bench_out_of_core: `moodboost train` in memory vs out of core (--memory-limit below the
# training matrix), same data, parameters and seed, in one run: wall time, peak resident memory
# (/usr/bin/time -v, one process each), their ratios, and the largest difference between the two
# models' test predictions.
#
#   bench/bench_out_of_core.sh [--tracks N] [--limit BYTES] [--rounds N] [--tags N] [--bin DIR]
#                              [--work DIR]
#
# Defaults: a `moodboost synth --tracks 3000` set (1,660 training rows x 2,320 columns after
# --covariance upper --drop-constant: 15.4 MB as float32, 92 MB by the 24-byte estimate),
# --memory-limit 16M, 60 rounds, the first 8 tags, build/bin/moodboost, a temporary --work
# directory (removed). Rounds are fixed (--early-stopping 0), one tag at a time on both paths.
# The feature cache is written first by a separate run, so that both timed runs read it (a hit):
# the comparison is of training, not of JSON parsing. Synthetic data, labelled as such.
set -euo pipefail

tracks=3000
limit=16M
rounds=60
tags=8
bin=build/bin/moodboost
work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tracks) tracks=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --tags) tags=$2; shift 2 ;;
    --bin) bin=$2/moodboost; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x /usr/bin/time ]] || { echo "needs GNU time (/usr/bin/time; Debian package time)" >&2; exit 1; }
cleanup=""
if [[ -z "$work" ]]; then
  work=$(mktemp -d)
  cleanup=$work
fi
trap '[[ -n "$cleanup" ]] && rm -rf "$cleanup"' EXIT
mkdir -p "$work"

# A --work directory from an earlier run keeps its synthetic set (and cache).
[[ -d "$work/synth" ]] || "$bin" synth --out "$work/synth" --tracks "$tracks" >/dev/null
train_split=$(ls "$work"/synth/splits/*-train.tsv | head -1)
split_dir=$(dirname "$train_split")
head -n "$tags" "$work/synth/tags.txt" >"$work/tags.txt"
common=(--features "$work/synth/features" --splits "$split_dir" --tags "$work/tags.txt"
        --unknown-tags ignore --cache "$work/cache" --rounds "$rounds" --early-stopping 0
        --cv 0 --family tree --seed 1 --thread-strategy per-tag)

# The cache, untimed.
"$bin" train "${common[@]}" --out "$work/warmup" >/dev/null 2>"$work/warmup.stderr"

# peak_kb seconds <- one timed run
measure() {
  local out=$1; shift
  /usr/bin/time -v "$bin" train "${common[@]}" --out "$work/$out" "$@" \
    >"$work/$out.stdout" 2>"$work/$out.stderr"
  local kb wall
  kb=$(grep 'Maximum resident set size' "$work/$out.stderr" | awk '{print $NF}')
  wall=$(grep 'Elapsed (wall clock)' "$work/$out.stderr" | awk '{print $NF}')
  echo "$kb $wall"
}
to_seconds() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }' <<<"$1"; }

read -r mem_kb mem_wall < <(measure memory)
read -r ooc_kb ooc_wall < <(measure disk --memory-limit "$limit")
grep -h "out-of-core:\|training features" "$work/disk.stderr" | sed 's/^/  /'

test_split=$(ls "$split_dir"/*-test.tsv | head -1)
for out in memory disk; do
  "$bin" predict --model "$work/$out" --features "$work/synth/features" --split "$test_split" \
    --unknown-tags ignore --out-dir "$work/pred-$out" >/dev/null 2>&1
done
diff=$(/usr/bin/python3 - "$work/pred-memory/predictions.npy" "$work/pred-disk/predictions.npy" <<'EOF' 2>/dev/null || echo "n/a (needs python3-numpy)"
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
print(f"{np.abs(a - b).max():.3g}")
EOF
)

mem_s=$(to_seconds "$mem_wall")
ooc_s=$(to_seconds "$ooc_wall")
printf '%-14s %12s %10s\n' "run" "peak RSS MB" "wall s"
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
printf '%-14s %12s %10.2f\n' "in memory" "$(div "$mem_kb" 1024)" "$mem_s"
printf '%-14s %12s %10.2f\n' "out of core" "$(div "$ooc_kb" 1024)" "$ooc_s"
echo "peak RSS ratio (out of core / in memory): $(div "$ooc_kb" "$mem_kb")"
echo "wall time ratio (out of core / in memory): $(div "$ooc_s" "$mem_s")"
echo "max |test prediction difference|: $diff"
echo "(moodboost synth data: SYNTHETIC features; $tracks tracks, $tags tags, $rounds rounds, --memory-limit $limit)"
