"""Training on a Dask cluster: one XGBoost tree booster per tag with xgboost.dask, the rows loaded
on the workers by moodboost's C++ loader, the same model directory as `moodboost train`.

    python3 -m moodboost.dask --features DIR --splits DIR --tags FILE --out MODEL_DIR \\
        --cluster local:2 --param max_depth=3 --rounds 300

What travels: the client reads the split files and the labels, discovers the feature schema from a
sample of the training files (as `moodboost train` does) and sends each worker the schema and a
range of split rows; each worker parses its own feature files into a float32 block (no JSON and
no feature matrix pass through the client or the scheduler). The blocks form a dask array.

Strategies (--strategy):
  rows  every tag is trained with xgboost.dask.train over the row blocks (histograms allreduced
        across the workers every round); a matrix of any size that fits the cluster's memory.
  tags  the blocks are gathered into one full copy per worker (worker to worker) and whole tags
        are trained on the workers in parallel with the local xgboost.train, sharing one XGBoost
        matrix per worker across tags; the models are those of a single-process run.
  auto  tags when the matrix fits every worker (its float32 bytes times kTagsMemoryFactor within
        the smallest worker memory limit) and there are at least as many tags as workers, else
        rows (measured: tags is faster whenever it fits; docs/scale.md).

The model directory is written through the C++ library's ModelDirWriter (model_writer.hpp): each
tag's model, then its record, atomically, as it finishes; thresholds.tsv, schema.json and
manifest.json last. An interrupted run (a lost worker, Ctrl-C) leaves finished tags and no
manifest; the same command resumes them, other arguments are refused unless --restart.
Family: trees only; held out on the validation split (no cross-validation, no search).
"""

import argparse
import hashlib
import logging
import sys
import threading
import time

import numpy as np

import moodboost

# auto picks "tags" when the float32 matrix times this fits the smallest worker's memory limit:
# the gathered copy, XGBoost's DMatrix built from it (its quantised index is a quarter of the
# floats at max_bin <= 256, plus its own float copy while it is built) and headroom.
kTagsMemoryFactor = 4


# ---- on the workers ------------------------------------------------------------------------------

def _load_block(features, split, rows, schema, options):
    """Rows [start, stop) of a split, parsed on this worker with the C++ loader."""
    x, _, report = moodboost.load_features(features, split, schema=schema, rows=rows, report=True,
                                           **options)
    # Per column: does it vary inside the block (bitwise, every NaN equal: the loader's rule
    # for --drop-constant), and the block's first row.
    bits = x.view(np.uint32)
    nan = np.isnan(x)
    same = (bits == bits[:1]) | (nan & nan[:1])
    meta = {"rows": x.shape[0], "kept_rows": np.asarray(report["kept_rows"], dtype=np.int64),
            "unknown_fields": report["unknown_fields"], "seconds": report["seconds"],
            "bytes": report["bytes_parsed"], "files": report["files_parsed"],
            "varies": ~same.all(axis=0), "first": x[:1].copy()}
    return x, meta


def _meta(block):
    return block[1]


def _finish_block(block, keep):
    """The block's kept columns, and one 8-byte hash per row (the run's data fingerprint)."""
    x = block[0]
    if keep is not None:
        x = np.ascontiguousarray(x[:, keep])
    hashes = b"".join(hashlib.blake2b(row.tobytes(), digest_size=8).digest() for row in x)
    return x, hashes


def _matrix(block):
    return block[0]


def _row_hashes(block):
    return block[1]


def _gather(*blocks):
    return np.concatenate(blocks, axis=0)


_local = threading.local()
_local_lock = threading.Lock()


def _train_tag_local(train_x, valid_x, key, y_train, y_valid, plan, eval_metric, threads):
    """One whole tag on this worker's full copy: the XGBoost matrices are built once per worker
    (key: not a task key, or Dask would pass that task's value) and shared by every tag trained
    here, as the C++ Trainer shares them."""
    import xgboost

    from distributed import get_worker

    if threads <= 0:
        threads = get_worker().state.nthreads
    with _local_lock:  # one tag at a time per worker process: the matrices' labels are shared
        cache = getattr(_local, "matrices", None)
        if cache is None or cache[0] != key:
            cache = (key, xgboost.DMatrix(train_x, nthread=threads),
                     xgboost.DMatrix(valid_x, nthread=threads))
            _local.matrices = cache
        _, dtrain, dvalid = cache
        dtrain.set_label(y_train.astype(np.float32))
        dvalid.set_label(y_valid.astype(np.float32))
        def local_train(**kw):
            history = {}
            booster = xgboost.train(dtrain=dtrain, evals=[(dvalid, "validation")],
                                    evals_result=history, **kw)
            return {"booster": booster, "history": history}

        return _fit(local_train, lambda model: model.predict(dvalid), plan, y_valid, eval_metric,
                    threads)


