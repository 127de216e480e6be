#!/usr/bin/env python3
"""Accuracy benchmark: moodboost's defaults against three peers on real and synthetic features.

    bench/accuracy.py [--moodboost build/bin/moodboost] [--seeds 0,1,2] [--work out/bench-accuracy]
                      [--datasets billboard,synth1500] [--shared ../shared] [--threads 2]

For each dataset, in one run and on the same splits:

  moodboost      `moodboost run` with no tuning flags (its defaults), one run per seed
  logreg         scikit-learn LogisticRegression on standardised columns (missing = mean), C in
                 {0.001, 0.01, 0.1} chosen per tag by validation PR-AUC
  xgb-defaults   XGBoost's own defaults (xgboost.train, 100 rounds, binary:logistic)
  xgb-depth2     XGBoost depth 2, eta 0.05, colsample_bytree 0.3, subsample 0.8,
                 min_child_weight 3, max_bin 64, hist, early stopping after 100 rounds on the
                 validation split's aucpr

The peers read the same columns as moodboost trains on (`moodboost flatten --covariance upper
--drop-constant`, schema from the training split). Every system's test predictions are scored by
`moodboost compare` (the official metrics, 1000 paired bootstrap resamples of the test tracks).
The table reports, per system, the mean and standard deviation over the seeds of the test
ROC-AUC-macro and PR-AUC-macro, the 95% bootstrap interval of the first seed's run (how much the
small test split alone moves the figures), and the mean wall time (2 cores unless --threads).

The datasets: billboard-decades (../shared/data/billboard-decades: REAL AcousticBrainz features of
705 songs, 5 decade tags) and a small synthetic set (`moodboost synth --tracks 1500`). Needs
Debian's python3-numpy, python3-sklearn and python3-xgboost. This is a benchmark, never a unit
test: it takes several minutes.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


def run(cmd, **kwargs):
    started = time.monotonic()
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(map(str, cmd)), result.stdout, result.stderr))
    return result, time.monotonic() - started


def read_split(path, tags):
    """Rows of a split TSV (CRLF or LF) as a 0/1 label matrix in the order of tags."""
    index = {t: i for i, t in enumerate(tags)}
    rows = []
    with open(path, newline="") as f:
        next(f)
        for line in f:
            fields = line.rstrip("\r\n").split("\t")
            row = np.zeros(len(tags), dtype=np.uint8)
            for tag in fields[5:]:
                if tag in index:
                    row[index[tag]] = 1
            rows.append(row)
    return np.array(rows)


def average_precision(y, p):
    from sklearn.metrics import average_precision_score

    return average_precision_score(y, p) if 0 < y.sum() < len(y) else float("nan")


class Dataset:
    def __init__(self, name, features, split_files, tags_file, work, mb, threads):
        self.name = name
        self.features = features
        self.splits = split_files  # dict: train/validation/test -> path
        self.tags_file = tags_file
        self.tags = [l.strip() for l in open(tags_file) if l.strip()]
        self.work = work
        os.makedirs(work, exist_ok=True)
        self.y = {s: read_split(p, self.tags) for s, p in split_files.items()}
        # The columns moodboost trains on, for the peers.
        schema = os.path.join(work, "schema.json")
        self.x = {}
        for split in ("train", "validation", "test"):
            out = os.path.join(work, split + ".npy")
            cmd = [mb, "flatten", "--features", features, "--split", split_files[split], "--out", out,
                   "--names", os.path.join(work, "names.txt"), "--threads", str(threads)]
            cmd += (["--covariance", "upper", "--drop-constant", "--save-schema", schema]
                    if split == "train" else ["--schema", schema])
            run(cmd)
            self.x[split] = np.load(out)
        # compare needs a baseline for a vocabulary other than MTG-Jamendo's: chance level.
        self.baseline = os.path.join(work, "chance-baseline.tsv")
        with open(self.baseline, "w") as f:
            f.write("tag\tROC-AUC\tPR-AUC\n")
            for t, tag in enumerate(self.tags):
                f.write("%s\t0.5\t%.6f\n" % (tag, self.y["test"][:, t].mean()))


def logreg(d, seed):
    from sklearn.linear_model import LogisticRegression

    mean = np.nanmean(d.x["train"], axis=0)
    sd = np.nanstd(d.x["train"], axis=0)
    sd[sd == 0] = 1
    z = {s: np.nan_to_num((x - mean) / sd) for s, x in d.x.items()}
    out = np.zeros(d.y["test"].shape)
    for t in range(len(d.tags)):
        best = None
        for c in (0.001, 0.01, 0.1):
            m = LogisticRegression(C=c, max_iter=5000, random_state=seed).fit(z["train"], d.y["train"][:, t])
            ap = average_precision(d.y["validation"][:, t], m.predict_proba(z["validation"])[:, 1])
            if best is None or (ap > best[0]):
                best = (ap, m)
        out[:, t] = best[1].predict_proba(z["test"])[:, 1]
    return out


def xgb_defaults(d, seed, threads):
    import xgboost as xgb

    out = np.zeros(d.y["test"].shape)
    test = xgb.DMatrix(d.x["test"], missing=np.nan)
    for t in range(len(d.tags)):
        train = xgb.DMatrix(d.x["train"], label=d.y["train"][:, t], missing=np.nan)
        b = xgb.train({"objective": "binary:logistic", "seed": seed, "nthread": threads}, train, 100)
        out[:, t] = b.predict(test)
    return out


def xgb_depth2(d, seed, threads):
    import xgboost as xgb

    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 2, "eta": 0.05,
              "colsample_bytree": 0.3, "subsample": 0.8, "min_child_weight": 3, "max_bin": 64,
              "eval_metric": "aucpr", "seed": seed, "nthread": threads}
    out = np.zeros(d.y["test"].shape)
    test = xgb.DMatrix(d.x["test"], missing=np.nan)
    for t in range(len(d.tags)):
        train = xgb.DMatrix(d.x["train"], label=d.y["train"][:, t], missing=np.nan)
        valid = xgb.DMatrix(d.x["validation"], label=d.y["validation"][:, t], missing=np.nan)
        b = xgb.train(params, train, 3000, evals=[(valid, "validation")],
                      early_stopping_rounds=100, verbose_eval=False)
        out[:, t] = b.predict(test, iteration_range=(0, b.best_iteration + 1))
    return out


def score(d, mb, systems, out_dir, threads):
    """moodboost compare on {name: predictions.npy}: overall values and bootstrap intervals."""
    cmd = [mb, "compare", "--groundtruth", d.splits["test"], "--tags", d.tags_file, "--baseline",
           d.baseline, "--references", "none", "--threads", str(threads), "--out-dir", out_dir]
    for name, path in systems.items():
        cmd += ["--system", "%s=%s" % (name, path)]
    run(cmd)
    report = json.load(open(os.path.join(out_dir, "compare.json")))
    return report


def overall(report, name):
    """(roc, pr, roc interval, pr interval) of a system in compare.json."""
    for s in report["systems"]:
        if s["name"] == name:
            o, iv = s["overall"], s.get("intervals", {})
            return (o["ROC-AUC-macro"], o["PR-AUC-macro"], iv.get("ROC-AUC-macro"),
                    iv.get("PR-AUC-macro"))
    sys.exit("compare.json has no system %s" % name)


def bench(d, mb, seeds, threads):
    names = ["moodboost", "logreg", "xgb-defaults", "xgb-depth2"]
    values = {n: [] for n in names}
    intervals = {}
    seconds = {n: [] for n in names}
    for seed in seeds:
        preds = {}
        out = os.path.join(d.work, "moodboost-seed%d" % seed)
        _, took = run([mb, "run", "--features", d.features, "--splits",
                       os.path.dirname(d.splits["train"]), "--tags", d.tags_file, "--out", out,
                       "--seed", str(seed), "--threads", str(threads), "--restart"],
                      env=dict(os.environ, MOODBOOST_NO_PROGRESS="1"))
        seconds["moodboost"].append(took)
        preds["moodboost"] = os.path.join(out, "test", "predictions.npy")
        for name, fn in (("logreg", lambda: logreg(d, seed)),
                         ("xgb-defaults", lambda: xgb_defaults(d, seed, threads)),
                         ("xgb-depth2", lambda: xgb_depth2(d, seed, threads))):
            started = time.monotonic()
            p = fn()
            seconds[name].append(time.monotonic() - started)
            path = os.path.join(d.work, "%s-seed%d.npy" % (name, seed))
            np.save(path, p.astype(np.float64))
            preds[name] = path
        report = score(d, mb, preds, os.path.join(d.work, "compare-seed%d" % seed), threads)
        for name in names:
            roc, pr, roc_iv, pr_iv = overall(report, name)
            values[name].append((roc, pr))
            if seed == seeds[0]:
                intervals[name] = (roc_iv, pr_iv)
        print("  seed %d: %s" % (seed, ", ".join("%s %.3f/%.3f" % (n, *values[n][-1]) for n in names)),
              flush=True)
    return names, values, intervals, seconds


def interval_text(iv):
    return "[%.3f, %.3f]" % (iv[0], iv[1]) if iv else "-"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moodboost", default=os.path.join(root, "build", "bin", "moodboost"))
    ap.add_argument("--shared", default=os.environ.get("MOODBOOST_SHARED_DIR",
                                                       os.path.join(root, "..", "shared")))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--work", default=os.path.join(root, "out", "bench-accuracy"))
    ap.add_argument("--datasets", default="billboard,synth1500")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    mb = os.path.abspath(args.moodboost)
    seeds = [int(s) for s in args.seeds.split(",")]
    datasets = []
    for name in args.datasets.split(","):
        work = os.path.join(args.work, name)
        if name == "billboard":
            src = os.path.join(args.shared, "data", "billboard-decades")
            if not os.path.isdir(src):
                print("skipping billboard: %s is absent" % src)
                continue
            splits = {s: os.path.join(src, "billboard-decades-%s.tsv" % s)
                      for s in ("train", "validation", "test")}
            datasets.append(Dataset("billboard-decades (real features)", os.path.join(src, "features"),
                                    splits, os.path.join(src, "tags.txt"), work, mb, args.threads))
        elif name == "synth1500":
            data = os.path.join(work, "data")
            if not os.path.exists(os.path.join(data, "features", "moodboost-synthetic.json")):
                run([mb, "synth", "--out", data, "--tracks", "1500", "--threads", str(args.threads)])
            splits = {s: os.path.join(data, "splits", "synthetic-%s.tsv" % s)
                      for s in ("train", "validation", "test")}
            datasets.append(Dataset("moodboost synth --tracks 1500 (SYNTHETIC)",
                                    os.path.join(data, "features"), splits,
                                    os.path.join(data, "tags.txt"), work, mb, args.threads))
        else:
            sys.exit("unknown dataset %s (billboard, synth1500)" % name)

    lines = []
    for d in datasets:
        print("%s: %d / %d / %d tracks, %d tags, %d columns" % (
            d.name, len(d.y["train"]), len(d.y["validation"]), len(d.y["test"]), len(d.tags),
            d.x["train"].shape[1]), flush=True)
        names, values, intervals, seconds = bench(d, mb, seeds, args.threads)
        lines.append("\n### %s, seeds %s\n" % (d.name, ",".join(map(str, seeds))))
        lines.append("| system | ROC-AUC-macro mean ± sd | PR-AUC-macro mean ± sd | ROC-AUC 95%% interval "
                     "(seed %d) | PR-AUC 95%% interval (seed %d) | seconds |" % (seeds[0], seeds[0]))
        lines.append("|---|---:|---:|---|---|---:|")
        for n in names:
            v = np.array(values[n])
            lines.append("| %s | %.3f ± %.3f | %.3f ± %.3f | %s | %s | %.1f |" % (
                n, v[:, 0].mean(), v[:, 0].std(), v[:, 1].mean(), v[:, 1].std(),
                interval_text(intervals[n][0]), interval_text(intervals[n][1]),
                float(np.mean(seconds[n]))))
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(args.work, exist_ok=True)
    with open(os.path.join(args.work, "accuracy.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
