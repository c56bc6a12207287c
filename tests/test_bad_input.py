"""Bad input across every public entry point (issue 10).

Every estimator, every public function of ``skusl.neighbors``, ``skusl.io``
and ``skusl.metrics``, and every CLI command meets the same bad inputs:
NaN, inf, empty, 1-D, 3-D, sparse, object and bool dtypes, extreme
magnitudes, duplicates, wrong lengths. The rule: a ``ValueError`` (``error:``
and exit 2 in the CLI) that names the fix, or a correct answer; never a
wrong answer or a traceback from deep inside numpy/numba/scipy.

The estimator list is discovered from ``skusl.__all__`` and the public
subpackages; an estimator added there without an entry in ``ESTIMATORS``
fails ``test_every_public_estimator_is_listed`` until it is listed.
"""

import importlib
import importlib.util
import inspect

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator

import skusl

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs torch (pip install skusl[torch])")


# ------------------------------------------------------------------ the data
def _blobs(n=36, d=4, seed=0):
    """Three tight, well separated groups (a clear right answer)."""
    rng = np.random.RandomState(seed)
    centres = np.eye(d)[:3] * 4.0 + 1.0
    y = np.arange(n) % 3
    return centres[y] + 0.3 * rng.rand(n, d), y


def _partial_labels(y, per_class=2):
    y_semi = np.full(y.shape, -1)
    for c in np.unique(y):
        y_semi[np.flatnonzero(y == c)[:per_class]] = c
    return y_semi


# ------------------------------------------------------------ the estimators
def _selector(name, **params):
    def make():
        return getattr(skusl, name)(**params)
    return make


class _Rows:
    """A torch-free stand-in model for TorchFeaturizer: one output row per input row."""

    def __call__(self, batch):
        return batch[:, :3] * 2.0


def _featurizer():
    from skusl.deep import TorchFeaturizer

    return TorchFeaturizer(_Rows(), device="cpu")


#: name -> (factory on small data, kind). Kinds: "selector" (fit(X)),
#: "labeler" (fit(X, y) with -1 for unlabeled), "featurizer" (transform(X)).
ESTIMATORS = {
    "USLSelector": (_selector("USLSelector", n_select=3, n_neighbors=4, random_state=0),
                    "selector"),
    "RandomSelector": (_selector("RandomSelector", n_select=3, random_state=0), "selector"),
    "KMeansClosestSelector": (_selector("KMeansClosestSelector", n_select=3, random_state=0),
                              "selector"),
    "KCenterGreedySelector": (_selector("KCenterGreedySelector", n_select=3, random_state=0),
                              "selector"),
    "TypiClustSelector": (_selector("TypiClustSelector", n_select=3, n_neighbors=4,
                                    min_cluster_size=1, random_state=0), "selector"),
    "ProbCoverSelector": (_selector("ProbCoverSelector", n_select=3, n_neighbors=4,
                                    delta=0.5, random_state=0), "selector"),
    "MaxHerdingSelector": (_selector("MaxHerdingSelector", n_select=3, random_state=0),
                           "selector"),
    "HDLLabeler": (_selector("HDLLabeler", n_neighbors=3), "labeler"),
    "AutoK": (_selector("AutoK", k_max=4, random_state=0), "labeler"),
    "TorchFeaturizer": (_featurizer, "featurizer"),
    "USLTClusterer": (_selector("USLTClusterer", n_select=3, n_neighbors=4, n_epochs=2,
                                min_steps=0, batch_size=16, random_state=0, device="cpu"),
                      "selector"),
}
TORCH_ESTIMATORS = {"TorchFeaturizer", "USLTClusterer"}
#: Abstract bases that are exported for subclassing, not for fitting.
NOT_ESTIMATORS = {"BaseSelector", "BaseKNNSelector"}
_PUBLIC_PACKAGES = ("selection", "labeling", "model_selection", "deep")