def _fit(train, predict, plan, y_valid, eval_metric, threads):
    """A booster trained as moodboost's Trainer trains one (train.cpp): the plan's parameters and
    round cap, early stopping on the validation split with the plan's patience when it has both
    classes; the kept model holds rounds [0, best_iteration]."""
    import xgboost

    start = time.perf_counter()
    params = dict(plan["params"])
    if threads > 0:
        params["nthread"] = str(threads)
    else:  # xgboost.dask gives each worker its own thread count
        params.pop("nthread", None)
    usable = 0 < int(y_valid.sum()) < len(y_valid)
    patience = plan["patience"] if usable else 0
    # early_stopping_rounds, not an EarlyStopping callback object: xgboost.dask 1.7 ships the
    # callbacks inside a closure that the workers cache by its pickled bytes, so a second tag
    # would get the first tag's callback back, its stopping state included (measured: the third
    # tag stopped after one round). XGBoost infers maximize from the metric (aucpr, auc, map,
    # ndcg, pre: as moodboost's metric_maximize).
    result = train(params=params, num_boost_round=plan["max_rounds"],
                   early_stopping_rounds=patience if patience > 0 else None, verbose_eval=False)
    # {"booster", "history"}, as xgboost.dask.train returns.
    booster, history = result["booster"], result["history"]
    rounds = booster.num_boosted_rounds()
    best = int(booster.attr("best_iteration")) if patience > 0 and booster.attr(
        "best_iteration") is not None else rounds - 1
    curve = history.get("validation", {}).get(eval_metric, [])
    best_score = float(curve[best]) if usable and best < len(curve) else float("nan")
    model = booster[: best + 1]
    model.set_attr(best_iteration=str(best))
    scores = np.asarray(predict(model), dtype=np.float64).ravel()
    return {"model": model, "best_iteration": best, "rounds_trained": rounds,
            "best_score": best_score, "validation_scores": scores,
            "seconds": time.perf_counter() - start}


def _serialise(fit, tag):
    fit = dict(fit)
    model = fit.pop("model")
    model.set_attr(moodboost_tag=tag)
    fit["model_json"] = bytes(model.save_raw("json")).decode()
    return fit


# ---- on the client -------------------------------------------------------------------------------

