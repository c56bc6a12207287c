"""RandomSelector: the uniform baseline."""

import numpy as np

from ._base import BaseSelector


class RandomSelector(BaseSelector):
    """Uniformly random selection without replacement (the usual baseline).

    Parameters
    ----------
    n_select : int, default=10
        Annotation budget: the number of samples returned.
    normalize : bool, default=True
        L2-normalise features first. It does not change the selection, only
        the space of ``prototypes_`` and ``transform`` (as for the others).
    random_state : int, RandomState instance or None, default=None
        Seeds the draw. Same seed, same selection.

    Notes
    -----
    Warm start: ``fit(X, labeled=idx)`` draws from the samples not in
    ``idx``. Prefix-consistent: the draw is a prefix of one random
    permutation, so ``selected_indices_[:m]`` is the budget-``m`` draw.

    Attributes
    ----------
    selected_indices_ : ndarray of shape (n_select,)
        The drawn samples, in draw order.
    prototypes_ : ndarray of shape (n_select, n_features)
        The selected samples in the selector's feature space.
    n_samples_fit_ : int
        Number of training samples.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.selection import RandomSelector
    >>> X = np.random.RandomState(0).rand(100, 4)
    >>> RandomSelector(n_select=3, random_state=0).fit(X).selected_indices_.shape
    (3,)
    """

    _supports_labeled = True

    def _select(self, X, random_state):
        labeled = self.labeled_indices_
        if labeled.size == 0:  # RandomState.choice(replace=False): a permutation's prefix
            return random_state.choice(X.shape[0], self.n_select, replace=False)
        rest = np.setdiff1d(np.arange(X.shape[0]), labeled)
        return rest[random_state.permutation(rest.size)[: self.n_select]]

