"""The contract every public estimator keeps, checked on all of them.

An instance generator walks the public modules' ``__all__`` and finds every
scikit-learn estimator, so a new estimator is checked without editing this
file. Each one runs scikit-learn's ``parametrize_with_checks`` and skusl's own
contract: same seed, same result; the exact budget; ``get_support`` agrees
with ``selected_indices_`` and ``transform``; a NaN in ``X`` is refused with a message that
says so.
"""

import importlib
import importlib.util
import inspect
import re
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skusl.labeling import HDLLabeler
from skusl.selection._base import BaseSelector

#: Public modules whose ``__all__`` may hold estimators.
PUBLIC_MODULES = ("skusl.selection", "skusl.labeling", "skusl.model_selection", "skusl.deep")

#: Small values for the parameters that set an estimator's cost, applied to
#: whichever of them its constructor takes (the checks use 10-30 samples).
SMALL_PARAMS = {"n_select": 3, "n_neighbors": 3, "n_epochs": 2, "min_steps": 0,
                "batch_size": 32, "k_max": 3, "random_state": 0}

#: Extra instances: settings that take a different code path.
VARIANTS = {
    "HDLLabeler": [{"method": "hdl"}, {"method": "knn_dv"}],
    "AutoK": [{"criterion": "clusterability"}, {"estimator": HDLLabeler(n_neighbors=3)},
              {"estimator": HDLLabeler(n_neighbors=3), "criterion": "clusterability"}],
    "ProbCoverSelector": [{"delta": 0.5}],
    "TypiClustSelector": [{"min_cluster_size": 1}],
    "MaxHerdingSelector": [{"n_coreset": 5}],
    "USLSelector": [{"n_neighbors": 5}],
}

#: Estimators whose construction needs more than keyword values.
NEEDS_TORCH = {"TorchFeaturizer", "USLTClusterer"}

# -1 is the unlabeled marker of the semi-supervised convention, so a binary
# target {-1, 1} has a single labeled class; scikit-learn's LabelSpreading
# has the same limitation.
SEMI_SUPERVISED_XFAIL = {
    "check_classifiers_classes": "y == -1 marks unlabeled samples (semi-supervised "
                                 "convention), so the {-1, 1} target has one class",
}

HAS_TORCH = importlib.util.find_spec("torch") is not None


def public_estimator_classes():
    """Every public estimator class, by name, from the public modules."""
    found = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            # Base classes are public for subclassing, not for fitting.
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator) \
                    and not name.startswith("Base"):
                found[name] = obj
    return found


def _construct(cls, **extra):
    accepted = inspect.signature(cls).parameters
    params = {k: v for k, v in SMALL_PARAMS.items() if k in accepted}
    if cls.__name__ == "TorchFeaturizer":
        import torch

        params["model"] = torch.nn.Identity()
        params["batch_size"] = 16
    params.update(extra)
    return cls(**params)


def estimator_instances():
    """One instance per public estimator, plus the variants in ``VARIANTS``."""
    instances = []
    for name, cls in sorted(public_estimator_classes().items()):
        if name in NEEDS_TORCH and not HAS_TORCH:
            continue
        instances.append(_construct(cls))
        instances += [_construct(cls, **variant) for variant in VARIANTS.get(name, [])]
    return instances


INSTANCES = estimator_instances()


def needs_labels(estimator):
    """Whether ``fit`` requires ``y`` (a semi-supervised estimator)."""
    y = inspect.signature(estimator.fit).parameters.get("y")
    return y is not None and y.default is inspect.Parameter.empty


def _expected_failed_checks(estimator):
    return SEMI_SUPERVISED_XFAIL if needs_labels(estimator) and hasattr(estimator, "predict") \
        else {}


def test_every_public_estimator_is_generated():
    names = {type(e).__name__ for e in INSTANCES}
    expected = set(public_estimator_classes()) - (set() if HAS_TORCH else NEEDS_TORCH)
    assert names == expected
    assert {"USLSelector", "HDLLabeler", "AutoK", "RandomSelector"} <= names


