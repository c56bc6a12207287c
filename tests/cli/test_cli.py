"""``python -m skusl demo`` and ``python -m skusl select``."""

import json
import subprocess
import sys

import numpy as np
import pytest

from skusl.cli import main
from skusl.io import load_indices


@pytest.fixture(scope="module")
def embeddings(tmp_path_factory):
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=300, centers=6, n_features=8, random_state=0)
    folder = tmp_path_factory.mktemp("emb")
    np.save(folder / "emb.npy", X.astype(np.float32))
    np.savez(folder / "emb.npz", X=X, ids=np.arange(300))
    np.savetxt(folder / "emb.csv", X, delimiter=",", header=",".join(f"f{i}" for i in range(8)),
               comments="")
    return X, folder


def _select(path, out, *extra):
    return main(["select", str(path), "--budget", "7", "--seed", "1", "--quiet",
                 "--out", str(out), *extra])


def test_select_reads_every_format_alike(embeddings, tmp_path):
    from skusl.selection import RECOMMENDED, make_selector

    X, folder = embeddings
    expected = make_selector(RECOMMENDED, 7, random_state=1).fit(
        X.astype(np.float32)).selected_indices_
    for name in ("emb.npy", "emb.npz", "emb.csv"):
        out = tmp_path / f"{name}.txt"
        assert _select(folder / name, out) == 0
        np.testing.assert_array_equal(load_indices(out), expected)


def test_select_reads_parquet(embeddings, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    X, _ = embeddings
    table = pa.table({f"f{i}": X[:, i] for i in range(X.shape[1])})
    pq.write_table(table, tmp_path / "emb.parquet")
    vectors = pa.table({"embedding": [row.tolist() for row in X]})
    pq.write_table(vectors, tmp_path / "vec.parquet")
    assert _select(tmp_path / "emb.parquet", tmp_path / "a.npy") == 0
    assert _select(tmp_path / "vec.parquet", tmp_path / "b.npy") == 0
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


@pytest.mark.parametrize("suffix", [".csv", ".json", ".npy", ".txt"])
def test_output_formats(embeddings, tmp_path, suffix):
    _, folder = embeddings
    out = tmp_path / f"sel{suffix}"
    assert _select(folder / "emb.npy", out) == 0
    got = load_indices(out)
    assert got.shape == (7,) and len(set(got.tolist())) == 7
    if suffix == ".json":
        assert json.loads(out.read_text()) == got.tolist()
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write left no temp file


def test_errors_are_reported_not_raised(embeddings, tmp_path, capsys):
    _, folder = embeddings
    assert main(["select", str(folder / "missing.npy"), "--budget", "3", "-q"]) == 2
    assert "no such embeddings file" in capsys.readouterr().err
    assert main(["select", str(folder / "emb.npy"), "--budget", "301", "-q",
                 "--out", str(tmp_path / "x.csv")]) == 2
    assert "n_select=301 exceeds n_samples=300" in capsys.readouterr().err
    assert main(["select", str(folder / "emb.npy"), "--budget", "3", "-q",
                 "--out", str(tmp_path / "x.xlsx")]) == 2
    assert not (tmp_path / "x.xlsx").exists()


def test_npz_with_several_arrays_needs_a_key(tmp_path, capsys):
    np.savez(tmp_path / "two.npz", a=np.eye(20), b=np.eye(20))
    assert main(["select", str(tmp_path / "two.npz"), "--budget", "2", "-q",
                 "--method", "usl", "--k", "3", "--out", str(tmp_path / "o.csv")]) == 2
    assert "--key" in capsys.readouterr().err
    assert main(["select", str(tmp_path / "two.npz"), "--key", "b", "--budget", "2", "-q",
                 "--method", "usl", "--k", "3", "--out", str(tmp_path / "o.csv")]) == 0


def test_npz_object_arrays_are_never_unpickled(tmp_path, capsys):
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}] * 10, dtype=object))
    assert main(["select", str(tmp_path / "obj.npz"), "--budget", "2", "-q"]) == 2
    assert "allow_pickle" in capsys.readouterr().err


def test_demo_runs_and_saves(tmp_path):
    out = tmp_path / "demo.csv"
    proc = subprocess.run([sys.executable, "-m", "skusl", "demo", "--out", str(out)],
                          capture_output=True, text=True, check=True)
    assert "classes covered" in proc.stdout and "USL" in proc.stdout
    assert load_indices(out).shape == (20,)


def test_help_lists_commands():
    proc = subprocess.run([sys.executable, "-m", "skusl", "--help"], capture_output=True,
                          text=True, check=True)
    assert "select" in proc.stdout and "demo" in proc.stdout


def test_select_then_label_end_to_end(tmp_path):
    """The shell path a user takes: select, annotate, propagate."""
    import csv

    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    np.save(tmp_path / "digits.npy", X.astype(np.float32))
    assert main(["select", str(tmp_path / "digits.npy"), "--budget", "30", "-q",
                 "--out", str(tmp_path / "to_label.csv")]) == 0
    chosen = load_indices(tmp_path / "to_label.csv")
    with open(tmp_path / "labels.csv", "w") as f:  # the annotators' answers
        f.write("index,label\n" + "".join(f"{i},{y[i]}\n" for i in chosen))
    assert main(["label", str(tmp_path / "digits.npy"), "--labels",
                 str(tmp_path / "labels.csv"), "--k", "5", "-q",
                 "--out", str(tmp_path / "all.csv")]) == 0
    with open(tmp_path / "all.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(X)
    labels = np.array([int(r["label"]) for r in rows])
    np.testing.assert_array_equal(labels[chosen], y[chosen])
    assert np.mean(labels == y) > 0.7


def _methods():
    from skusl.selection import SELECTORS

    out = []
    for name, spec in SELECTORS.items():
        marks = ()
        if spec.kind == "deep":
            marks = pytest.mark.skipif(not _torch(), reason="needs PyTorch")
        out.append(pytest.param(name, marks=marks))
    return out


def _torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("method", _methods())
def test_select_every_registry_method(embeddings, tmp_path, method):
    from skusl.selection import make_selector

    X, folder = embeddings
    out = tmp_path / "sel.npy"
    assert _select(folder / "emb.npy", out, "--method", method) == 0
    expected = make_selector(method, 7, random_state=1).fit(
        X.astype(np.float32)).selected_indices_
    np.testing.assert_array_equal(np.load(out), expected)


def test_select_default_is_the_recommended_and_warm_start(embeddings, tmp_path, capsys):
    from skusl.selection import RECOMMENDED, make_selector

    X, folder = embeddings
    assert _select(folder / "emb.npy", tmp_path / "a.npy") == 0
    assert _select(folder / "emb.npy", tmp_path / "b.npy", "--method", RECOMMENDED) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
    np.savetxt(tmp_path / "done.txt", [3, 10, 42], fmt="%d")
    assert _select(folder / "emb.npy", tmp_path / "c.npy", "--method", "kcenter_greedy",
                   "--labeled", str(tmp_path / "done.txt")) == 0
    expected = make_selector("kcenter_greedy", 7, random_state=1).fit(
        X.astype(np.float32), labeled=[3, 10, 42]).selected_indices_
    np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), expected)
    assert not {3, 10, 42} & set(np.load(tmp_path / "c.npy").tolist())
    assert _select(folder / "emb.npy", tmp_path / "d.npy", "--method", "random",
                   "--clusters", "4") == 2
    assert "--clusters does not apply to --method random" in capsys.readouterr().err
