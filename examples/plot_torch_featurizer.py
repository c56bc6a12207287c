"""
=====================================================
Embed with a torch model, then select with USL-T
=====================================================

:class:`~skusl.deep.TorchFeaturizer` turns any ``torch.nn.Module`` into the
first step of a scikit-learn pipeline: it embeds the inputs in batches, in
eval mode and without gradients, and returns L2-normalised NumPy rows.
:class:`~skusl.deep.USLTClusterer` then learns ``n_select`` clusters on the
embeddings (USL-T, Wang, Lian & Yu, ECCV 2022) and picks the most confident
member of each: the images to send to annotators.

Here the "images" are scikit-learn's 8x8 digits and the model is a small
convolution with fixed random filters, enough to show the plumbing; in
practice it would be a pretrained encoder. This example needs PyTorch
(``pip install "skusl[torch]"``) and only prints a note without it.
"""

import importlib.util

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline

if importlib.util.find_spec("torch") is None:
    print('This example needs PyTorch: pip install "skusl[torch]"')
else:
    import torch

    from skusl.deep import TorchFeaturizer, USLTClusterer

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]  # (n, 1, 8, 8)

    torch.manual_seed(0)
    encoder = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, kernel_size=3, padding=1), torch.nn.ReLU(),
        torch.nn.AvgPool2d(2), torch.nn.Flatten(),
    )

    pipe = make_pipeline(TorchFeaturizer(encoder, batch_size=256),
                         USLTClusterer(n_select=10, random_state=0))
    pipe.fit(images)
    uslt = pipe[-1]
    selected = uslt.selected_indices_
    print("selected:", selected)
    print("their digits:", digits.target[selected],
          f"({len(set(digits.target[selected]))} of 10 classes)")

    fig, axes = plt.subplots(1, 10, figsize=(10, 1.6))
    for ax, i in zip(axes, selected, strict=False):
        ax.imshow(digits.images[i], cmap="gray_r")
        ax.set_title(f"{uslt.confidence_[i]:.2f}", fontsize=8)
        ax.axis("off")
    fig.suptitle("USL-T picks (title: confidence), most confident first")
    plt.show()
