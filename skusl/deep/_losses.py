"""USL-T loss terms as small pure functions on torch tensors.

Notation follows Wang, Lian & Yu, "Unsupervised Selective Labeling for More
Effective Semi-Supervised Learning" (ECCV 2022), section 3.2: ``z`` are the
cluster-head logits, ``p = softmax(z)``, ``p_bar`` the running mean of the
cluster marginals, ``tau`` the confidence threshold of the global loss,
``alpha`` the strength of the logit adjustment, ``t`` the sharpening
temperature of the local loss and ``lambda`` its weight in the total.

Every function takes logits of shape ``(batch, n_clusters)`` and returns a
scalar tensor (or a new prior), so each can be checked by hand on tiny inputs.
"""

from ._torch import import_torch


def sharpen(p, temperature):
    """Sharpen probability rows: ``p ** (1 / T)``, renormalised to sum to one.

    Parameters
    ----------
    p : Tensor of shape (batch, n_clusters)
        Rows of probabilities.
    temperature : float
        ``T`` in the paper; ``T < 1`` sharpens, ``T = 1`` is the identity.

    Returns
    -------
    Tensor of shape (batch, n_clusters)
    """
    torch = import_torch()
    # in log space: stable for tiny probabilities and small temperatures
    log_p = torch.log(p.clamp_min(torch.finfo(p.dtype).tiny)) / temperature
    return torch.softmax(log_p, dim=1)


def adjusted_targets(neighbor_logits, prior, alpha, temperature):
    """Targets of the local loss: ``sharpen(softmax(z_nbr - alpha log p_bar), T)``.

    Subtracting ``alpha * log(p_bar)`` (logit adjustment) raises the targets of
    clusters that are currently rare and lowers those of dominant ones, which
    keeps the training away from the one-cluster collapse.

    Parameters
    ----------
    neighbor_logits : Tensor of shape (batch, n_clusters)
        Logits ``z`` of the neighbours.
    prior : Tensor of shape (n_clusters,)
        ``p_bar``, the running cluster marginals (positive, sums to one).
    alpha : float
        Logit-adjustment strength.
    temperature : float
        Sharpening temperature ``T``.

    Returns
    -------
    Tensor of shape (batch, n_clusters)
        Detached target distributions.
    """
    torch = import_torch()
    z = neighbor_logits.detach() - alpha * torch.log(prior).view(1, -1)
    return sharpen(torch.softmax(z, dim=1), temperature)


def local_loss(anchor_logits, neighbor_logits, prior, *, alpha, temperature):
    """Local (neighbour-consistency) loss, averaged over the batch.

    ``KL(sharpen(softmax(z_nbr - alpha log p_bar), T) || softmax(z_anchor))``:
    each anchor should fall in the cluster its neighbour's adjusted, sharpened
    prediction points to. Gradients flow into the anchor only. In USL-T the
    anchor is the sample's *strong* view (as in the reference code), so the
    local and global losses pull on the same, perturbed prediction.

    Parameters
    ----------
    anchor_logits : Tensor of shape (batch, n_clusters)
        Logits of the anchor (the strong view of the sample).
    neighbor_logits : Tensor of shape (batch, n_clusters)
    prior : Tensor of shape (n_clusters,)
        ``p_bar``.
    alpha : float
    temperature : float

    Returns
    -------
    Tensor
        Scalar loss (``reduction="batchmean"``).
    """
    torch = import_torch()
    target = adjusted_targets(neighbor_logits, prior, alpha, temperature)
    log_q = torch.log_softmax(anchor_logits, dim=1)
    return torch.nn.functional.kl_div(log_q, target, reduction="batchmean")


def update_prior(prior, neighbor_logits, momentum):
    """One EMA step of the cluster marginals ``p_bar``.

    ``p_bar <- momentum * p_bar + (1 - momentum) * mean_batch softmax(z_nbr)``,
    renormalised to sum to one.

    Parameters
    ----------
    prior : Tensor of shape (n_clusters,)
    neighbor_logits : Tensor of shape (batch, n_clusters)
        Unadjusted neighbour logits of the current batch.
    momentum : float
        0.5 in the paper.

    Returns
    -------
    Tensor of shape (n_clusters,)
        The new prior (detached).
    """
    torch = import_torch()
    batch_mean = torch.softmax(neighbor_logits.detach(), dim=1).mean(dim=0)
    new = momentum * prior + (1.0 - momentum) * batch_mean
    return new / new.sum()


