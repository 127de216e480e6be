#!/usr/bin/env python3
"""Per-row and per-round costs of moodboost.dask on 1 and 2 local workers, in the same run, and
their extrapolation to 1 million and 7.5 million tracks (docs/scale.md).

    PYTHONPATH=build/python MOODBOOST_CLI=build/bin/moodboost \\
        /usr/bin/python3 bench/bench_dask.py --tracks 5000 --tags 4 --rounds 20

Measures, on a synthetic set written by `moodboost synth` (or --data DIR):
  - the C++ loader on the workers: rows/s per worker (the loader's own time per block);
  - XGBoost's matrix construction in one process (xgboost.DMatrix from the float32 matrix, and
    the quantile sketch + gradient index of the first hist round), seconds per million cells;
  - training with --strategy rows and tags on 1 and 2 workers (1 thread each), each at two round
    counts without early stopping, so that a tag's fixed cost (the matrices XGBoost builds for
    every tag in rows mode; once per worker in tags mode) and its cost per round separate:
    seconds(R) = tags x (fixed + R x per_round).
Prints the load average beside the figures: this machine may be shared.
"""

import argparse
import logging
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

import moodboost
import moodboost.dask as mbdask


def load_average():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def run(client, data, out, tags_file, rounds, strategy, extra=()):
    args = mbdask.parser().parse_args(
        ["--features", str(data / "features"), "--splits", str(data / "splits"), "--tags",
         str(tags_file), "--out", str(out), "--rounds", str(rounds), "--early-stopping", "0",
         "--strategy", strategy, "--restart", "--unknown-tags", "ignore", *extra])
    stats = {}
    mbdask.train(client, args.features, args.splits, args.tags, args.out, args,
                 say=lambda line: None, stats=stats)
    return stats


