"""The one place skusl reaches into scikit-learn's private API.

scikit-learn's parameter-validation classes (``Interval``, ``StrOptions``,
``HasMethods``) live in the private ``sklearn.utils._param_validation``, and
the ``fit`` decorator that runs them, ``_fit_context``, in ``sklearn.base``. Every
estimator's ``_parameter_constraints`` uses them, so a move in a future
scikit-learn release is absorbed here, in one import, rather than in each
module. Import them from this module, never from scikit-learn directly
(``tests/test_common.py`` checks that no other module does).
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

__all__ = ["HasMethods", "Interval", "StrOptions", "_fit_context"]