def _ranges(rows, parts):
    bounds = [rows * i // parts for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(parts) if bounds[i + 1] > bounds[i]]


def _feature_options(args):
    return {"covariance": args.covariance, "basic": args.basic, "include": args.include,
            "exclude": args.exclude, "beats_summary": args.beats_summary,
            "non_finite": args.non_finite, "lenient": args.lenient, "missing": args.missing}


def _settings(args):
    return moodboost.TreeRunSettings(
        params=args.param, rounds=args.rounds, early_stopping=args.early_stopping,
        eval_metric=args.eval_metric, seed=args.seed,
        scale_pos_weight=args.scale_pos_weight or "", family="tree", cv="0")


class _Blocks:
    """The row blocks of one split on the workers (futures), with their metadata."""

    def __init__(self, client, workers, features, split, rows, schema, options, threads,
                 parts):
        opts = dict(options, threads=threads)
        self.ranges = _ranges(rows, parts)
        self.workers = [workers[i % len(workers)] for i in range(len(self.ranges))]
        # Pinned loosely: each block loads on its worker; if that worker dies, Dask loads the
        # block again elsewhere instead of waiting for a worker that will not come back.
        self.loaded = [client.submit(_load_block, features, split, r, schema, opts, pure=False,
                                     workers=[w], allow_other_workers=True, retries=2)
                       for r, w in zip(self.ranges, self.workers)]
        self.meta = client.gather([client.submit(_meta, f) for f in self.loaded])

    def finish(self, client, keep):
        done = [client.submit(_finish_block, f, keep, pure=False) for f in self.loaded]
        self.matrices = [client.submit(_matrix, f) for f in done]
        hashes = client.gather([client.submit(_row_hashes, f) for f in done])
        self.loaded = None  # the unsliced blocks are released on the workers
        self.row_hashes = b"".join(hashes)
        self.kept_rows = np.concatenate([m["kept_rows"] for m in self.meta])
        self.rows = [m["rows"] for m in self.meta]


def _choose_strategy(args, client, rows, columns, tags):
    info = client.scheduler_info()["workers"]
    limits = [w.get("memory_limit") or 0 for w in info.values()]
    matrix_bytes = rows * columns * 4
    fits = min(limits) > 0 and matrix_bytes * kTagsMemoryFactor <= min(limits)
    if args.strategy != "auto":
        return args.strategy, f"--strategy {args.strategy}"
    if fits and tags >= len(info):
        return "tags", (f"auto: the matrix ({matrix_bytes / 1e6:.0f} MB) x {kTagsMemoryFactor} "
                        f"fits every worker ({min(limits) / 1e9:.1f} GB) and {tags} tags >= "
                        f"{len(info)} workers")
    why = (f"the matrix ({matrix_bytes / 1e6:.0f} MB) x {kTagsMemoryFactor} exceeds a worker's "
           f"memory limit ({min(limits) / 1e9:.1f} GB)" if not fits
           else f"{tags} tags < {len(info)} workers")
    return "rows", "auto: " + why


def train(client, features, splits, tags, out, args, command_line=(), on_tag_done=None,
          say=print, stats=None):
    """Trains every tag of the run described by \\p args (the parsed command line) on \\p client's
    workers into the model directory \\p out. Returns the per-tag records. on_tag_done(record,
    done, total) is called after each tag is written (an exception there stops the run: the
    finished tags stay, for a resume). stats, a dict, receives the timings (bench/bench_dask.py):
    load_seconds, block_seconds (per training block: the C++ loader's own time), block_rows,
    rows, columns, workers, strategy, train_seconds, tags_trained, tag_seconds, tag_rounds."""
    stats = {} if stats is None else stats
    import dask.array as da
    import xgboost.dask as dxgb

    settings = _settings(args)
    # "worker ... has an empty DMatrix": expected with the validation split in one block.
    logging.getLogger("[xgboost.dask]").setLevel(logging.ERROR)
    if settings.eval_metric == "ap":
        raise moodboost.InvalidArgument(
            "--eval-metric ap (moodboost's exact average precision) is computed in the C++ "
            "trainer only; on a cluster use aucpr (the default) or another XGBoost metric")
    files = moodboost.find_splits(splits)
    if files["train"] is None or files["validation"] is None:
        raise moodboost.InvalidArgument(f"{splits}: training needs a train and a validation split")
    _, train_y = moodboost.load_split(files["train"], tags, unknown_tags=args.unknown_tags)
    _, valid_y = moodboost.load_split(files["validation"], tags, unknown_tags=args.unknown_tags)
    tag_names = open(tags).read().split() if not isinstance(tags, list) else list(tags)
    if len(tag_names) != train_y.shape[1]:
        raise moodboost.InvalidArgument(f"{tags}: {len(tag_names)} names for {train_y.shape[1]} tags")

    options = _feature_options(args)
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise moodboost.Error("the cluster has no workers")
    parts = len(workers) * max(1, args.blocks_per_worker)
    t0 = time.perf_counter()
    schema = moodboost.discover_schema(features, files["train"], **options)
    blocks_train = _Blocks(client, workers, features, files["train"], len(train_y), schema,
                           options, args.threads, parts)
    blocks_valid = _Blocks(client, workers, features, files["validation"], len(valid_y), schema,
                           options, args.threads, max(1, args.validation_blocks))
    unknown = {}
    for m in blocks_train.meta + blocks_valid.meta:
        for name, count in m["unknown_fields"].items():
            unknown[name] = unknown.get(name, 0) + count
    if unknown:
        names = ", ".join(sorted(unknown)[:5])
        raise moodboost.DataError(
            f"{len(unknown)} field(s) ({names}) appear in feature files outside the 16-file "
            f"sample the schema was discovered from; `moodboost train` would add them. Train "
            f"with `moodboost train`, or --exclude them")
    # --drop-constant over the training rows, as the loader does it: a column is constant when
    # no block varies in it and every block's first row agrees.
    keep = None
    if not args.keep_constant:
        firsts = np.concatenate([m["first"] for m in blocks_train.meta])
        bits, nan = firsts.view(np.uint32), np.isnan(firsts)
        across = ~((bits == bits[:1]) | (nan & nan[:1])).all(axis=0)
        varies = np.logical_or.reduce([m["varies"] for m in blocks_train.meta]) | across
        if not varies.any():
            raise moodboost.DataError("every feature column is constant on the training rows")
        if not varies.all():
            keep = np.flatnonzero(varies)
            schema = schema.keep(keep.tolist())
    blocks_train.finish(client, keep)
    blocks_valid.finish(client, keep)
    train_y = train_y[blocks_train.kept_rows]
    valid_y = valid_y[blocks_valid.kept_rows]
    columns = len(schema)
    load_seconds = time.perf_counter() - t0
    files_parsed = sum(m["files"] for m in blocks_train.meta + blocks_valid.meta)
    stats.update(load_seconds=load_seconds, rows=len(train_y) + len(valid_y), columns=columns,
                 workers=len(workers), block_seconds=[m["seconds"] for m in blocks_train.meta],
                 block_rows=[m["rows"] for m in blocks_train.meta], tag_seconds=[],
                 tag_rounds=[])
    say(f"loaded {len(train_y)}+{len(valid_y)} rows x {columns} columns on {len(workers)} "
        f"worker(s) in {load_seconds:.1f}s ({files_parsed} files)")

    strategy, why = _choose_strategy(args, client, len(train_y) + len(valid_y), columns,
                                     len(tag_names))
    say(f"strategy: {strategy} ({why})")
    digest = hashlib.blake2b(blocks_train.row_hashes + blocks_valid.row_hashes).hexdigest()[:16]
    fingerprint = {
        "data.features": f"{digest} ({len(train_y)}+{len(valid_y)} rows x {columns} columns)",
        "data.labels": hashlib.blake2b(np.ascontiguousarray(train_y).tobytes() +
                                       np.ascontiguousarray(valid_y).tobytes()).hexdigest()[:16],
    }
    # Rows: XGBoost's distributed quantile sketch depends on how the rows are split.
    trainer = {"engine": f"xgboost.dask {__import__('xgboost').__version__}",
               "strategy": strategy,
               "partitions": str(len(blocks_train.ranges)) if strategy == "rows" else "any"}
    writer = moodboost.ModelDirWriter(
        out, settings, features, tag_names,
        [("train", files["train"], len(train_y)), ("validation", files["validation"], len(valid_y))],
        schema, valid_y, fingerprint, trainer, list(command_line), restart=args.restart,
        **{k: v for k, v in options.items()}, drop_constant=not args.keep_constant)
    with writer:  # the directory lock is released when training ends, however it ends
        for line in writer.messages:
            say(line)
        todo = [i for i in range(len(tag_names)) if writer.finished(i) is None]
        total = len(tag_names)
        done = total - len(todo)

        def plan_of(i):
            positives = int(train_y[:, i].sum())
            if positives == 0:
                raise moodboost.DataError(f"tag '{tag_names[i]}' has no positive training row")
            return settings.plan(positives, len(train_y) - positives, args.threads)

        def record(i, fit, plan):
            nonlocal done
            r = writer.add(i, fit["model_json"], fit["best_iteration"], fit["rounds_trained"],
                           fit["best_score"], plan["scale_pos_weight"], plan["base_score"],
                           int(train_y[:, i].sum()), fit["validation_scores"].tolist(),
                           fit["seconds"])
            done += 1
            stats["tag_seconds"].append(fit["seconds"])
            stats["tag_rounds"].append(fit["rounds_trained"])
            say(f"[{done}/{total}] {tag_names[i]}: {fit['best_iteration'] + 1} rounds, validation "
                f"PR-AUC {r['validation_pr_auc']:.4f}, {fit['seconds']:.1f}s")
            if on_tag_done is not None:
                on_tag_done(r, done, total)

        def failed(i, error):
            return moodboost.Error(
                f"training tag '{tag_names[i]}' failed on the cluster ({type(error).__name__}: "
                f"{error}); {done} of {total} tags are finished in {out}: run the same command again "
                f"to resume")

        t1 = time.perf_counter()
        if strategy == "rows":
            chunks_t, chunks_v = tuple(blocks_train.rows), tuple(blocks_valid.rows)
            x_train = da.concatenate([da.from_delayed(f, shape=(n, columns), dtype=np.float32)
                                      for f, n in zip(blocks_train.matrices, chunks_t)])
            x_valid = da.concatenate([da.from_delayed(f, shape=(n, columns), dtype=np.float32)
                                      for f, n in zip(blocks_valid.matrices, chunks_v)])
            for i in todo:
                plan = plan_of(i)
                y_t = da.from_array(train_y[:, i].astype(np.float32), chunks=chunks_t)
                y_v = da.from_array(valid_y[:, i].astype(np.float32), chunks=chunks_v)
                try:
                    dtrain = dxgb.DaskDMatrix(client, x_train, y_t)
                    dvalid = dxgb.DaskDMatrix(client, x_valid, y_v)
                    fit = _fit(
                        lambda **kw: dxgb.train(client, dtrain=dtrain,
                                                evals=[(dvalid, "validation")], **kw),
                        lambda model: dxgb.inplace_predict(client, model, x_valid).compute(),
                        plan, valid_y[:, i], settings.eval_metric, args.threads)
                except (KeyboardInterrupt, moodboost.Error):
                    raise
                except Exception as error:  # a lost worker, a failed allreduce, ...
                    raise failed(i, error) from error
                record(i, _serialise(fit, tag_names[i]), plan)
        else:
            from distributed import as_completed

            full_train = [client.submit(_gather, *blocks_train.matrices, workers=[w], pure=False)
                          for w in workers]
            full_valid = [client.submit(_gather, *blocks_valid.matrices, workers=[w], pure=False)
                          for w in workers]
            futures = {}
            plans = {}
            for k, i in enumerate(todo):
                w = k % len(workers)
                plans[i] = plan_of(i)
                f = client.submit(_train_tag_local_serialised, full_train[w], full_valid[w],
                                  f"{full_train[w].key}#matrices", train_y[:, i], valid_y[:, i], plans[i],
                                  settings.eval_metric, args.threads,
                                  tag_names[i], workers=[workers[w]], allow_other_workers=True,
                                  pure=False, retries=1)
                futures[f] = i
            try:
                for f in as_completed(list(futures)):
                    i = futures[f]
                    try:
                        fit = f.result()
                    except Exception as error:
                        raise failed(i, error) from error
                    record(i, fit, plans[i])
            finally:
                for f in futures:
                    f.cancel()
        stats.update(strategy=strategy, train_seconds=time.perf_counter() - t1, tags_trained=len(todo))
        records = writer.finish(args.threads, "per-tag" if strategy == "rows" else "tags-in-parallel")
    say(f"trained {len(todo)} tag(s) in {time.perf_counter() - t1:.1f}s ({strategy}); model "
        f"directory {out} complete")
    return records


def _train_tag_local_serialised(train_x, valid_x, key, y_train, y_valid, plan, eval_metric,
                                threads, tag):
    return _serialise(_train_tag_local(train_x, valid_x, key, y_train, y_valid, plan,
                                       eval_metric, threads), tag)


def connect(cluster, threads):
    """A Client for --cluster local:N (a LocalCluster of N worker processes on loopback, one
    thread each unless --threads) or tcp://HOST:PORT (a running scheduler)."""
    from distributed import Client, LocalCluster

    if cluster.startswith("local:"):
        try:
            n = int(cluster[len("local:"):])
        except ValueError:
            n = 0
        if n < 1:
            raise moodboost.InvalidArgument(f"--cluster {cluster}: expected local:N with N >= 1")
        local = LocalCluster(n_workers=n, threads_per_worker=max(1, threads), processes=True,
                             host="127.0.0.1", dashboard_address=None,
                             silence_logs=logging.ERROR)
        return Client(local), local
    if cluster.startswith("tcp://"):
        return Client(cluster), None
    raise moodboost.InvalidArgument(
        f"--cluster {cluster}: expected local:N or tcp://HOST:PORT (a dask scheduler)")


def parser():
    p = argparse.ArgumentParser(
        prog="python3 -m moodboost.dask",
        description="Train one XGBoost tree booster per tag on a Dask cluster (xgboost.dask, "
                    "tree_method hist) into the same model directory as `moodboost train`. "
                    "Family: trees only; held out on the validation split (early stopping and "
                    "thresholds), no cross-validation, no search.")
    p.add_argument("--features", required=True, help="features directory (NN/<id>.json)")
    p.add_argument("--splits", required=True, help="directory with *-train.tsv, *-validation.tsv")
    p.add_argument("--tags", required=True, help="tag list (one per line)")
    p.add_argument("--out", required=True, help="model directory to write (or resume)")
    p.add_argument("--unknown-tags", choices=["error", "ignore"], default="error",
                   help="a split's tag outside --tags: an error (default) or left out")
    p.add_argument("--cluster", default="local:2",
                   help="local:N (N worker processes on loopback) or tcp://HOST:PORT "
                        "(default local:2)")
    p.add_argument("--strategy", choices=["rows", "tags", "auto"], default="auto",
                   help="rows: every tag over all workers (xgboost.dask); tags: whole tags per "
                        "worker on a full copy; auto: tags when the matrix fits every worker "
                        "and tags >= workers (default)")
    p.add_argument("--blocks-per-worker", type=int, default=1,
                   help="row blocks each worker loads (default 1)")
    p.add_argument("--validation-blocks", type=int, default=1,
                   help="row blocks of the validation split (default 1: XGBoost 1.7 evaluates "
                        "aucpr on a validation set spread over workers differently from one "
                        "process, and early stopping then picks other rounds; docs/scale.md)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="XGBoost tree parameter (repeatable), as `moodboost train --param`")
    p.add_argument("--rounds", type=int, help="most rounds at eta >= 0.1 (default 300)")
    p.add_argument("--early-stopping", type=int,
                   help="patience in rounds on the validation split (0 = off; default 20)")
    p.add_argument("--eval-metric", help="XGBoost eval_metric for early stopping (default aucpr)")
    p.add_argument("--scale-pos-weight", choices=["none", "sqrt", "ratio"],
                   help="positive-class weight per tag (default none)")
    p.add_argument("--seed", type=int, default=0, help="XGBoost seed (default 0)")
    p.add_argument("--threads", type=int, default=0,
                   help="threads per worker for loading and XGBoost (0: the worker's; "
                        "local:N workers get max(1, threads) each)")
    p.add_argument("--restart", action="store_true",
                   help="discard an earlier run with other arguments in --out")
    g = p.add_argument_group("features (as `moodboost train`)")
    g.add_argument("--covariance", choices=["full", "upper", "none"], default="upper")
    g.add_argument("--keep-constant", action="store_true",
                   help="keep columns constant on the training rows (dropped by default)")
    g.add_argument("--basic", action="store_true")
    g.add_argument("--include", action="append", default=[], metavar="GLOB")
    g.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    g.add_argument("--beats-summary", action="store_true")
    g.add_argument("--non-finite", choices=["accept", "reject"], default="accept")
    g.add_argument("--lenient", action="store_true")
    g.add_argument("--missing", choices=["error", "skip"], default="error")
    return p


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    try:
        _settings(args)  # every training option checked before a cluster starts
        client, local = connect(args.cluster, args.threads)
        try:
            train(client, args.features, args.splits, args.tags, args.out, args,
                  command_line=["python3", "-m", "moodboost.dask", *argv],
                  say=lambda line: print(line, file=sys.stderr, flush=True))
        finally:
            client.close()
            if local is not None:
                local.close()
    except moodboost.InvalidArgument as e:
        print(f"moodboost.dask: {e}", file=sys.stderr)
        return 2
    except (moodboost.Error, OSError) as e:
        print(f"moodboost.dask: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"moodboost.dask: interrupted; finished tags are kept in {args.out}: run the same "
              f"command again to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    # Run as the module moodboost.dask, not as __main__: the workers import the functions they
    # run by name instead of receiving them (and this module's globals) pickled by value.
    from moodboost.dask import main as module_main

    sys.exit(module_main())
