"""Deep-learning steps behind scikit-learn's API (PyTorch is optional).

* :class:`TorchFeaturizer` turns images, texts or arrays into L2-normalised
  embeddings with any ``torch.nn.Module`` or callable: the first step of a
  :class:`~sklearn.pipeline.Pipeline` whose next step is a selector.
* :class:`USLTClusterer` is USL-T, the training-based selection of Wang, Lian
  & Yu, "Unsupervised Selective Labeling for More Effective Semi-Supervised
  Learning", ECCV 2022: learnable cluster heads trained with a global
  (confidence-thresholded self-labelling) and a local (neighbour consistency)
  loss, then one member of each of the largest learned clusters (the densest
  by default) is selected. ``USLT_REFERENCE_SETTINGS`` holds the reference
  implementation's ImageNet (the defaults) and CIFAR training settings.

This module imports without PyTorch; torch is imported when an estimator is
fitted or used, and its absence raises an :class:`ImportError` that says
``pip install "skusl[torch]"``.
"""

from ._featurizer import TorchFeaturizer
from ._uslt import USLT_REFERENCE_SETTINGS, USLTClusterer

__all__ = ["TorchFeaturizer", "USLTClusterer", "USLT_REFERENCE_SETTINGS"]