def matrix_costs(data, rounds):
    """One process, one thread: DMatrix from float32, first hist round, later rounds."""
    import xgboost

    train = next((data / "splits").glob("*-train.tsv"))
    x, _ = moodboost.load_features(data / "features", train, covariance="upper",
                                   drop_constant=True)
    _, y = moodboost.load_split(train, sorted((data / "tags.txt").read_text().split()))
    label = y[:, int(np.argmax(y.sum(axis=0)))].astype(np.float32)
    plan = moodboost.TreeRunSettings(family="tree", cv="0").plan(int(label.sum()),
                                                                 len(label) - int(label.sum()), 1)
    params = dict(plan["params"], nthread="1")
    t = time.perf_counter()
    d = xgboost.DMatrix(x, label=label, nthread=1)
    dmatrix = time.perf_counter() - t
    booster = xgboost.Booster(params, [d])
    t = time.perf_counter()
    booster.update(d, 0)
    first = time.perf_counter() - t  # the quantile sketch and gradient index, then one round
    t = time.perf_counter()
    for i in range(1, rounds):
        booster.update(d, i)
    later = (time.perf_counter() - t) / (rounds - 1)  # the index is cached in d
    cells = x.shape[0] * x.shape[1] / 1e6
    return {"rows": x.shape[0], "columns": x.shape[1], "dmatrix_s_per_mcell": dmatrix / cells,
            "sketch_s_per_mcell": max(0.0, first - later) / cells,
            "round_s": later, "round_s_per_mcell": later / cells}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tracks", type=int, default=5000)
    p.add_argument("--data", type=pathlib.Path, help="a `moodboost synth` directory to reuse")
    p.add_argument("--tags", type=int, default=4, help="tags trained per measurement")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--workers", default="1,2")
    args = p.parse_args()
    from distributed import Client, LocalCluster

    logging.getLogger("[xgboost.dask]").setLevel(logging.ERROR)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench-dask-"))
    data = args.data
    if data is None:
        data = tmp / "data"
        cli = os.environ.get("MOODBOOST_CLI", "build/bin/moodboost")
        subprocess.run([cli, "synth", "--out", str(data), "--tracks", str(args.tracks)],
                       check=True, capture_output=True)
    tags = (data / "tags.txt").read_text().split()[: args.tags]
    tags_file = tmp / "tags.txt"
    tags_file.write_text("\n".join(tags) + "\n")
    print(f"# bench_dask: {data}, {len(tags)} tags, rounds 2 and {args.rounds}, no early "
          f"stopping; {os.cpu_count()} cores; {load_average()}")

    m = matrix_costs(data, args.rounds)
    print(f"one process, 1 thread, {m['rows']} rows x {m['columns']} columns: DMatrix "
          f"{m['dmatrix_s_per_mcell']:.4f} s/Mcell, sketch + gradient index "
          f"{m['sketch_s_per_mcell']:.4f} s/Mcell, round {m['round_s'] * 1e3:.1f} ms "
          f"({m['round_s_per_mcell'] * 1e3:.3f} ms/Mcell); {load_average()}")

    results = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
        try:
            for strategy in ("rows", "tags"):
                short = run(client, data, tmp / "m", tags_file, 2, strategy)
                full = run(client, data, tmp / "m", tags_file, args.rounds, strategy)
                per_round = (full["train_seconds"] - short["train_seconds"]) / (
                    len(tags) * (args.rounds - 2))
                fixed = short["train_seconds"] / len(tags) - 2 * per_round
                rows_per_s = np.mean([r / s for r, s in zip(full["block_rows"],
                                                             full["block_seconds"])])
                results[(workers, strategy)] = (per_round, fixed, rows_per_s, full)
                print(f"{workers} worker(s), {strategy:4s}: load {full['load_seconds']:.1f}s "
                      f"({full['rows']} rows x {full['columns']} columns), loader "
                      f"{rows_per_s:.0f} rows/s per worker; per tag: fixed {fixed:.2f}s + "
                      f"{per_round * 1e3:.0f} ms/round (fit of 2 and {args.rounds} rounds); "
                      f"{len(tags)} tags x {args.rounds} rounds in {full['train_seconds']:.1f}s "
                      f"wall = {full['train_seconds'] / (len(tags) * args.rounds) * 1e3:.0f} ms "
                      f"per tag-round; {load_average()}")
        finally:
            client.close()
            cluster.close()

    # Extrapolation (docs/scale.md), rows mode on W workers. Per tag:
    #   fixed = overhead + (DMatrix + sketch) s/Mcell x Mcells per worker   (every tag, rows mode)
    #   round = compute s/Mcell x Mcells per worker + max(sync, allreduce bytes x 2 / bandwidth)
    # compute, DMatrix and sketch from the one-process figures (1 thread per worker); overhead
    # and sync are what the 2-worker rows measurement spends beyond them (the tracker and task
    # start per tag; the per-round synchronisation on loopback).
    key = (2, "rows") if (2, "rows") in results else (1, "rows")
    per_round, fixed, rows_per_s, full = results[key]
    mcells_w = full["rows"] * full["columns"] / key[0] / 1e6
    build = m["dmatrix_s_per_mcell"] + m["sketch_s_per_mcell"]
    overhead = max(0.0, fixed - build * mcells_w)
    sync = max(0.0, per_round - m["round_s_per_mcell"] * mcells_w)
    columns, tags_n, rounds, bins, depth = 2647, 300, 100, 64, 4
    nodes = 2 ** (depth - 1)  # histograms built per tree: the smaller child of each split
    allreduce_bytes = bins * columns * nodes * 2 * 8  # grad + hess per bin, doubles
    network = max(sync, 2 * allreduce_bytes / 1.25e9)  # ring allreduce at 10 Gbit/s
    print(f"\n# extrapolation, rows mode: {columns} columns, {tags_n} tags, {rounds} rounds per "
          f"tag, depth {depth}, {bins} bins, 1 thread per worker; per tag overhead "
          f"{overhead:.2f}s, sync {sync * 1e3:.0f} ms/round (measured on {key[0]} worker(s)); "
          f"allreduce {allreduce_bytes / 1e6:.0f} MB per tag-round, {network * 1e3:.0f} ms/round "
          f"network")
    print("tracks\tworkers\tGB/worker (float32 + DMatrix + index)\tload h\t"
          "train h (300 tags)\tof which network h")
    for tracks in (1_000_000, 7_500_000):
        for w in (8, 32, 128):
            mcells = tracks * columns / w / 1e6
            gb = mcells * 1e6 * (4 + 8 + 1) / 1e9
            load_h = tracks / (rows_per_s * w) / 3600
            per_tag = overhead + build * mcells + rounds * (m["round_s_per_mcell"] * mcells +
                                                            network)
            print(f"{tracks}\t{w}\t{gb:.1f}\t{load_h:.2f}\t{tags_n * per_tag / 3600:.1f}\t"
                  f"{tags_n * rounds * network / 3600:.2f}")


if __name__ == "__main__":
    sys.exit(main())