@pytest.mark.filterwarnings("ignore::UserWarning")
@parametrize_with_checks(INSTANCES, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ---------------------------------------------------------------- skusl's contract
def _blobs(n_per=20, d=3, n_centres=3, seed=0):
    rng = np.random.RandomState(seed)
    centres = 4 * np.eye(d)[:n_centres]
    X = np.vstack([c + 0.3 * rng.randn(n_per, d) for c in centres])
    y = np.repeat(np.arange(n_centres), n_per)
    return X, y


def _partially_labeled(y, seed=0):
    rng = np.random.RandomState(seed)
    keep = np.zeros(y.size, bool)
    for c in np.unique(y):
        keep[rng.choice(np.flatnonzero(y == c), 3, replace=False)] = True
    return np.where(keep, y, -1)


SELECTORS = [e for e in INSTANCES if isinstance(e, BaseSelector)]
LABELERS = [e for e in INSTANCES if needs_labels(e)]
_ids = lambda est: type(est).__name__  # noqa: E731


def _fit(est, X, y=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return est.fit(X) if y is None else est.fit(X, y)


@pytest.mark.parametrize("est", SELECTORS, ids=_ids)
def test_selector_same_seed_same_selection_exact_budget(est):
    X, _ = _blobs()
    a = _fit(clone(est).set_params(n_select=6, random_state=3), X).selected_indices_
    b = _fit(clone(est).set_params(n_select=6, random_state=3), X).selected_indices_
    np.testing.assert_array_equal(a, b)
    assert a.size == 6 and np.unique(a).size == 6
    assert a.min() >= 0 and a.max() < X.shape[0]


@pytest.mark.parametrize("est", SELECTORS, ids=_ids)
def test_selector_get_support_matches_selected_indices(est):
    X, _ = _blobs()
    fitted = _fit(clone(est).set_params(n_select=5), X)
    mask = fitted.get_support()
    assert mask.dtype == bool and mask.shape == (X.shape[0],) and mask.sum() == 5
    np.testing.assert_array_equal(np.flatnonzero(mask), np.sort(fitted.selected_indices_))
    # indices=True keeps the selection's order (best first)
    np.testing.assert_array_equal(fitted.get_support(indices=True), fitted.selected_indices_)
    # transform: distance of every sample to each selected prototype, so
    # zero where a sample meets its own column
    D = fitted.transform(X)
    assert D.shape == (X.shape[0], 5) and np.all(D >= 0)
    np.testing.assert_allclose(D[fitted.selected_indices_, np.arange(5)], 0, atol=1e-5)


@pytest.mark.parametrize("est", SELECTORS + LABELERS, ids=_ids)
def test_nan_is_refused_with_a_message(est):
    X, y = _blobs()
    X[4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _fit(clone(est), X, None if est in SELECTORS else _partially_labeled(y))


@pytest.mark.parametrize("est", LABELERS, ids=_ids)
def test_labeler_same_seed_same_labels(est):
    X, y = _blobs()
    y_partial = _partially_labeled(y)
    a = _fit(clone(est).set_params(random_state=1), X, y_partial)
    b = _fit(clone(est).set_params(random_state=1), X, y_partial)
    if not hasattr(a, "transduction_"):  # AutoK without an estimator: only k
        assert a.k_ == b.k_
        return
    np.testing.assert_array_equal(a.transduction_, b.transduction_)
    labeled = y_partial != -1
    np.testing.assert_array_equal(a.transduction_[labeled], y[labeled])


def test_private_sklearn_api_only_through_the_shim():
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "skusl"
    private = re.compile(r"^\s*(from sklearn[\w.]*\._\w|import sklearn[\w.]*\._\w|"
                         r"from sklearn[\w.]* import .*\b_\w)", re.M)
    offenders = [str(p.relative_to(package)) for p in package.rglob("*.py")
                 if p.name != "_sklearn_compat.py" and private.search(p.read_text())]
    assert not offenders, f"import sklearn's private API via skusl._sklearn_compat: {offenders}"
