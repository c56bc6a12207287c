"""The USL-T network: optional backbone, optional MLP neck, cosine cluster heads.

This module imports torch at the top; :mod:`skusl.deep._uslt` imports it only
inside ``fit``, so ``import skusl.deep`` works without torch. A plain
module-level class keeps fitted estimators picklable.
"""

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (torch convention)


class USLTNetwork(nn.Module):
    """Backbone (optional) -> MLP neck (optional) -> ``n_heads`` cosine heads.

    Each head ``h`` gives ``z_h = s * cos(f(x), w_{h,c})`` for the ``C``
    clusters ``c``: cosine similarity between the L2-normalised feature
    ``f(x)`` and the L2-normalised cluster weight, times a fixed scale ``s``
    (a fixed rather than learned scale cannot shrink to make every prediction
    uniform).

    Parameters
    ----------
    in_features : int
        Width of the backbone's output (or of the input when no backbone).
    n_clusters : int
    n_heads : int
    hidden_layer_sizes : tuple of int
        Widths of the neck's linear layers (ReLU between them, none after
        the last); ``()`` for no neck.
    logit_scale : float
        ``s``.
    backbone : torch.nn.Module or None
    """

    def __init__(self, in_features, n_clusters, n_heads, hidden_layer_sizes, logit_scale,
                 backbone=None):
        super().__init__()
        self.backbone = backbone
        layers = []
        width = in_features
        for i, size in enumerate(hidden_layer_sizes):
            if i > 0:
                layers.append(nn.ReLU())
            layers.append(nn.Linear(width, size))
            width = size
        self.neck = nn.Sequential(*layers) if layers else nn.Identity()
        self.heads = nn.Parameter(torch.randn(n_heads, n_clusters, width) / width ** 0.5)
        self.logit_scale = float(logit_scale)
        self.out_features = width

    def embed(self, x):
        """L2-normalised features ``f(x)`` of shape (batch, width)."""
        if self.backbone is not None:
            x = self.backbone(x)
            x = x.reshape(x.shape[0], -1)
        return F.normalize(self.neck(x), dim=1)

    def forward(self, x):
        """Logits of shape (n_heads, batch, n_clusters)."""
        feats = self.embed(x)
        weights = F.normalize(self.heads, dim=2)
        return self.logit_scale * torch.einsum("nd,hcd->hnc", feats, weights)
