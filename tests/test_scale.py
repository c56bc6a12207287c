"""Scale work (issue 13): tiled exact search, the approximate search, the planner."""

import numpy as np
import pytest

from skusl.neighbors import _exact


def _data(n=1500, d=16, seed=0, dtype=np.float32):
    # Small whole numbers: every product and sum is exact in float32, so any
    # GEMM shape gives the same bits and ties are true ties (many of them).
    X = np.random.default_rng(seed).integers(0, 3, (n, d)).astype(dtype)
    X[7] = X[3]  # an exact duplicate: a zero distance and ties by index
    X[11] = X[3]
    return X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_tiled_exact_search_matches_one_full_row_block(backend, dtype, monkeypatch):
    """Column tiles (running top-k) give the result of one (rows, n) block per row block."""
    X = _data(dtype=dtype)
    full_d, full_i = _exact.exact_kneighbors(X, X, 12, backend="numpy", exclude_self=True,
                                             tile_cols=None, block_bytes=1 << 40)
    # Tiles that do not divide n, rows per block that split the diagonal
    monkeypatch.setattr(_exact, "TILE_ROWS", 2000)
    d, i = _exact.exact_kneighbors(X, X, 12, backend=backend, exclude_self=True,
                                   tile_cols=1700)
    np.testing.assert_array_equal(i, full_i)
    np.testing.assert_array_equal(d, full_d)
    monkeypatch.setattr(_exact, "TILE_ROWS", 257)
    d, i = _exact.exact_kneighbors(X, X, 12, backend=backend, exclude_self=True,
                                   tile_cols=300)
    np.testing.assert_array_equal(i, full_i)
    np.testing.assert_array_equal(d, full_d)
    assert (i != np.arange(len(X))[:, None]).all()  # self excluded across tile borders
    assert i[3, 0] == 7 and i[3, 1] == 11 and d[3, 0] == 0  # ties by the smaller index
    ties = np.diff(d, axis=1) == 0
    assert ties.mean() > 0.5 and (np.diff(i, axis=1)[ties] > 0).all()


def test_tiled_backends_agree_bit_for_bit(monkeypatch):
    monkeypatch.setattr(_exact, "TILE_ROWS", 333)
    X = _data(d=40)
    Q = np.random.default_rng(1).standard_normal((200, 40)).astype(np.float32)
    out = [_exact.exact_kneighbors(Q, X, 9, backend=b, exclude_self=False, tile_cols=512)
           for b in ("numpy", "numba")]
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
