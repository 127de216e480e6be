"""The Python module against the command line: the same matrices, labels, metrics, predictions
and models, bit for bit. Run by scripts/test.sh:

    PYTHONPATH=build/python MOODBOOST_CLI=build/bin/moodboost python3 -m pytest python/tests
"""

import glob
import os
import threading
import time

import numpy as np
import pytest

import moodboost
from cli_support import cli



@pytest.fixture(scope="session")
def data(tmp_path_factory):
    """A small synthetic dataset (moodboost synth, 201 tracks) and a model trained on it by the CLI."""
    root = tmp_path_factory.mktemp("moodboost")
    cli("synth", "--out", root / "data", "--tracks", 201, "--threads", 2)
    d = {"root": root, "features": root / "data" / "features", "splits": root / "data" / "splits",
         "tags": root / "data" / "tags.txt"}
    d["test"] = d["splits"] / "synthetic-test.tsv"
    d["train_args"] = ["--family", "tree", "--cv", "0", "--trials", "0", "--rounds", "10",
                       "--param", "max_bin=16", "--threads", "2"]
    cli("train", "--features", d["features"], "--splits", d["splits"], "--tags", d["tags"],
        "--out", root / "model", *d["train_args"])
    d["model"] = root / "model"
    return d


def test_load_features_equals_flatten_without_a_copy(data, tmp_path):
    for options, flags in (({}, []),
                           ({"covariance": "upper", "drop_constant": True},
                            ["--covariance", "upper", "--drop-constant"])):
        x, names = moodboost.load_features(data["features"], data["test"], **options)
        cli("flatten", "--features", data["features"], "--split", data["test"], "--out",
            tmp_path / "x.npy", "--names", tmp_path / "names.txt", *flags)
        expected = np.load(tmp_path / "x.npy")
        assert x.dtype == np.float32 and x.shape == expected.shape
        assert np.array_equal(x, expected, equal_nan=True)
        assert names == (tmp_path / "names.txt").read_text().splitlines()
        # Handed over, not copied: numpy does not own the buffer, the library's matrix does.
        assert not x.flags["OWNDATA"] and x.base is not None and x.flags["C_CONTIGUOUS"]
    # A saved schema fixes the columns (the model's).
    x, names = moodboost.load_features(data["features"], data["test"], schema=data["model"] / "schema.json")
    assert names == moodboost.Model.load(data["model"]).columns


def test_load_split_labels_follow_the_tag_list(data):
    tags = data["tags"].read_text().split()
    ids, labels = moodboost.load_split(data["test"], data["tags"])
    ids2, labels2 = moodboost.load_split(data["test"], tags)
    assert ids == ids2 and np.array_equal(labels, labels2)
    assert labels.dtype == np.bool_ and labels.shape == (len(ids), len(tags))
    rows = [line.split("\t") for line in data["test"].read_text().splitlines()[1:]]
    assert ids == [r[0] for r in rows]
    for row, r in zip(labels, rows):
        assert sorted(t for t, v in zip(tags, row) if v) == sorted(r[5:])


def test_model_predicts_what_the_cli_predicts(data, tmp_path):
    model = moodboost.Model.load(data["model"])
    x, _ = moodboost.load_features(data["features"], data["test"], schema=data["model"] / "schema.json")
    scores = model.predict(x)
    cli("predict", "--model", data["model"], "--features", data["features"], "--split", data["test"],
        "--out-dir", tmp_path)
    assert scores.dtype == np.float64
    assert np.array_equal(scores, np.load(tmp_path / "predictions.npy"))
    assert np.array_equal(model.decide(scores), np.load(tmp_path / "decisions.npy"))
    thresholds = [float(line.split("\t")[1]) for line in (data["model"] / "thresholds.tsv").read_text().splitlines()]
    assert model.thresholds == thresholds
    assert model.tags == data["tags"].read_text().split()
    assert set(model.tag_models) == {"tree"}


