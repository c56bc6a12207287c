"""Input checks shared by every estimator, function and file reader: one home.

One place, one set of messages, each naming the fix:

- features: :func:`check_embeddings` (estimators), :func:`check_points`
  (public array functions), :func:`check_finite`, :func:`check_distance_range`,
  :func:`normalize_rows`, :func:`rows_to_float32`;
- budgets: :func:`check_n_select` and the :class:`Count` constraint;
- row indices and masks: :func:`check_indices` (skusl.io, skusl.metrics,
  skusl.plotting), :func:`check_selection`, :func:`check_true_labels`;
- semi-supervised targets: :func:`split_labels` (every labeler).
"""

import numbers

import numpy as np
import scipy.sparse as sp
from ._sklearn_compat import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d, validate_data

from ._backends._resolve import get_namespace, is_cupy_array, to_host

SPARSE_MESSAGE = (
    "sparse input is not supported: skusl works on dense embeddings. "
    "Convert with X.toarray(), or reduce a wide sparse matrix first "
    "(e.g. sklearn.decomposition.TruncatedSVD)."
)


def _check_shape_and_kind(X, name):
    """Errors that name the fix for the shapes and dtypes numpy would reject late."""
    if sp.issparse(X):
        raise ValueError(SPARSE_MESSAGE.replace("X.toarray", f"{name}.toarray"))
    ndim = getattr(X, "ndim", None)
    if ndim is not None and ndim > 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}; "
            f"flatten each sample first, e.g. {name}.reshape(len({name}), -1)."
        )
    dtype = getattr(X, "dtype", None)
    if dtype is not None and dtype.kind in "OUSV":
        try:  # a TypeError (e.g. a dict in the array) passes: scikit-learn's convention
            X = np.asarray(X, dtype=np.float64)
        except ValueError as exc:
            raise ValueError(
                f"{name} must hold numbers, got dtype {dtype} with a value that is not "
                f"a number ({exc}); convert it with {name}.astype(float) after fixing "
                "those entries."
            ) from None
    if dtype is not None and dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} is complex; pass real "
                         f"features (e.g. {name}.real or numpy.abs({name})).")
    if getattr(X, "dtype", None) == np.float16:
        X = X.astype(np.float32)
    return X


#: Rows per block of the scans over X that would otherwise make (n, d) temporaries.
_FINITE_BLOCK = 65536


def check_finite(X, name="X"):
    """Raise a ``ValueError`` naming the first rows that hold NaN or infinity."""
    xp = get_namespace(X)
    if X.ndim == 2 and xp is np and X.shape[0] > _FINITE_BLOCK:
        # In row blocks: the boolean temporary stays small for a memory map
        bad = np.concatenate([~np.isfinite(X[s:s + _FINITE_BLOCK]).all(axis=1)
                              for s in range(0, X.shape[0], _FINITE_BLOCK)])
    else:
        bad = ~xp.isfinite(X).all(axis=1) if X.ndim == 2 else ~xp.isfinite(X)
    if bool(bad.any()):
        rows = [int(i) for i in xp.flatnonzero(bad)[:5].tolist()]
        more = int(bad.sum()) - len(rows)
        listed = ", ".join(map(str, rows)) + (f" and {more} more" if more > 0 else "")
        raise ValueError(
            f"{name} contains NaN or infinity in row(s) {listed}; drop or impute them "
            f"first, e.g. {name}[numpy.isfinite({name}).all(axis=1)] or "
            "sklearn.impute.SimpleImputer."
        )
    return X


def check_points(X, name="X", *, allow_cupy=True):
    """Validate the input of a public array function (no estimator involved).

    Lists and other array-likes are converted; int, bool and float16 become
    float64 / float32 as in :func:`check_embeddings`. Sparse, 1-D, 3-D,
    empty, complex, non-numeric and non-finite input raise a ``ValueError``
    that names the fix. CuPy arrays are checked on the device.

    Returns
    -------
    X : C-contiguous float32 or float64 array of shape (n_samples, n_features)
    """
    if allow_cupy and is_cupy_array(X):
        return _check_cupy(None, X, reset=False, name=name)
    X = _check_shape_and_kind(X, name)
    X = check_array(X, dtype=(np.float64, np.float32), ensure_all_finite=False,
                    ensure_min_samples=1, input_name=name, order="C")
    return check_finite(X, name)


