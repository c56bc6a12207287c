"""Property-based tests (hypothesis): file formats round-trip, selectors keep their contract.

* every index / label writer of ``skusl.io`` and its reader give back exactly
  what was written, through every extension;
* every selector returns exactly ``n_select`` distinct in-range indices, the
  same ones for the same seed, and (with ``normalize=True``) the same ones
  after a positive rescaling of ``X``.

Small data and few examples keep the module to about a minute;
``SKUSL_HYPOTHESIS_EXAMPLES=500`` runs the file properties longer.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from skusl.io import (load_indices, load_ssl_split, read_annotations, save_indices,  # noqa: E402
                      save_labels_csv, save_ssl_split, save_usb_split)

from .test_bad_input import ESTIMATORS, HAS_TORCH, TORCH_ESTIMATORS  # noqa: E402

FAST = settings(max_examples=int(os.environ.get("SKUSL_HYPOTHESIS_EXAMPLES", 25)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(max_examples=10, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

INDEX_EXTENSIONS = (".csv", ".txt", ".json", ".npy")

#: Row numbers, up to int64's range (a file must not round them).
row_numbers = st.integers(min_value=0, max_value=np.iinfo(np.int64).max)
index_lists = st.lists(row_numbers, max_size=30)
#: Labels as annotators write them: integers, or text that is not empty and
#: carries no surrounding whitespace (which CSV readers strip); text may hold
#: commas, quotes, newlines, digits ("007") and non-ASCII letters.
text_labels = st.text(min_size=1, max_size=8).filter(lambda s: s == s.strip() and "\r" not in s
                                                     and "\x00" not in s)
label_values = st.one_of(st.lists(st.integers(-10**12, 10**12), min_size=1, max_size=20),
                         st.lists(text_labels, min_size=1, max_size=20))


def _folder():
    return Path(tempfile.mkdtemp(prefix="skusl-prop-"))


# ---------------------------------------------------------------- the files
@FAST
@given(indices=index_lists, suffix=st.sampled_from(INDEX_EXTENSIONS))
def test_indices_round_trip_exactly(indices, suffix):
    path = save_indices(indices, _folder() / f"picks{suffix}")
    got = load_indices(path)
    assert got.dtype == np.int64
    assert got.tolist() == indices


@FAST
@given(mask=hnp.arrays(bool, st.integers(0, 40)), suffix=st.sampled_from(INDEX_EXTENSIONS))
def test_masks_are_written_as_their_indices(mask, suffix):
    path = save_indices(mask, _folder() / f"mask{suffix}")
    assert load_indices(path).tolist() == np.flatnonzero(mask).tolist()


@FAST
@given(labels=label_values, pool=st.lists(row_numbers, min_size=20, max_size=20, unique=True))
@example(labels=["007", "1"], pool=list(range(20)))  # "007" used to come back as 7
@example(labels=["1_000", "x"], pool=list(range(20)))  # int("1_000") is 1000
def test_labels_csv_round_trips_exactly(labels, pool):
    indices = pool[:len(labels)]
    path = save_labels_csv(_folder() / "labels.csv", indices, np.asarray(labels, dtype=object))
    got_idx, got_labels = read_annotations(path)
    assert got_idx.tolist() == indices
    assert got_labels.tolist() == _as_read(labels)


def _as_read(labels):
    """What a CSV gives back: a CSV has no types, so text labels that are all
    canonical integers ("3", "-12") read as integers; any other text ("007")
    comes back exactly."""
    if all(isinstance(v, int) or str(v).lstrip("-").isascii() and str(v).lstrip("-").isdigit()
           and str(int(v)) == v for v in labels):
        return [int(v) for v in labels]
    return labels


@FAST
@given(data=st.data(), n_samples=st.integers(1, 60), suffix=st.sampled_from([".json", ".npz"]),
       with_labels=st.booleans())
def test_ssl_split_round_trips_exactly(data, n_samples, suffix, with_labels):
    lb = data.draw(st.lists(st.integers(0, n_samples - 1), unique=True, max_size=n_samples))
    labels = None
    if with_labels and lb:
        labels = data.draw(st.one_of(
            st.lists(st.integers(-10**9, 10**9), min_size=len(lb), max_size=len(lb)),
            st.lists(text_labels, min_size=len(lb), max_size=len(lb))))
    path = save_ssl_split(_folder() / f"split{suffix}", lb, n_samples,
                          labels=None if labels is None else np.asarray(labels, dtype=object))
    split = load_ssl_split(path)
    assert split.lb_idx.tolist() == lb
    assert split.ulb_idx.tolist() == sorted(set(range(n_samples)) - set(lb))
    assert split.n_samples == n_samples
    if labels is None:
        assert split.lb_labels is None
    else:
        assert split.lb_labels.tolist() == labels


@FAST
@given(data=st.data(), n_samples=st.integers(1, 60), seed=st.integers(0, 5))
def test_usb_split_round_trips_exactly(data, n_samples, seed):
    lb = data.draw(st.lists(st.integers(0, n_samples - 1), unique=True, max_size=n_samples))
    lb_path, ulb_path = save_usb_split(_folder() / "labeled_idx", lb, n_samples, seed=seed)
    assert np.load(lb_path).tolist() == lb
    assert np.load(ulb_path).tolist() == sorted(set(range(n_samples)) - set(lb))
    assert load_indices(lb_path).tolist() == lb


# ----------------------------------------------------------- the selectors
SELECTORS = [pytest.param(name, marks=pytest.mark.skipif(
    name in TORCH_ESTIMATORS and not HAS_TORCH, reason="needs torch"), id=name)
    for name, (_, kind) in ESTIMATORS.items() if kind == "selector"]


@st.composite
def problems(draw):
    """Small embeddings with duplicates and ties allowed, and a budget that fits."""
    n = draw(st.integers(8, 24))
    d = draw(st.integers(1, 4))
    X = draw(hnp.arrays(np.float64, (n, d), elements=st.floats(-8, 8, width=32)))
    X[np.abs(X).sum(axis=1) == 0, 0] = 1.0  # an all-zero row has no direction
    n_select = draw(st.integers(1, min(5, n - 5)))
    seed = draw(st.integers(0, 2**16))
    return X, n_select, seed


def _fit(name, X, n_select, seed, **params):
    est = ESTIMATORS[name][0]().set_params(n_select=n_select, random_state=seed, **params)
    return est.fit(X).selected_indices_


@pytest.mark.parametrize("name", SELECTORS)
@SLOW
@given(problem=problems())
def test_selection_contract(name, problem):
    X, n_select, seed = problem
    picks = _fit(name, X, n_select, seed)
    assert picks.shape == (n_select,) and picks.dtype == np.int64
    assert np.unique(picks).size == n_select
    assert picks.min() >= 0 and picks.max() < X.shape[0]
    np.testing.assert_array_equal(_fit(name, X, n_select, seed), picks)  # same seed


@pytest.mark.parametrize("name", SELECTORS)
@SLOW
@given(problem=problems(), exponent=st.integers(-540, 520))
@example(problem=(np.random.RandomState(0).rand(12, 4) + 0.1, 3, 0), exponent=520)
def test_selection_invariant_to_power_of_two_rescaling(name, problem, exponent):
    # Scaling by 2**e is exact in floating point, so with normalize=True the
    # normalised rows, hence the selection, must be bit for bit the same -
    # also at 2**520 (~3e156) and 2**-540, where squared norms over/underflow.
    X, n_select, seed = problem
    np.testing.assert_array_equal(_fit(name, np.ldexp(X, exponent), n_select, seed),
                                  _fit(name, X, n_select, seed))


@pytest.mark.parametrize("name", SELECTORS)
@SLOW
@given(seed=st.integers(0, 2**16), scale=st.floats(1e-3, 1e3))
@example(seed=189, scale=3.0)  # a two-member cluster: its centroid ties both members
def test_selection_invariant_to_positive_rescaling(name, seed, scale):
    # Any positive factor on continuous data (no exact ties to flip): the
    # normalised rows differ in the last bit at most, the picks not at all.
    X = np.random.RandomState(seed).standard_normal((30, 5))
    np.testing.assert_array_equal(_fit(name, X * scale, 4, seed), _fit(name, X, 4, seed))