def test_evaluate_gives_the_official_metrics_as_the_cli(data, tmp_path):
    model = moodboost.Model.load(data["model"])
    x, _ = moodboost.load_features(data["features"], data["test"], schema=data["model"] / "schema.json")
    scores = model.predict(x)
    decisions = model.decide(scores)
    _, truth = moodboost.load_split(data["test"], model.tags)
    present = truth.any(axis=0)  # the official evaluation needs both classes in every column
    for name, array in (("gt", truth[:, present]), ("p", scores[:, present]), ("d", decisions[:, present])):
        np.save(tmp_path / (name + ".npy"), np.ascontiguousarray(array))
    got = moodboost.evaluate(truth[:, present], scores[:, present], decisions[:, present])
    cli("evaluate", tmp_path / "gt.npy", tmp_path / "p.npy", "-d", tmp_path / "d.npy", "-o", tmp_path / "r.tsv")
    official = dict(line.split("\t") for line in (tmp_path / "r.tsv").read_text().splitlines())
    assert list(got) == list(official)
    for name, value in official.items():
        assert f"{got[name]:.6f}" == value
    assert set(moodboost.evaluate(truth[:, present], scores[:, present])) == {
        "ROC-AUC-macro", "PR-AUC-macro", "ROC-AUC-micro", "PR-AUC-micro"}


def test_training_from_python_equals_the_cli(data, tmp_path):
    summary = moodboost.train(data["features"], data["splits"], tmp_path / "model", tags=data["tags"],
                              family="tree", cv="0", trials=0, rounds=10, params=["max_bin=16"], threads=2)
    assert [s["tag"] for s in summary] == data["tags"].read_text().split()
    assert all(s["model"] == "tree" and s["components"][0]["family"] == "tree" for s in summary)
    ours = sorted(glob.glob(str(tmp_path / "model" / "models" / "*.json")))
    theirs = sorted(glob.glob(str(data["model"] / "models" / "*.json")))
    assert [os.path.basename(p) for p in ours] == [os.path.basename(p) for p in theirs]
    for a, b in zip(ours, theirs):
        assert open(a, "rb").read() == open(b, "rb").read()


def test_errors_are_python_exceptions_with_the_library_messages(data, tmp_path):
    bad = tmp_path / "features" / "00"
    bad.mkdir(parents=True)
    split = tmp_path / "split.tsv"
    split.write_text("TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\n"
                     "track_0000100\tartist_1\talbum_1\t00/100.mp3\t10.0\tmood/theme---happy\n")
    (bad / "100.json").write_text('{"lowlevel": {"x": [1, 2')
    with pytest.raises(moodboost.ParseError, match=r"00/100\.json"):
        moodboost.load_features(tmp_path / "features", split)
    with pytest.raises(moodboost.IoError) as io:
        moodboost.load_features(tmp_path / "nowhere", split)
    assert isinstance(io.value, OSError) and isinstance(io.value, moodboost.Error)
    with pytest.raises(moodboost.InvalidArgument, match="covariance 'half'"):
        moodboost.load_features(data["features"], data["test"], covariance="half")
    with pytest.raises(ValueError, match="unknown feature option 'colour'"):
        moodboost.load_features(data["features"], data["test"], colour="red")
    with pytest.raises(moodboost.InvalidArgument, match="max_dpeth"):
        moodboost.train(data["features"], data["splits"], tmp_path / "m", params=["max_dpeth=3"])
    assert not (tmp_path / "m").exists()
    with pytest.raises(moodboost.IoError, match="no manifest"):
        moodboost.Model.load(tmp_path)


def test_loading_releases_the_gil(data):
    """While the library reads files, Python code in another thread keeps running."""
    done = threading.Event()
    ticks = 0

    def load():
        moodboost.load_features(data["features"], data["splits"] / "synthetic-train.tsv", threads=1)
        done.set()

    worker = threading.Thread(target=load)
    worker.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0)
    worker.join()
    assert ticks > 100