def check_embeddings(estimator, X, *, reset=True, allow_cupy=False):
    """Validate an embedding matrix and record ``n_features_in_``.

    Float16 is promoted to float32, integers to float64; float32 and float64
    are kept (float32 computes twice as fast). NaN/inf, 1-D, empty, complex
    and sparse input raise a ``ValueError`` that names the fix.

    Parameters
    ----------
    estimator : BaseEstimator
        Receives ``n_features_in_`` / ``feature_names_in_`` when ``reset``.
    X : array-like of shape (n_samples, n_features)
    reset : bool
        True in ``fit``; False checks the feature count against the fit.
    allow_cupy : bool
        Pass CuPy arrays through (validated on the device).

    Returns
    -------
    X : ndarray (or CuPy array) of shape (n_samples, n_features)
    """
    if allow_cupy and is_cupy_array(X):
        X = _check_cupy(estimator, X, reset=reset)
    else:
        X = _check_shape_and_kind(X, "X")
        X = validate_data(estimator, X, reset=reset, dtype=(np.float64, np.float32),
                          ensure_min_samples=1, ensure_all_finite=False)
        check_finite(X)
    if not getattr(estimator, "normalize", True):
        check_distance_range(X)
    return X


def _check_cupy(estimator, X, *, reset, name="X"):
    import cupy as cp

    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array, got a {X.ndim}D CuPy array; reshape it.")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"Found array with shape {X.shape}; at least one sample "
                         "and one feature are required.")
    if X.dtype == cp.float16:
        X = X.astype(cp.float32)
    elif X.dtype not in (cp.float32, cp.float64):
        X = X.astype(cp.float64)
    check_finite(X, name)
    if estimator is None:
        return cp.ascontiguousarray(X)
    if reset:
        estimator.n_features_in_ = X.shape[1]
    elif X.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(estimator).__name__} "
                         f"is expecting {estimator.n_features_in_} features as input.")
    return cp.ascontiguousarray(X)


#: Rows whose squared norm is within this many machine epsilons of 1 count
#: as unit-norm already: float rounding of a normalised row (d of them
#: summed) stays far below it, while no row that was not normalised lands
#: there by chance.
UNIT_NORM_TOL = 64


def normalize_rows(X):
    """L2-normalise rows; all-zero rows stay zero (NumPy or CuPy).

    When every row is unit-norm already (squared norm within
    :data:`UNIT_NORM_TOL` epsilons of 1), ``X`` itself is returned, not a
    copy: callers must not write into the result.

    Rows whose squared norm overflows or falls near the subnormal range
    (float64 values above ~1e154 or below ~1e-146, float32 above ~1e19 or
    below ~3e-16) are first scaled by a power of two near their largest
    absolute value (exact), so they normalise to the same bits as the row
    at an ordinary scale; the others take the plain path (``X / norm``).
    """
    xp = get_namespace(X)
    finfo = np.finfo(X.dtype)
    with np.errstate(over="ignore", under="ignore"):
        if xp is np and X.shape[0] > _FINITE_BLOCK:  # same bits, no (n, d) temporary
            sq = np.concatenate([(X[s:s + _FINITE_BLOCK] * X[s:s + _FINITE_BLOCK]).sum(axis=1)
                                 for s in range(0, X.shape[0], _FINITE_BLOCK)])
        else:
            sq = (X * X).sum(axis=1)
    unsafe = ~(sq < finfo.max) | (sq < finfo.tiny / finfo.eps)
    if bool(unsafe.any()):  # rare: the extra pass only runs here
        unsafe &= xp.abs(X).max(axis=1) > 0  # all-zero rows stay zero
    if bool(unsafe.any()):
        X = X.copy()
        rows = xp.flatnonzero(unsafe)
        part = X[rows]
        # A power of two per row (exact): such a row normalises to the same
        # bits as the row at an ordinary scale.
        exponent = xp.frexp(xp.abs(part).max(axis=1))[1]
        part = xp.ldexp(part, -exponent[:, None].astype(xp.int32))
        X[rows] = part
        sq[rows] = (part * part).sum(axis=1)
    if bool(xp.all(xp.abs(sq - 1) <= UNIT_NORM_TOL * finfo.eps)):
        # Already unit-norm (embeddings usually are): no (n, d) copy, so a
        # memory-mapped input stays memory-mapped.
        return X
    norms = sq ** 0.5
    norms[norms == 0] = 1
    return X / norms[:, None]