REWEIGHT_MODES = ("renorm", "inverse", "none")


def global_loss(weak_logits, strong_logits, *, tau, reweight="renorm",
                mean_outside_mask=False):
    """Global (confidence-thresholded self-labelling) loss.

    Targets are the argmax of the weak view, kept only where its maximum
    softmax probability exceeds ``tau``; the loss is the cross-entropy of the
    strong view against them, optionally class-balanced:

    * ``reweight="inverse"``: each kept sample is weighted by the inverse
      frequency of its target among the kept samples, ``w_c = n_kept /
      count_c`` (the reference's ``REWEIGHT``);
    * ``reweight="renorm"``: ``w_c = n_kept / (n_present * count_c)``, the
      same weights rescaled so that they sum to ``n_kept`` (the reference's
      ``REWEIGHT_RENORM``, its ImageNet-100 head-only setting). The two only
      differ when ``mean_outside_mask`` is set;
    * ``reweight="none"``: unweighted.

    The weighted sum is divided by the total weight of the kept samples, or,
    with ``mean_outside_mask``, by the batch size (so a batch where few
    samples pass ``tau`` pulls less; the reference's ``MEAN_OUTSIDE_MASK``,
    used on CIFAR-100 and ImageNet).

    Parameters
    ----------
    weak_logits : Tensor of shape (batch, n_clusters)
        Logits of the weak view (no gradient is taken through the targets).
    strong_logits : Tensor of shape (batch, n_clusters)
        Logits of the strong view.
    tau : float
        Confidence threshold (0 keeps every sample).
    reweight : {"renorm", "inverse", "none"} or bool, default="renorm"
        Class balancing; ``True`` means ``"inverse"``, ``False`` ``"none"``.
    mean_outside_mask : bool, default=False
        Divide by the batch size instead of the kept weight.

    Returns
    -------
    Tensor
        Scalar loss; exactly zero (with a gradient path) when no sample passes
        the threshold.
    """
    torch = import_torch()
    reweight = _reweight_mode(reweight)
    prob = torch.softmax(weak_logits.detach(), dim=1)
    max_prob, target = prob.max(dim=1)
    mask = max_prob > tau
    if not bool(mask.any()):
        return strong_logits.sum() * 0.0
    target = target[mask]
    nll = -torch.log_softmax(strong_logits[mask], dim=1).gather(1, target.view(-1, 1)).view(-1)
    n_kept = target.numel()
    if reweight == "none":
        w = torch.ones_like(nll)
    else:
        n_clusters = weak_logits.shape[1]
        counts = torch.bincount(target, minlength=n_clusters).to(nll.dtype)
        weight = n_kept / counts.clamp_min(1.0)
        if reweight == "renorm":
            weight = weight / int((counts > 0).sum())
        w = weight[target]
    denom = weak_logits.shape[0] if mean_outside_mask else w.sum()
    return (w * nll).sum() / denom


def _reweight_mode(reweight):
    if reweight is True:
        return "inverse"
    if reweight is False or reweight is None:
        return "none"
    if reweight not in REWEIGHT_MODES:
        raise ValueError(f"reweight={reweight!r} is not one of {REWEIGHT_MODES}.")
    return reweight


def update_counts(counts, weak_logits, *, tau, n_samples, momentum):
    """One EMA step of the estimated cluster sizes (the count EMA).

    ``counts <- momentum * counts + (1 - momentum) * n_samples * share``,
    where ``share`` is the fraction of the batch's confident (``> tau``)
    weak-view predictions that fall in each cluster. The estimate drives the
    reassignment of shrinking clusters (see
    :meth:`skusl.deep.USLTClusterer`); a batch where nothing is confident
    leaves it unchanged.

    Parameters
    ----------
    counts : Tensor of shape (n_clusters,)
    weak_logits : Tensor of shape (batch, n_clusters)
    tau : float
    n_samples : int
        Size of the training set (the share is scaled to it).
    momentum : float
        0.9 in the reference.

    Returns
    -------
    Tensor of shape (n_clusters,)
    """
    torch = import_torch()
    prob = torch.softmax(weak_logits.detach(), dim=1)
    max_prob, target = prob.max(dim=1)
    target = target[max_prob > tau]
    if target.numel() == 0:
        return counts
    share = torch.bincount(target, minlength=weak_logits.shape[1]).to(counts.dtype)
    share = share / target.numel()
    return momentum * counts + (1.0 - momentum) * n_samples * share
