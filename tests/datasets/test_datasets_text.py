"""The bundled tiny text demo: deterministic, small, usable by a selector."""

import numpy as np

from skusl.datasets import load_demo_text


def test_load_demo_text_shape_and_determinism():
    a, b = load_demo_text(), load_demo_text()
    assert a.data.shape == (300, 32) and a.data.dtype == np.float32
    assert len(a.texts) == 300 and len(set(a.texts)) == 300
    np.testing.assert_allclose(np.linalg.norm(a.data, axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(a.target, b.target)
    np.testing.assert_array_equal(a.data, b.data)
    a.data[:] = 0  # callers get copies
    assert np.abs(load_demo_text().data).sum() > 0
    assert np.bincount(a.target).tolist() == [120, 90, 60, 30]


def test_demo_text_topics_are_learnable():
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    demo = load_demo_text()
    acc = cross_val_score(KNeighborsClassifier(10), demo.data, demo.target, cv=3).mean()
    assert 0.6 < acc < 1.0  # learnable, not trivial