def rows_to_float32(X):
    """A float32 copy of ``X`` for estimators that normalise rows afterwards.

    Rows whose magnitude float32 cannot hold (float64 input above ~1e18 or
    whose largest value is below ~1e-18) are first scaled by a power of two
    (exact); normalisation removes the scale, so they end up as they would at
    an ordinary scale. Other rows are cast as ``X.astype(float32)`` would.
    """
    if X.dtype == np.float32:
        return X
    max_abs = np.abs(X).max(axis=1) if X.size else np.zeros(X.shape[0])
    unsafe = (max_abs > 2.0 ** 60) | ((max_abs < 2.0 ** -60) & (max_abs > 0))
    if unsafe.any():
        X = X.copy()
        exponent = np.frexp(max_abs[unsafe])[1]
        X[unsafe] = np.ldexp(X[unsafe], -exponent[:, None].astype(np.int32))
    return X.astype(np.float32)


def check_distance_range(X, name="X"):
    """Refuse values whose squared distances overflow or underflow the dtype.

    Called for estimators that work on raw features (``normalize=False``):
    their distances and utilities are not scale invariant, so skusl cannot
    rescale silently. Values above ~1e154 (float64) / ~1e19 (float32), or
    whose largest magnitude is below ~1e-146 / ~3e-16, are refused with the
    fix.
    """
    if X.size == 0:
        return X
    finfo = np.finfo(X.dtype)
    max_abs = max(float(X.max()), -float(X.min()))  # no (n, d) temporary: X may be mapped
    n_features = X.shape[1]
    if max_abs * max_abs * 4.0 * n_features >= float(finfo.max):
        raise ValueError(
            f"{name} holds values up to {max_abs:.3g}, whose squared distances overflow "
            f"{X.dtype}; rescale it first (e.g. {name} / numpy.abs({name}).max()) or pass "
            "normalize=True."
        )
    if 0 < max_abs and max_abs * max_abs < float(finfo.tiny) / float(finfo.eps):
        raise ValueError(
            f"{name}'s largest value is {max_abs:.3g}: squared distances would underflow "
            f"{X.dtype}; rescale it first (e.g. {name} / numpy.abs({name}).max()) or pass "
            "normalize=True."
        )
    return X


def check_n_select(n_select, n_samples):
    """``n_select`` must fit in the data: a clear error naming both numbers."""
    if n_select > n_samples:
        raise ValueError(
            f"n_select={n_select} exceeds n_samples={n_samples}: cannot select "
            "more samples than the data holds; lower n_select."
        )


# --------------------------------------------------------------------------
# Indices and masks: one reading for io, metrics and plotting
# --------------------------------------------------------------------------

_INT64_MAX = np.iinfo(np.int64).max