def _public_estimator_names():
    names = set()
    for name in skusl.__all__:
        obj = getattr(skusl, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            names.add(name)
        if inspect.ismodule(obj) and name in _PUBLIC_PACKAGES:
            for sub in getattr(obj, "__all__", ()):
                cls = getattr(obj, sub)
                if inspect.isclass(cls) and issubclass(cls, BaseEstimator):
                    names.add(sub)
    return names - NOT_ESTIMATORS


def test_every_public_estimator_is_listed():
    missing = _public_estimator_names() - set(ESTIMATORS)
    assert not missing, (f"public estimators {sorted(missing)} have no entry in ESTIMATORS of "
                         "tests/test_bad_input.py: add a small-data factory for each.")


def _estimator_params():
    params = []
    for name, (make, kind) in ESTIMATORS.items():
        marks = [needs_torch] if name in TORCH_ESTIMATORS else []
        params.append(pytest.param(name, make, kind, id=name, marks=marks))
    return params


def _make(name, make):
    if name not in _public_estimator_names():
        pytest.fail(f"{name} is listed in ESTIMATORS but no longer exported by skusl")
    return make()


def _run(est, kind, X, y=None):
    """Fit (or transform) an estimator the way its kind is used."""
    if kind == "featurizer":
        return est.transform(X)
    if kind == "labeler":
        return est.fit(X, _partial_labels(y) if y is not None else None)
    return est.fit(X)


def _result(est, kind, out):
    if kind == "featurizer":
        return np.asarray(out)
    if kind == "labeler":
        return getattr(est, "transduction_", getattr(est, "k_", None))
    return est.selected_indices_


# ------------------------------------------------------------- estimators: X
def _bad_X_cases():
    X, _ = _blobs()
    nan, inf = X.copy(), X.copy()
    nan[5, 1] = np.nan
    inf[7, 0] = np.inf
    return [
        ("nan", nan, "NaN"),
        ("inf", inf, "infinity"),
        ("empty", np.zeros((0, 4)), "0 sample"),
        ("1d", X[:, 0], "2D array"),
        ("3d", X.reshape(len(X), 2, 2), "2-D"),
        ("sparse", sp.csr_matrix(X), "toarray"),
        ("strings", X.astype(str).astype(object)[:, :3].copy(), None),  # numeric strings: ok
        ("words", np.array([["a", "b"]] * len(X), dtype=object), "numbers"),
        ("complex", X.astype(complex), "(?i)complex"),
    ]


@pytest.mark.parametrize("case, X, match", _bad_X_cases(), ids=lambda v: v
                         if isinstance(v, str) else "")
@pytest.mark.parametrize("name, make, kind", _estimator_params())
def test_bad_X(name, make, kind, case, X, match):
    _, y = _blobs()
    est = _make(name, make)
    if kind == "featurizer" and case == "3d":  # images are 3-D: one embedding per row
        assert np.asarray(_run(est, kind, X, y)).shape[0] == len(X)
        return
    if kind == "featurizer" and case == "sparse":  # scikit-learn's check_array: TypeError
        with pytest.raises(TypeError, match="toarray"):
            _run(est, kind, X, y)
        return
    if kind == "featurizer" and case == "words":  # its own check_array names the value
        match = "could not convert string"
    if match is None:  # convertible: must give a result, as the numeric array does
        ref = _result(est, kind, _run(est, kind, np.asarray(X, dtype=float), y))
        out = _result(est, kind, _run(_make(name, make), kind, X, y))
        np.testing.assert_array_equal(out, ref)
        return
    with pytest.raises(ValueError, match=match):
        _run(est, kind, X, y)


@pytest.mark.parametrize("name, make, kind", _estimator_params())
def test_bool_and_int_X_are_converted(name, make, kind):
    X, y = _blobs()
    Xi = np.round(X * 3).astype(np.int64)
    est = make()
    out = _result(est, kind, _run(est, kind, Xi, y))
    est_f = make()
    ref = _result(est_f, kind, _run(est_f, kind, Xi.astype(np.float64), y))
    np.testing.assert_array_equal(out, ref)
    Xb = Xi > 6
    est = make()
    _run(est, kind, Xb, y)  # no error: booleans are 0/1 features


@pytest.mark.parametrize("name, make, kind", _estimator_params())
@pytest.mark.parametrize("dtype, exponent", [(np.float64, 520), (np.float64, -540),
                                             (np.float32, 66)])
def test_extreme_magnitudes(name, make, kind, dtype, exponent):
    # float64 >= 1e155 or <= 1e-160 and float32 >= 1e19: with normalize=True
    # (the default) the answer is the one at an ordinary scale; with
    # normalize=False a clear error says to rescale.
    X, y = _blobs()
    if kind == "featurizer" and dtype is np.float64:
        # the model computes in float32, which cannot hold these values
        with pytest.raises(ValueError, match="rescale"):
            _run(make(), kind, np.ldexp(X, exponent), y)
        return
    X = X.astype(dtype)
    scaled = np.ldexp(X, exponent)
    est = make()
    ref = _result(est, kind, _run(est, kind, X, y))
    est = make()
    out = _result(est, kind, _run(est, kind, scaled, y))
    if kind == "featurizer":  # embeddings are L2-normalised: scale free
        np.testing.assert_allclose(out, ref, rtol=1e-5)
    else:
        np.testing.assert_array_equal(out, ref)
    # the featurizer returns large embeddings as they are; the others
    # compute squared distances, which would overflow
    if "normalize" in est.get_params() and kind != "featurizer":
        with pytest.raises(ValueError, match="rescale"):
            _run(make().set_params(normalize=False), kind, scaled, y)


# ---------------------------------------------------------- skusl.neighbors
def _neighbors_functions():
    from skusl import neighbors

    return {
        "kneighbors": lambda X: neighbors.kneighbors(X, 3),
        "kneighbors_graph": lambda X: neighbors.kneighbors_graph(X, 3),
        "query_kneighbors": lambda X: neighbors.query_kneighbors(X, X, 3),
        "query_kneighbors_Y": lambda X: neighbors.query_kneighbors(
            np.random.RandomState(0).rand(4, np.shape(X)[-1] if np.ndim(X) > 1 else 1), X, 3),
    }


NEIGHBORS_FUNCTIONS = sorted(_neighbors_functions())


@pytest.mark.parametrize("fn", NEIGHBORS_FUNCTIONS)
@pytest.mark.parametrize("case, X, match", [c for c in _bad_X_cases() if c[2] is not None],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_neighbors_functions_bad_X(fn, case, X, match):
    with pytest.raises(ValueError, match=match):
        _neighbors_functions()[fn](X)


@pytest.mark.parametrize("fn", NEIGHBORS_FUNCTIONS)
def test_neighbors_functions_convert_int_bool_float16_and_lists(fn):
    X, _ = _blobs()
    call = _neighbors_functions()[fn]
    ref = call(np.round(X * 3))
    for variant in (np.round(X * 3).astype(np.int32), np.round(X * 3).tolist()):
        out = call(variant)
        if sp.issparse(ref):
            assert (out != ref).nnz == 0
        else:
            np.testing.assert_array_equal(out[1], ref[1])
    if fn != "query_kneighbors_Y":  # there the float64 query makes it float64
        half = call(X.astype(np.float16))
        dist = half.data if sp.issparse(half) else half[0]
        assert dist.dtype == np.float32
    call(X > 2.0)  # booleans are 0/1 features


def test_nan_row_is_nobodys_nearest_neighbour():
    # The Numba kernel used to read a NaN distance as 0: now it is refused.
    from skusl.neighbors import kneighbors

    X, _ = _blobs()
    X[3] = np.nan
    for backend in ("numpy", "numba"):
        with pytest.raises(ValueError, match=r"NaN or infinity in row\(s\) 3"):
            kneighbors(X, 3, backend=backend)


def test_neighbors_n_neighbors_and_shapes():
    from skusl.neighbors import kneighbors, query_kneighbors

    X, _ = _blobs()
    for bad in (True, 0, -1, 2.0, "3"):
        with pytest.raises(ValueError, match="positive integer"):
            kneighbors(X, bad)
        with pytest.raises(ValueError, match="positive integer"):
            query_kneighbors(X, X, bad)
    with pytest.raises(ValueError, match="X has 4 features but Y has 3"):
        query_kneighbors(X, X[:, :3], 2)
    with pytest.raises(ValueError, match="exceeds the 5 reference"):
        query_kneighbors(X, X[:5], 6)
    # mixed float32/float64 input computes in float64
    d, _ = query_kneighbors(X.astype(np.float32), X, 2)
    assert d.dtype == np.float64


def test_duplicates_give_finite_zero_distances():
    from skusl.neighbors import kneighbors

    X = np.repeat(_blobs()[0][:6], 5, axis=0)  # every point five times
    for backend in ("numpy", "numba"):
        dist, ind = kneighbors(X, 4, backend=backend)
        assert np.all(np.isfinite(dist)) and np.all(dist == 0)
        np.testing.assert_array_equal(ind // 5, np.repeat(np.arange(6), 5)[:, None]
                                      .repeat(4, axis=1))


def test_graph_functions_bad_graphs():
    from skusl.neighbors import PrecomputedKNN, graph_to_arrays, kneighbors, kneighbors_graph

    X, _ = _blobs()
    G = kneighbors_graph(X, 4)
    with pytest.raises(ValueError, match="sparse"):
        graph_to_arrays(G.toarray(), 3)
    with pytest.raises(ValueError, match="square"):
        graph_to_arrays(G[:10], 3)
    neg = G.copy()
    neg.data[0] = -1
    with pytest.raises(ValueError, match="non-negative"):
        graph_to_arrays(neg, 3)
    nan = G.copy()
    nan.data[0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        graph_to_arrays(nan, 3)
    with pytest.raises(ValueError, match="mode='distance'"):
        graph_to_arrays(G.astype(bool), 3)
    with pytest.raises(ValueError, match="has 36 rows"):
        kneighbors(X[:20], 3, neighbors=PrecomputedKNN(G))


@needs_torch
@pytest.mark.parametrize("rows_out", [1, 4, 7])
def test_featurizer_refuses_a_model_that_changes_the_row_count(rows_out):
    # 200 inputs must give 200 embeddings: a model that pools over the batch
    # (or drops samples) used to return 4 rows for 200 without a word.
    from skusl.deep import TorchFeaturizer

    def pooled(batch):
        return batch[:rows_out] * 1.0

    X = np.random.RandomState(0).rand(200, 5).astype(np.float32)
    with pytest.raises(ValueError, match=r"returned \d+ rows for a batch of \d+"):
        TorchFeaturizer(pooled, batch_size=64, device="cpu").transform(X)


# ------------------------------------------------------------ estimators: y
LABELERS = [pytest.param(lambda: skusl.HDLLabeler(n_neighbors=3), id="HDLLabeler"),
            pytest.param(lambda: skusl.HDLLabeler(n_neighbors="auto", random_state=0),
                         id="HDLLabeler-auto"),
            pytest.param(lambda: skusl.AutoK(k_max=3, random_state=0), id="AutoK")]


def _labeled_mixed():
    _, y = _blobs()
    y_obj = np.full(y.shape, -1, dtype=object)
    y_obj[:6] = ["a", "b", "c", 1, 2, 3]
    return y_obj


@pytest.mark.parametrize("make", LABELERS)
@pytest.mark.parametrize("case, y, match", [
    ("mixed str/int", _labeled_mixed(), "mixes strings and numbers"),
    ("empty", np.zeros(0, dtype=int), "y is empty"),
    ("wrong length", np.r_[0, 1, 2, np.full(30, -1)], "X has 36 samples but y has 33"),
    ("2-D", np.zeros((36, 2), dtype=int), "1d|1-D|shape"),
    ("all unlabeled", np.full(36, -1), "at least one labeled"),
    ("nan", np.r_[np.nan, 0.0, 1.0, 2.0, np.full(32, -1.0)], "NaN"),
    ("None", np.array([None, "a", "b"] + [-1] * 33, dtype=object), "not NaN or None"),
    ("continuous", np.r_[np.linspace(0.1, 0.9, 6), np.full(30, -1.0)], "Unknown label type"),
])
def test_bad_y(make, case, y, match):
    X, _ = _blobs()
    if case == "empty":
        X = X[:0]
    with pytest.raises(ValueError, match=match):
        make().fit(X, y)


def test_string_minus_one_is_the_unlabeled_marker_everywhere():
    # One documented rule: the integer -1 and the string "-1" both mark
    # unlabeled samples in y (NumPy writes -1 as "-1" in string arrays), so
    # neither can be a class - also when annotations are turned into y.
    from skusl.io import annotations_to_y

    X, y = _blobs()
    names = np.array(["ant", "bee", "cat"])
    semi = _partial_labels(y)
    y_str = np.where(semi >= 0, names[np.maximum(semi, 0)], "-1")
    y_obj = np.array([names[v] if v >= 0 else -1 for v in semi], dtype=object)
    a = skusl.HDLLabeler(n_neighbors=3).fit(X, y_str)
    b = skusl.HDLLabeler(n_neighbors=3).fit(X, y_obj)
    assert "-1" not in a.classes_.tolist() and -1 not in b.classes_.tolist()
    np.testing.assert_array_equal(a.transduction_, b.transduction_)
    for marker in (-1, "-1"):
        with pytest.raises(ValueError, match="unlabeled marker"):
            annotations_to_y(5, [0, 1], np.array(["cat", marker], dtype=object))


@pytest.mark.parametrize("name", [n for n, (_, kind) in ESTIMATORS.items()
                                  if kind == "selector"])
def test_bool_is_not_a_budget(name):
    if name in TORCH_ESTIMATORS and not HAS_TORCH:
        pytest.skip("needs torch (pip install skusl[torch])")
    X, _ = _blobs()
    est = ESTIMATORS[name][0]()
    with pytest.raises(ValueError, match="n_select"):  # was a TypeError inside KMeans
        est.set_params(n_select=True).fit(X)


def test_autok_with_one_labeled_sample_says_pass_n_neighbors():
    X, _ = _blobs()
    y = np.full(36, -1)
    y[3] = 1
    with pytest.raises(ValueError, match="pass n_neighbors"):
        skusl.AutoK(criterion="clusterability").fit(X, y)
    # the held-out criterion has nothing to hold out: it keeps the method's default k
    assert skusl.AutoK().fit(X, y).k_ == 10
    assert skusl.HDLLabeler(n_neighbors="auto").fit(X, y).n_neighbors_ == 10


# ------------------------------------------------------------------ the CLI
def _cli_files(tmp_path):
    """A valid embeddings file and labels file, plus broken variants."""
    X, y = _blobs(60, 4)
    good = tmp_path / "emb.npy"
    np.save(good, X.astype(np.float32))
    labels = tmp_path / "labels.csv"
    labels.write_text("index,label\n" + "".join(f"{i},{y[i]}\n" for i in range(0, 60, 7)))
    files = {"good": good, "labels": labels}
    (tmp_path / "empty.npy").write_bytes(b"")
    files["empty .npy"] = tmp_path / "empty.npy"
    data = good.read_bytes()
    (tmp_path / "trunc.npy").write_bytes(data[: len(data) // 2])
    files["truncated .npy"] = tmp_path / "trunc.npy"
    np.savez(tmp_path / "c.npz", X=X)
    (tmp_path / "corrupt.npz").write_bytes((tmp_path / "c.npz").read_bytes()[:50])
    files["corrupt .npz"] = tmp_path / "corrupt.npz"
    (tmp_path / "renamed.npy").write_bytes((tmp_path / "c.npz").read_bytes())
    files["npz renamed .npy"] = tmp_path / "renamed.npy"
    (tmp_path / "adir").mkdir()
    files["folder"] = tmp_path / "adir"
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}] * 5, dtype=object), allow_pickle=True)
    files["pickled .npy"] = tmp_path / "obj.npy"
    nan = X.copy()
    nan[4, 1] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    files["NaN row"] = tmp_path / "nan.npy"
    np.save(tmp_path / "flat.npy", X[:, 0])
    files["1-D"] = tmp_path / "flat.npy"
    (tmp_path / "afile").write_text("x")
    files["a file"] = tmp_path / "afile"
    return files


def _cli_main(argv):
    from skusl.__main__ import main  # the entry point python -m skusl runs

    return main([str(a) for a in argv])


def _expect_user_error(capsys, argv, *needles):
    try:
        rc = _cli_main(argv)
    except SystemExit as exc:  # argparse's own usage errors also exit 2
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, f"exit {rc} for {argv}: {err}"
    assert err.startswith("error: ") or "error:" in err, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    return err


INPUT_CASES = ["empty .npy", "truncated .npy", "corrupt .npz", "npz renamed .npy", "folder",
               "pickled .npy", "NaN row", "1-D"]


def _command_argv(command, files, embeddings, out):
    if command == "select":
        # --k applies to the graph selectors (USL), not to the default k-means closest
        return ["select", embeddings, "--method", "usl", "--budget", 3, "--k", 4, "-q",
                "--out", out]
    return ["label", embeddings, "--labels", files["labels"], "--k", 3, "-q", "--out", out]


@pytest.mark.parametrize("command", ["select", "label"])
@pytest.mark.parametrize("case", INPUT_CASES)
def test_cli_bad_embeddings(tmp_path, capsys, command, case):
    files = _cli_files(tmp_path)
    out = tmp_path / "out.csv"
    err = _expect_user_error(capsys, _command_argv(command, files, files[case], out),
                             files[case].name)
    assert not out.exists()
    assert "unsafe" not in err


@pytest.mark.parametrize("command", ["demo", "select", "label"])
@pytest.mark.parametrize("case", ["out is a folder", "out below a file"])
def test_cli_bad_out(tmp_path, capsys, command, case):
    files = _cli_files(tmp_path)
    out = files["folder"] if case == "out is a folder" else files["a file"] / "x.csv"
    argv = (["demo", "--budget", 3, "--out", out] if command == "demo"
            else _command_argv(command, files, files["good"], out))
    _expect_user_error(capsys, argv, files["folder"].name if case == "out is a folder"
                       else files["a file"].name)


@pytest.mark.parametrize("content, needle", [
    ("index,label\n10000000000000000000000,1\n0,2\n", "far beyond"),
    ("index,label\n999,1\n0,2\n", "out of range"),
    ("index,label\n1.5,1\n0,2\n", "not an integer"),
    ("", "no labeled sample"),
])
def test_cli_bad_labels_file(tmp_path, capsys, content, needle):
    files = _cli_files(tmp_path)
    bad = tmp_path / "bad_labels.csv"
    bad.write_text(content)
    _expect_user_error(capsys, ["label", files["good"], "--labels", bad, "-q",
                                "--out", tmp_path / "o.csv"], "bad_labels.csv", needle)
    _expect_user_error(capsys, ["label", files["good"], "--labels", files["folder"], "-q",
                                "--out", tmp_path / "o.csv"], files["folder"].name)


def test_cli_messages_name_the_flags(tmp_path, capsys):
    files = _cli_files(tmp_path)
    err = _expect_user_error(capsys, ["select", files["good"], "--method", "usl", "--budget", 3,
                                      "--k", 60, "-q", "--out", tmp_path / "o.csv"], "--k")
    assert "n_neighbors" not in err and "does not apply" not in err
    err = _expect_user_error(capsys, ["label", files["good"], "--labels", files["labels"],
                                      "--k", 60, "-q", "--out", tmp_path / "o.csv"], "--k")
    assert "n_neighbors" not in err
    # one label and --k auto is no error any more: AutoK's held-out criterion keeps
    # the method's default k (there is nothing to hold out)
    one = tmp_path / "one.csv"
    one.write_text("index,label\n3,1\n")
    assert _cli_main(["label", files["good"], "--labels", one, "--k", "auto", "-q",
                      "--out", tmp_path / "o.csv"]) == 0
    _expect_user_error(capsys, ["select", files["good"], "--budget", 0, "-q",
                                "--out", tmp_path / "o.csv"], "--budget")


def test_cli_label_out_must_be_csv(tmp_path, capsys):
    # label writes index,label,confidence CSV; another extension is refused
    # before any work (it used to write CSV into x.json).
    files = _cli_files(tmp_path)
    for name in ("x.json", "x.npy", "x.txt"):
        _expect_user_error(capsys, ["label", files["good"], "--labels", files["labels"],
                                    "--k", 3, "-q", "--out", tmp_path / name], name, ".csv")
        assert not (tmp_path / name).exists()


# ------------------------------------------------------------ skusl.metrics
def _metric_calls():
    from skusl import metrics

    return {
        "class_coverage": lambda X, y, s: metrics.class_coverage(y, s),
        "class_balance": lambda X, y, s: metrics.class_balance(y, s),
        "nearest_prototype_accuracy": metrics.nearest_prototype_accuracy,
        "linear_probe_accuracy": metrics.linear_probe_accuracy,
        "propagation_accuracy": lambda X, y, s: metrics.propagation_accuracy(X, y, s,
                                                                             n_neighbors=3),
    }


METRICS = sorted(_metric_calls())


def test_every_public_metric_is_listed():
    from skusl import metrics

    functions = {n for n in metrics.__all__ if callable(getattr(metrics, n))
                 and n not in ("make_selection_scorer", "stand_in_indices")}
    assert functions == set(METRICS), "list new metrics in _metric_calls()"


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("sel, match", [
    ([0, -1, 5], "non-negative"),         # was read from the end (numpy indexing)
    ([0.0, 1.7, 5.0], "whole numbers"),   # was truncated to 1
    ([0, 36], "out of range"),
    (np.ones(10, dtype=bool), "mask"),   # wrong length
    ([[0, 1], [2, 3]], "1-D"),
    (["a", "b"], "row numbers"),
    ([0, np.nan], "NaN"),
])
def test_metrics_bad_selection(metric, sel, match):
    X, y = _blobs()
    with pytest.raises(ValueError, match=match):
        _metric_calls()[metric](X, y, sel)


@pytest.mark.parametrize("metric", METRICS)
def test_metrics_accept_masks_and_whole_floats(metric):
    X, y = _blobs()
    sel = np.array([0, 1, 2, 5])
    mask = np.zeros(36, dtype=bool)
    mask[sel] = True
    call = _metric_calls()[metric]
    ref = call(X, y, sel)
    assert call(X, y, mask) == ref
    assert call(X, y, sel.astype(float)) == ref


@pytest.mark.parametrize("metric", METRICS)
def test_metrics_bad_y_true(metric):
    X, y = _blobs()
    call = _metric_calls()[metric]
    if not metric.startswith("class_"):  # those take no X to compare with
        with pytest.raises(ValueError, match="y_true has 35 labels for 36 samples"):
            call(X, y[:35], [0, 1, 2])
    with pytest.raises(ValueError, match="1-D"):
        call(X, np.c_[y, y], [0, 1, 2])
    y_nan = y.astype(float)
    y_nan[4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        call(X, y_nan, [0, 1, 2])


@pytest.mark.parametrize("metric", [m for m in METRICS if "class_" not in m])
@pytest.mark.parametrize("case, X, match", [c for c in _bad_X_cases() if c[2] is not None
                                            and c[0] not in ("empty",)],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_metrics_bad_X(metric, case, X, match):
    _, y = _blobs()
    with pytest.raises(ValueError, match=match):
        _metric_calls()[metric](X, y, [0, 1, 2])


def test_scorer_and_stand_ins_bad_input():
    from skusl.metrics import make_selection_scorer, stand_in_indices
    from sklearn.exceptions import NotFittedError

    X, y = _blobs()
    with pytest.raises(ValueError, match="unknown selection metric"):
        make_selection_scorer("accuracy")
    with pytest.raises(TypeError, match="name or a callable"):
        make_selection_scorer(3)
    sel = skusl.KMeansClosestSelector(n_select=3, random_state=0)
    with pytest.raises(NotFittedError):
        stand_in_indices(sel, X)
    sel.fit(X)
    with pytest.raises(ValueError, match="true labels"):
        make_selection_scorer("coverage")(sel, X)
    with pytest.raises(ValueError, match="NaN"):
        stand_in_indices(sel, np.full_like(X, np.nan))


@pytest.mark.parametrize("dist, ind, match", [
    (np.ones((3, 2)), np.ones((3, 1), int), "same shape"),
    (np.ones((3, 1)), -np.ones((3, 1), int), "outside"),
    (np.ones((3, 1)), np.full((3, 1), 5), "outside"),
    (np.full((3, 1), np.nan), np.ones((3, 1), int), "finite"),
    (-np.ones((3, 1)), np.ones((3, 1), int), "non-negative"),
    (np.ones(3), np.ones(3, int), "2-D"),
    (np.ones((3, 1)), np.full((3, 1), 1.5), "whole numbers"),
])
def test_arrays_to_graph_bad_arrays(dist, ind, match):
    from skusl.neighbors import arrays_to_graph

    with pytest.raises(ValueError, match=match):
        arrays_to_graph(dist, ind)


def test_every_neighbors_function_is_covered():
    from skusl import neighbors

    covered = {"kneighbors", "kneighbors_graph", "query_kneighbors", "graph_to_arrays",
               "arrays_to_graph", "PrecomputedKNN", "NEIGHBORS_METHODS"}
    assert set(neighbors.__all__) <= covered, (
        f"add bad-input tests for {sorted(set(neighbors.__all__) - covered)}")


# ----------------------------------------------------------------- skusl.io
def _io_cases(tmp_path):
    """name -> [(case, call, exception, match)] over every public function of skusl.io."""
    from skusl import io

    X, _ = _blobs()
    np.save(tmp_path / "good.npy", X)
    data = (tmp_path / "good.npy").read_bytes()
    (tmp_path / "trunc.npy").write_bytes(data[: len(data) // 2])
    np.savez(tmp_path / "good.npz", X=X, lb_idx=np.arange(3))
    (tmp_path / "renamed.npy").write_bytes((tmp_path / "good.npz").read_bytes())
    (tmp_path / "corrupt.npz").write_bytes((tmp_path / "good.npz").read_bytes()[:60])
    (tmp_path / "empty.npy").write_bytes(b"")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "nan.csv").write_text("1,2\n3,\n")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x01garbage\x00")
    (tmp_path / "neg.txt").write_text("3\n-1\n")
    (tmp_path / "neg.csv").write_text("3,a\n-1,b\n")
    (tmp_path / "frac.txt").write_text("3\n1.5\n")
    (tmp_path / "dict.json").write_text('{"a": 1}')
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "bad.json").write_text("[1, 2")
    (tmp_path / "conflict.csv").write_text("index,label\n1,a\n1,b\n")
    (tmp_path / "badsplit.json").write_text('{"lb_idx": [1.5]}')
    (tmp_path / "afile").write_text("x")
    folder, below = tmp_path, tmp_path / "afile" / "x.csv"
    missing = tmp_path / "missing.npy"
    E = ValueError
    return {
        "load_embeddings": [
            ("missing", lambda: io.load_embeddings(missing), FileNotFoundError, "no such"),
            ("folder", lambda: io.load_embeddings(folder), E, "folder"),
            ("empty", lambda: io.load_embeddings(tmp_path / "empty.npy"), E, "empty"),
            ("truncated", lambda: np.asarray(io.load_embeddings(tmp_path / "trunc.npy")), E,
             "truncated"),
            ("corrupt npz", lambda: io.load_embeddings(tmp_path / "corrupt.npz"), E,
             "truncated or corrupt"),
            ("npz as npy", lambda: io.load_embeddings(tmp_path / "renamed.npy"), E, ".npz"),
            ("pickled", lambda: io.load_embeddings(tmp_path / "obj.npy"), E, "never unpickles"),
            ("missing value", lambda: io.load_embeddings(tmp_path / "nan.csv"), E, "line 2"),
            ("binary csv", lambda: io.load_embeddings(tmp_path / "bin.csv"), E, "bin.csv"),
            ("suffix", lambda: io.load_embeddings(tmp_path / "afile"), E, "unsupported"),
            ("bad header arg", lambda: io.load_embeddings(tmp_path / "nan.csv", header="yes"),
             E, "header"),
        ],
        "load_indices": [
            ("missing", lambda: io.load_indices(tmp_path / "none.txt"), FileNotFoundError,
             "no such"),
            ("folder", lambda: io.load_indices(folder), E, "folder"),
            ("negative", lambda: io.load_indices(tmp_path / "neg.txt"), E, "line 2"),
            ("fraction", lambda: io.load_indices(tmp_path / "frac.txt"), E, "line 2"),
            ("npz as npy", lambda: io.load_indices(tmp_path / "renamed.npy"), E, ".npz"),
            ("float array", lambda: io.load_indices(tmp_path / "good.npy"), E, "1-D|whole"),
            ("json object", lambda: io.load_indices(tmp_path / "dict.json"), E, "JSON object"),
            ("broken json", lambda: io.load_indices(tmp_path / "bad.json"), E, "not valid JSON"),
            ("binary", lambda: io.load_indices(tmp_path / "bin.csv"), E, "bin.csv"),
        ],
        "save_indices": [
            ("fraction", lambda: io.save_indices([1.5], tmp_path / "o.csv"), E, "whole"),
            ("negative", lambda: io.save_indices([-2], tmp_path / "o.csv"), E, "non-negative"),
            ("nan", lambda: io.save_indices([np.nan], tmp_path / "o.csv"), E, "NaN"),
            ("2-D", lambda: io.save_indices(np.ones((2, 2), int), tmp_path / "o.csv"), E, "1-D"),
            ("text", lambda: io.save_indices(["1"], tmp_path / "o.csv"), E, "row numbers"),
            ("sparse", lambda: io.save_indices(sp.eye(3, format="csr"), tmp_path / "o.csv"), E,
             "sparse"),
            ("folder", lambda: io.save_indices([1], folder), E, "folder|unsupported"),
            ("below a file", lambda: io.save_indices([1], below), E, "is a file"),
            ("suffix", lambda: io.save_indices([1], tmp_path / "o.xlsx"), E, "unsupported"),
        ],
        "save_labels_csv": [
            ("lengths", lambda: io.save_labels_csv(tmp_path / "l.csv", [0, 1], [1]), E,
             "2 indices but 1 labels"),
            ("indices", lambda: io.save_labels_csv(tmp_path / "l.csv", [0.5], [1]), E, "whole"),
            ("confidence", lambda: io.save_labels_csv(tmp_path / "l.csv", [0], [1],
                                                      confidence=[0.5, 1]), E, "confidences"),
            ("empty label", lambda: io.save_labels_csv(tmp_path / "l.csv", [0, 1], ["a", ""]),
             E, "empty"),
            ("spaces", lambda: io.save_labels_csv(tmp_path / "l.csv", [0], [" a"]), E,
             "whitespace"),
            ("folder", lambda: io.save_labels_csv(folder, [0], [1]), E, "folder"),
            ("below a file", lambda: io.save_labels_csv(below, [0], [1]), E, "is a file"),
        ],
        "read_annotations": [
            ("missing", lambda: io.read_annotations(tmp_path / "none.csv"), FileNotFoundError,
             "no such"),
            ("folder", lambda: io.read_annotations(folder), E, "folder"),
            ("conflict", lambda: io.read_annotations(tmp_path / "conflict.csv"), E,
             "labeled both"),
            ("binary", lambda: io.read_annotations(tmp_path / "bin.csv"), E, "UTF-8"),
            ("negative", lambda: io.read_annotations(tmp_path / "neg.csv"), E, "negative"),
            ("one column", lambda: io.read_annotations(tmp_path / "neg.txt"), E,
             "too few columns"),
        ],
        "annotations_to_y": [
            ("n_samples", lambda: io.annotations_to_y(0, [], []), E, "n_samples"),
            ("n_samples bool", lambda: io.annotations_to_y(True, [0], [1]), E, "n_samples"),
            ("range", lambda: io.annotations_to_y(3, [3], [1]), E, "out of range"),
            ("repeat", lambda: io.annotations_to_y(3, [1, 1], [1, 1]), E, "repeats"),
            ("marker", lambda: io.annotations_to_y(3, [1], [-1]), E, "unlabeled marker"),
            ("marker str", lambda: io.annotations_to_y(3, [1], ["-1"]), E, "unlabeled marker"),
            ("lengths", lambda: io.annotations_to_y(3, [1, 2], [0]), E, "2 indices but 1"),
        ],
        "save_ssl_split": [
            ("suffix", lambda: io.save_ssl_split(tmp_path / "s.txt", [1], 3), E, ".json or .npz"),
            ("repeat", lambda: io.save_ssl_split(tmp_path / "s.json", [1, 1], 3), E, "repeats"),
            ("range", lambda: io.save_ssl_split(tmp_path / "s.json", [3], 3), E, "out of range"),
            ("mask length", lambda: io.save_ssl_split(tmp_path / "s.json",
                                                      np.ones(2, bool), 3), E, "mask"),
            ("labels", lambda: io.save_ssl_split(tmp_path / "s.json", [1], 3, labels=[0, 1]),
             E, "labels"),
            ("below a file", lambda: io.save_ssl_split(tmp_path / "afile" / "s.json", [1], 3),
             E, "is a file"),
        ],
        "load_ssl_split": [
            ("missing", lambda: io.load_ssl_split(tmp_path / "none.json"), FileNotFoundError,
             "no such"),
            ("folder", lambda: io.load_ssl_split(folder), E, "folder"),
            ("not a split", lambda: io.load_ssl_split(tmp_path / "list.json"), E,
             "not a split"),
            ("bad index", lambda: io.load_ssl_split(tmp_path / "badsplit.json"), E, "whole"),
            ("corrupt", lambda: io.load_ssl_split(tmp_path / "corrupt.npz"), E, "corrupt"),
        ],
        "save_usb_split": [
            ("repeat", lambda: io.save_usb_split(tmp_path / "usb", [1, 1], 3), E, "repeats"),
            ("range", lambda: io.save_usb_split(tmp_path / "usb", [5], 3), E, "out of range"),
            ("below a file", lambda: io.save_usb_split(tmp_path / "afile" / "usb", [1], 3), E,
             "is a file"),
        ],
        "atomic_write": [
            ("folder", lambda: io.atomic_write(folder).__enter__(), E, "folder"),
            ("below a file", lambda: io.atomic_write(below).__enter__(), E, "is a file"),
            ("mode", lambda: io.atomic_write(tmp_path / "m.txt", "a").__enter__(), E, "mode"),
        ],
    }


def test_every_io_function_is_covered(tmp_path):
    from skusl import io

    assert set(io.__all__) == set(_io_cases(tmp_path)), "add bad-input cases for new io names"


IO_NAMES = ["annotations_to_y", "atomic_write", "load_embeddings", "load_indices",
            "load_ssl_split", "read_annotations", "save_indices", "save_labels_csv",
            "save_ssl_split", "save_usb_split"]


@pytest.mark.parametrize("name", IO_NAMES)
def test_io_bad_input(tmp_path, name):
    before = set(p.name for p in tmp_path.rglob("*"))
    for case, call, exc, match in _io_cases(tmp_path)[name]:
        with pytest.raises(exc, match=match):
            call()
        assert case  # each case is named for the failure report
    leftovers = {p.name for p in tmp_path.rglob("*")} - before
    assert not [p for p in leftovers if p.endswith(".tmp")], "a temporary file was left"


# ------------------------------------------------ duplicates, feature counts
@pytest.mark.parametrize("name, make, kind", _estimator_params())
def test_duplicates_give_a_finite_answer(name, make, kind):
    X, y = _blobs()
    X = np.repeat(X[:12], 3, axis=0)  # every point three times
    y = np.repeat(y[:12], 3)
    est = make()
    out = _result(est, kind, _run(est, kind, X, y))
    if kind == "selector":
        assert np.unique(out).size == out.size == 3
    elif kind == "featurizer":
        assert np.all(np.isfinite(out))
    else:
        assert out is not None and np.all(np.asarray(out) >= 0)


@pytest.mark.parametrize("name, make, kind", [p for p in _estimator_params()
                                              if p.values[2] != "featurizer"])
def test_wrong_feature_count_after_fit(name, make, kind):
    X, y = _blobs()
    est = make()
    _run(est, kind, X, y)
    method = next((m for m in ("transform", "predict", "predict_proba") if hasattr(est, m)),
                  None)
    if method is None:
        pytest.skip(f"{name} has no method taking new samples")
    with pytest.raises(ValueError, match="3 features"):
        getattr(est, method)(X[:, :3])


def test_cli_demo_bad_budget(capsys):
    for budget in ("0", "5000"):
        _expect_user_error(capsys, ["demo", "--budget", budget, "--out", "unused.csv"],
                           "--budget" if budget == "0" else "5000")
