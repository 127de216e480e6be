#!/usr/bin/env python3
"""Loading features from Python: moodboost.load_features against the CLI and against plain Python.

    PYTHONPATH=build/python bench/bench_python_loader.py FEATURES_DIR SPLIT_TSV
        [--moodboost build/bin/moodboost] [--threads 2] [--repeat 3] [--python-files 2000]

In the same run, on the same files (warm page cache: one untimed load first):
  moodboost.load_features   the C++ loader through the Python module (the matrix handed over
                            without a copy)
  moodboost flatten         the command line on the same split and options, writing the .npy to
                            /dev/shm (or a temp dir): the throughput the Python module must match
  json.load + numpy         the plain-Python way: json.load each file, then the same columns
                            (found by walking each column name's path) into a float32 array; run
                            on the first --python-files files and reported per file

Reports files/s and MB/s of each (median of --repeat runs) and the ratios. The full-scale
synthetic set (`moodboost synth --out DIR`, 17,982 files) is the intended input, e.g. its
training split DIR/splits/synthetic-train.tsv.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import moodboost


def read_paths(split_tsv):
    with open(split_tsv, newline="") as f:
        next(f)
        return [line.split("\t")[3].rstrip("\r\n")[:-4] + ".json" for line in f if line.strip()]


def accessor(name):
    """A function from a parsed AcousticBrainz document to the value of column `name`."""
    category = None
    if "=" in name:
        name, category = name.split("=", 1)
    parts = name.split(".")

    def get(doc):
        node, i = doc, 0
        while i < len(parts) and isinstance(node, dict):
            # keys may contain dots? no: Essentia keys do not; indices follow the keys
            node = node.get(parts[i])
            i += 1
            if node is None:
                return np.nan
        for index in parts[i:]:
            node = node[int(index)]
        if category is not None:
            return 1.0 if node == category else 0.0
        if isinstance(node, bool):
            return float(node)
        return float(node) if isinstance(node, (int, float)) else np.nan

    return get


def python_load(features, relpaths, names):
    getters = [accessor(n) for n in names]
    x = np.empty((len(relpaths), len(names)), dtype=np.float32)
    for r, rel in enumerate(relpaths):
        with open(os.path.join(features, rel)) as f:
            doc = json.load(f)
        x[r] = [g(doc) for g in getters]
    return x


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("features")
    ap.add_argument("split")
    ap.add_argument("--moodboost", default=os.path.join(root, "build", "bin", "moodboost"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--python-files", type=int, default=2000)
    args = ap.parse_args()

    relpaths = read_paths(args.split)
    size = sum(os.path.getsize(os.path.join(args.features, p)) for p in relpaths) / 1e6
    print(f"{len(relpaths)} files, {size:.1f} MB, {args.threads} threads, median of {args.repeat}")

    x, names = moodboost.load_features(args.features, args.split, threads=args.threads)  # warm-up
    module_s = median_time(
        lambda: moodboost.load_features(args.features, args.split, threads=args.threads), args.repeat)

    out_dir = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    out = os.path.join(out_dir, "moodboost-bench-x.npy")
    names_file = os.path.join(out_dir, "moodboost-bench-names.txt")
    cmd = [args.moodboost, "flatten", "--features", args.features, "--split", args.split, "--out", out,
           "--names", names_file, "--threads", str(args.threads)]
    env = dict(os.environ, MOODBOOST_NO_PROGRESS="1")
    cli_s = median_time(lambda: subprocess.run(cmd, check=True, capture_output=True, env=env), args.repeat)
    same = np.array_equal(np.load(out), x, equal_nan=True)
    os.remove(out)
    os.remove(names_file)

    n_py = min(args.python_files, len(relpaths))
    start = time.perf_counter()
    x_py = python_load(args.features, relpaths[:n_py], names)
    python_s = time.perf_counter() - start
    agree = np.array_equal(x_py, x[:n_py], equal_nan=True)

    def rate(seconds, files):
        return f"{files / seconds:8.0f} files/s"

    print(f"moodboost.load_features: {module_s:7.2f} s  {rate(module_s, len(relpaths))}  "
          f"{size / module_s:6.1f} MB/s")
    print(f"moodboost flatten (CLI): {cli_s:7.2f} s  {rate(cli_s, len(relpaths))}  "
          f"{size / cli_s:6.1f} MB/s   (same matrix: {same})")
    print(f"json.load + numpy:       {python_s:7.2f} s  {rate(python_s, n_py)}  "
          f"(first {n_py} files; same values as moodboost: {agree})")
    print(f"Python module / CLI throughput: {cli_s / module_s:.3f}  "
          f"(>= 0.95 is within 5%)")
    print(f"Python module / json.load + numpy throughput: "
          f"{(len(relpaths) / module_s) / (n_py / python_s):.1f}x")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