def check_indices(indices, n_samples=None, *, name="indices", allow_mask=True,
                  unique=False, allow_empty=True):
    """Read row indices (or a boolean mask) as a 1-D int64 array.

    One rule for every writer, reader and metric: integers, and floats that
    are whole numbers (files often carry ``3.0``), are indices; a boolean
    array is a mask (its ``True`` positions); anything else - fractions,
    negative values, NaN, values beyond int64, strings, nested shapes - is a
    ``ValueError`` that says what to pass instead.

    Parameters
    ----------
    indices : array-like of int, or boolean mask
    n_samples : int or None
        When given, indices must be below it and a mask must have this length.
    name : str
        The argument's name, for the messages.
    allow_mask : bool, default=True
        Read a boolean array as a mask; with False it is refused.
    unique : bool, default=False
        Refuse repeated indices.
    allow_empty : bool, default=True
        Accept an empty selection.

    Returns
    -------
    indices : ndarray of shape (n_indices,), int64

    Examples
    --------
    >>> import numpy as np
    >>> from skusl._validation import check_indices
    >>> check_indices([3, 0, 2.0])
    array([3, 0, 2])
    >>> check_indices(np.array([False, True, True]))
    array([1, 2])
    >>> check_indices([1.7])
    Traceback (most recent call last):
    ...
    ValueError: indices must be whole numbers (row numbers), got 1.7.
    """
    if indices is None:
        raise ValueError(f"{name} is None; pass row numbers (or a boolean mask).")
    if sp.issparse(indices):
        raise ValueError(f"{name} is a sparse matrix; pass row numbers, e.g. "
                         f"{name}.nonzero()[1] or a dense boolean mask.")
    host = to_host(indices)
    arr = np.asarray(host)
    if arr.ndim > 1:
        if sum(s != 1 for s in arr.shape) > 1:
            raise ValueError(f"{name} must be 1-D (one row number per entry), got shape "
                             f"{arr.shape}.")
        arr = arr.ravel()
    arr = arr.ravel()
    if arr.dtype == bool:
        if not allow_mask:
            raise ValueError(f"{name} is a boolean mask; pass row numbers, e.g. "
                             f"numpy.flatnonzero({name}).")
        if n_samples is not None and arr.shape[0] != n_samples:
            raise ValueError(f"the boolean mask {name} has {arr.shape[0]} entries for "
                             f"{n_samples} samples; a mask needs one entry per sample.")
        arr = np.flatnonzero(arr)
    elif arr.dtype.kind == "O":
        arr = _object_indices(arr, name)
    elif arr.dtype.kind in "USV":
        raise ValueError(f"{name} must be row numbers, got text ({arr.dtype}); convert "
                         "with numpy.asarray(values, dtype=int) after checking them.")
    elif arr.dtype.kind == "c":
        raise ValueError(f"{name} must be row numbers, got complex values.")
    elif arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} holds NaN or infinity; pass row numbers only.")
        frac = arr != np.floor(arr)
        if frac.any():
            raise ValueError(f"{name} must be whole numbers (row numbers), got "
                             f"{arr[frac][0]:g}.")
        if arr.size and np.abs(arr).max() > 2.0 ** 53:
            big = arr[np.argmax(np.abs(arr))]
            raise ValueError(f"{name} holds {big:g}, far beyond any row number; pass the "
                             "row numbers of the samples.")
    elif arr.dtype.kind == "u" and arr.size and arr.max() > _INT64_MAX:
        raise ValueError(f"{name} holds {int(arr.max())}, beyond any row number.")
    arr = arr.astype(np.int64)
    if not allow_empty and arr.size == 0:
        raise ValueError(f"the selection is empty: select at least one sample ({name}).")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must be non-negative row numbers, got {int(arr.min())} "
                         "(skusl does not count from the end as Python does).")
    if n_samples is not None and arr.size and arr.max() >= n_samples:
        raise ValueError(f"{name} contains {int(arr.max())}, outside [0, {n_samples}) "
                         f"(out of range for n_samples={n_samples}).")
    if unique and arr.size:
        uniq, counts = np.unique(arr, return_counts=True)
        if np.any(counts > 1):
            raise ValueError(f"{name} repeats index {int(uniq[counts > 1][0])}; each sample "
                             "may appear once.")
    return arr


def check_true_labels(y_true, n_samples=None, name="y_true"):
    """Ground-truth labels of every sample (evaluation metrics): 1-D, finite, right length."""
    host = to_host(y_true)
    y = np.asarray(host)
    if y.ndim != 1:
        y = column_or_1d(y, warn=True) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per sample), got shape {y.shape}.")
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or infinity; every sample needs its true "
                         "class for the metric.")
    if y.dtype.kind == "O" and any(v is None or (isinstance(v, float) and v != v)
                                   for v in y.tolist()):
        raise ValueError(f"{name} contains None or NaN; every sample needs its true class "
                         "for the metric.")
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(f"{name} has {y.shape[0]} labels for {n_samples} samples.")
    return y


def check_selection(y_true, selected_indices, X=None, *, allow_empty=False):
    """Validate the inputs of a selection metric: ``(X, y_true, selected indices)``.

    ``X`` (optional) is validated as by :func:`check_points` (on the host),
    ``y_true`` needs one finite label per sample, and the selection is read
    by :func:`check_indices` (indices or a boolean mask over the samples).
    """
    if X is not None:
        X = check_points(to_host(X), allow_cupy=False)
    y_true = check_true_labels(y_true, None if X is None else X.shape[0])
    sel = check_indices(selected_indices, y_true.shape[0], name="selected_indices",
                        allow_empty=allow_empty)
    return X, y_true, sel


def _object_indices(arr, name):
    values = []
    for v in arr.tolist():
        if isinstance(v, bool) or not isinstance(v, (numbers.Integral, numbers.Real)):
            raise ValueError(f"{name} must be row numbers, got {v!r} "
                             f"({type(v).__name__}).")
        if isinstance(v, numbers.Integral):
            if abs(int(v)) > _INT64_MAX:
                raise ValueError(f"{name} holds {int(v):.3g}, far beyond any row number; "
                                 "pass the row numbers of the samples.")
            values.append(int(v))
        else:
            values.append(float(v))
    out = np.asarray(values)
    if out.dtype.kind == "f":
        return check_indices(out, name=name)
    return out.astype(np.int64)



class Count(Interval):
    """``Interval`` over integers that refuses booleans (``True`` is no budget).

    For ``_parameter_constraints``: ``n_select=True`` would otherwise pass
    as the integer 1 and fail deep inside K-Means.
    """

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


