"""set_output(transform="pandas") and set_config(transform_output="pandas") on selectors."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .test_bad_input import ESTIMATORS, TORCH_ESTIMATORS, HAS_TORCH, _blobs

pd = pytest.importorskip("pandas")

SELECTORS = [pytest.param(name, marks=pytest.mark.skipif(
    name in TORCH_ESTIMATORS and not HAS_TORCH, reason="needs torch"), id=name)
    for name, (_, kind) in ESTIMATORS.items() if kind == "selector"]


@pytest.mark.parametrize("name", SELECTORS)
def test_feature_names_out_and_pandas_output(name):
    X, _ = _blobs()
    est = ESTIMATORS[name][0]()
    dense = clone(est).fit(X).transform(X)
    names = clone(est).fit(X).get_feature_names_out()
    assert len(names) == dense.shape[1] == 3
    prefix = type(est).__name__.lower()
    assert list(names) == [f"{prefix}{i}" for i in range(3)]
    frame = clone(est).set_output(transform="pandas").fit(X).transform(X)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(names)
    np.testing.assert_allclose(frame.to_numpy(), dense)
    with sklearn.config_context(transform_output="pandas"):
        out = clone(est).fit_transform(pd.DataFrame(X, columns=list("abcd")))
        assert isinstance(out, pd.DataFrame) and list(out.columns) == list(names)
        piped = make_pipeline(StandardScaler(), clone(est)).fit_transform(X)
        assert isinstance(piped, pd.DataFrame)
