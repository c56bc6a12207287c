"""skusl.plotting draws without a display and without importing matplotlib early."""

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from skusl import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_import_skusl_does_not_import_matplotlib():
    code = ("import sys, skusl, skusl.plotting, skusl.io; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_project_2d():
    rng = np.random.RandomState(0)
    X2 = rng.rand(10, 2)
    assert plotting.project_2d(X2) is not None
    np.testing.assert_allclose(plotting.project_2d(X2), X2)
    assert plotting.project_2d(rng.rand(10, 1)).shape == (10, 2)
    assert plotting.project_2d(rng.rand(10, 5)).shape == (10, 2)
    with pytest.raises(ValueError, match="2-D"):
        plotting.project_2d(rng.rand(10))


@pytest.mark.parametrize("with_y", [False, True])
def test_plot_selection(with_y):
    rng = np.random.RandomState(0)
    X = rng.rand(60, 5)
    y = rng.randint(0, 12, 60) if with_y else None  # more classes than tab10 colours
    fig, ax = plt.subplots()
    out = plotting.plot_selection(X, [3, 1, 7], y, ax=ax, annotate=True, title="t")
    assert out is ax
    assert len(ax.collections) == 2  # all samples, then the stars
    assert ax.collections[1].get_offsets().shape == (3, 2)
    assert len(ax.texts) == 3
    mask = np.zeros(60, dtype=bool)
    mask[[2, 4]] = True
    ax2 = plotting.plot_selection(X, mask)
    assert ax2.collections[1].get_offsets().shape == (2, 2)
    with pytest.raises(ValueError, match="selected indices"):
        plotting.plot_selection(X, [60])


def test_plot_selected_images_flat_and_square():
    images = np.arange(5 * 16, dtype=float).reshape(5, 16)
    fig = plotting.plot_selected_images(images, [4, 0, 2], labels=list("abcde"), n_cols=2)
    assert len(fig.axes) == 3
    assert fig.axes[0].get_title() == "e"
    with pytest.raises(ValueError, match="image_shape"):
        plotting.plot_selected_images(np.zeros((3, 10)), [0])
    fig = plotting.plot_selected_images(np.zeros((3, 10)), [0, 1], image_shape=(2, 5))
    assert fig.axes[0].images[0].get_array().shape == (2, 5)


def test_plot_class_coverage_and_counts():
    y = np.repeat(np.arange(4), 5)
    sel = {"all": [0, 5, 10, 15], "one": [0, 1, 2, 3]}
    ax = plotting.plot_class_coverage(y, sel, title="cov")
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([1.0, 0.25, 1.0, 0.0])
    ax = plotting.plot_class_coverage(y, [0, 5])  # a bare selection
    assert [t.get_text() for t in ax.get_xticklabels()] == ["selection"]
    ax = plotting.plot_class_counts(y, sel)
    counts = [p.get_height() for p in ax.patches]
    assert counts == [1, 1, 1, 1, 4, 0, 0, 0]


def test_plot_budget_curve():
    ax = plotting.plot_budget_curve([1, 2, 4], {"a": [0.1, 0.2, 0.3],
                                                "b": np.ones((3, 5))}, xscale="linear")
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert len(ax.collections) == 1  # one band, for the method with seeds
    with pytest.raises(ValueError, match="rows for 3 budgets"):
        plotting.plot_budget_curve([1, 2, 4], {"a": [0.1, 0.2]})


def test_plot_labeling_levels():
    X = np.random.RandomState(0).rand(30, 3)
    ax = plotting.plot_labeling_levels(X, np.arange(30), labeled=[0, 1])
    assert ax.collections[0].get_offsets().shape == (28, 2)
    with pytest.raises(ValueError, match="levels has"):
        plotting.plot_labeling_levels(X, np.arange(10))


def test_plot_selection_of_a_fitted_selector(digits):
    from skusl import USLSelector

    X, y = digits
    sel = USLSelector(n_select=10, random_state=0).fit(X[:400])
    ax = plotting.plot_selection(X[:400], sel.selected_indices_, y[:400])
    assert ax.collections[1].get_offsets().shape == (10, 2)


@pytest.mark.gpu
def test_device_arrays_are_copied_to_host():
    cupy = pytest.importorskip("cupy", reason="needs CuPy and a CUDA GPU")
    X = np.random.RandomState(0).rand(20, 3)
    ax = plotting.plot_selection(cupy.asarray(X), cupy.asarray([1, 2]),
                                 cupy.asarray(np.arange(20) % 3))
    assert ax.collections[1].get_offsets().shape == (2, 2)
    assert plotting.project_2d(cupy.asarray(X)).shape == (20, 2)