# --------------------------------------------------------------------------
# Semi-supervised targets: one reading of y for every labeler
# --------------------------------------------------------------------------

#: The marker of an unlabeled sample (scikit-learn's semi-supervised convention).
UNLABELED = -1


def _is_unlabeled_object(value):
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        raise ValueError(
            f"Input y contains {value!r}: mark unlabeled samples with -1, "
            "not NaN or None."
        )
    if isinstance(value, str):
        return value == "-1"
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return value == -1
    return False


def split_labels(y, name="HDLLabeler"):
    """Read a semi-supervised target: class codes with -1 for unlabeled.

    The rule, the same for every estimator and for
    :func:`skusl.io.annotations_to_y`: the integer ``-1`` marks an unlabeled
    sample, and so does the string ``"-1"`` in string or object targets
    (NumPy writes ``-1`` as ``"-1"`` when it builds a string array, e.g.
    ``np.where(mask, names, -1)``). Neither can therefore be a class.
    Classes must be all numbers or all strings (they are sorted into
    ``classes_``).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class values; ``-1`` (or ``"-1"``) marks unlabeled samples.
    name : str
        Estimator name for the messages.

    Returns
    -------
    y : ndarray of shape (n_samples,)
    unlabeled : ndarray of bool, shape (n_samples,)
    classes : ndarray of shape (n_classes,)
        Sorted distinct classes of the labeled samples.
    codes : ndarray of int64, shape (n_samples,)
        Index into ``classes``, -1 for unlabeled.

    Raises
    ------
    ValueError
        For a missing or empty ``y``, NaN/None entries, no labeled sample,
        continuous values, or classes that mix strings and numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from skusl._validation import split_labels
    >>> y, unlabeled, classes, codes = split_labels(np.array(["cat", "-1", "dog"]))
    >>> unlabeled, classes, codes
    (array([False,  True, False]), array(['cat', 'dog'], dtype='<U3'), array([ 0, -1,  1]))
    """
    if y is None:
        raise ValueError(
            f"{name} requires y to be passed, but the target y is None; pass the "
            "labels with -1 for unlabeled samples."
        )
    y = column_or_1d(y, warn=True)
    if y.shape[0] == 0:
        raise ValueError(f"y is empty: {name} needs at least one sample, with X and y "
                         "holding one row / one entry per sample.")
    kind = y.dtype.kind
    if kind in "fc":
        if not np.all(np.isfinite(y)):
            raise ValueError(
                "Input y contains NaN or infinity: mark unlabeled samples with -1, "
                "not NaN."
            )
        unlabeled = y == UNLABELED
    elif kind in "iu":
        unlabeled = y == UNLABELED
    elif kind == "b":
        unlabeled = np.zeros(y.shape, dtype=bool)
    elif kind in "US":
        unlabeled = y == y.dtype.type("-1")
    elif kind == "O":
        unlabeled = np.fromiter((_is_unlabeled_object(v) for v in y), dtype=bool,
                                count=y.shape[0])
    else:
        raise ValueError(f"Unknown label type: y has dtype {y.dtype}.")
    labeled = y[~unlabeled]
    if labeled.size == 0:
        raise ValueError(
            f"{name} needs at least one labeled sample, but every entry of y is -1 "
            "(unlabeled); label a few samples first (e.g. those USLSelector picks)."
        )
    if kind == "O":
        _check_one_label_type(labeled)
    check_classification_targets(labeled)
    try:
        classes, codes_lab = np.unique(labeled, return_inverse=True)
    except TypeError as exc:
        raise ValueError(
            "the labels of y cannot be sorted (mixed types?); use one type for all "
            "class values and -1 for unlabeled."
        ) from exc
    codes = np.full(y.shape[0], UNLABELED, dtype=np.int64)
    codes[~unlabeled] = codes_lab.ravel()
    return y, unlabeled, classes, codes


def _check_one_label_type(labeled):
    """Classes are all strings or all numbers: a clear error before numpy's sort."""
    is_str = np.fromiter((isinstance(v, str) for v in labeled), dtype=bool,
                         count=labeled.shape[0])
    if is_str.any() and not is_str.all():
        text = labeled[np.argmax(is_str)]
        other = labeled[np.argmin(is_str)]
        raise ValueError(
            f"y mixes strings and numbers as classes (e.g. {text!r} and {other!r}); use "
            "one type for every class, e.g. y.astype(str) (the unlabeled marker -1 "
            "may stay an integer)."
        )
