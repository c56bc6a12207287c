"""A tiny text demo: 300 short sentences on four topics, embedded offline.

The sentences are generated here from topic vocabularies and shared
templates (a fixed seed, so every install gets the same ones), and embedded
by this module too: TF-IDF over words and word pairs, reduced to 32
dimensions by truncated SVD (latent semantic analysis), rows L2-normalised.
No file, no download, no model weights; a stand-in for sentence-encoder
embeddings (such as the benchmarks' ``rt13k_minilm.npz``) when those are
absent. The topics are imbalanced on purpose (120 / 90 / 60 / 30), so that
random selection tends to miss the rare one.
"""

import functools

import numpy as np
from sklearn.utils import Bunch

TOPICS = ("sports", "cooking", "weather", "computers")
TOPIC_SIZES = (120, 90, 60, 30)

_VOCAB = {
    "sports": {
        "subject": ["the striker", "our goalkeeper", "the home team", "the coach",
                    "the young sprinter", "the referee", "the captain", "the visiting side",
                    "the tennis champion", "the rookie"],
        "verb": ["scored", "defended", "won", "lost", "missed", "trained for", "celebrated",
                 "dominated", "fought back in", "qualified for"],
        "object": ["the final", "a penalty", "the league match", "the second half",
                   "the championship", "the derby", "a late goal", "the relay race",
                   "the tournament", "the away game"],
    },
    "cooking": {
        "subject": ["the chef", "my grandmother", "the baker", "our neighbour",
                    "the new restaurant", "the cookbook author", "the pastry cook",
                    "my brother", "the street vendor", "the kitchen team"],
        "verb": ["baked", "seasoned", "simmered", "roasted", "burned", "served", "tasted",
                 "chopped", "grilled", "whisked"],
        "object": ["the garlic soup", "a lemon tart", "fresh bread", "the tomato sauce",
                   "spicy noodles", "the roast chicken", "a chocolate cake",
                   "the vegetable stew", "crispy dumplings", "the onion pie"],
    },
    "weather": {
        "subject": ["the storm", "a cold front", "the forecast", "heavy rain",
                    "the morning fog", "a heat wave", "the wind", "thick snow",
                    "the thunder", "the drought"],
        "verb": ["hit", "flooded", "covered", "cooled", "soaked", "swept over", "froze",
                 "warmed", "darkened", "dried out"],
        "object": ["the coast", "the valley", "the northern hills", "the city streets",
                   "the farmland", "the mountain pass", "the harbour", "the river banks",
                   "the old bridge", "the whole region"],
    },
    "computers": {
        "subject": ["the new laptop", "the database server", "the compiler",
                    "our web app", "the graphics card", "the operating system",
                    "the python script", "the router", "the backup job", "the chip"],
        "verb": ["crashed", "rebooted", "compiled", "encrypted", "downloaded", "indexed",
                 "overheated", "updated", "parsed", "cached"],
        "object": ["the source code", "the log files", "a software patch", "the kernel",
                   "the user data", "the network drivers", "the memory cache",
                   "the disk image", "a large dataset", "the firmware"],
    },
}

_OPENERS = ["", "", "", "yesterday", "last night", "this morning", "apparently",
            "as expected", "once again", "to everyone's surprise", "on sunday",
            "after a long wait"]
_CLOSERS = ["", "", "", "and people talked about it all week", "again",
            "without any warning", "in record time", "for the first time this year",
            "while we watched", "and nobody was surprised", "before noon",
            "just like last time"]


@functools.lru_cache(maxsize=1)
def _generate(seed=0):
    rng = np.random.RandomState(seed)
    texts, target = [], []
    seen = set()
    for label, (topic, size) in enumerate(zip(TOPICS, TOPIC_SIZES, strict=False)):
        vocab = _VOCAB[topic]
        count = 0
        while count < size:
            parts = [_OPENERS[rng.randint(len(_OPENERS))],
                     vocab["subject"][rng.randint(10)],
                     vocab["verb"][rng.randint(10)],
                     vocab["object"][rng.randint(10)],
                     _CLOSERS[rng.randint(len(_CLOSERS))]]
            sentence = " ".join(p for p in parts if p)
            sentence = sentence[0].upper() + sentence[1:] + "."
            if sentence in seen:
                continue
            seen.add(sentence)
            texts.append(sentence)
            target.append(label)
            count += 1
    order = rng.permutation(len(texts))
    texts = [texts[i] for i in order]
    target = np.asarray(target, dtype=np.int64)[order]
    return tuple(texts), target, _embed(texts)


def _embed(texts):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize
    from sklearn.utils.extmath import svd_flip
    from threadpoolctl import threadpool_limits

    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    counts = tfidf.fit_transform(texts).toarray()  # 300 x ~1000: a dense SVD is instant
    with threadpool_limits(1):  # a tiny matrix: threads only add overhead
        U, S, Vt = np.linalg.svd(counts, full_matrices=False)
    U, Vt = svd_flip(U, Vt)  # deterministic signs
    X = normalize(U[:, :32] * S[:32])
    return X.astype(np.float32)


def load_demo_text():
    """Load the tiny text demo: 300 sentences on 4 topics with 32-d embeddings.

    Runs offline in well under a second: the sentences are generated from
    fixed vocabularies (same seed, same sentences) and embedded by
    latent semantic analysis (TF-IDF, truncated SVD to 32 dimensions, rows
    L2-normalised), all with scikit-learn. Use it to try text selection
    when no sentence-encoder embeddings are at hand. The topics are
    imbalanced (120 sports, 90 cooking, 60 weather, 30 computers
    sentences). The labels are for evaluation only.

    Returns
    -------
    data : Bunch
        ``data`` (300, 32) float32 embeddings, ``target`` (300,) int64
        topics, ``texts`` list of the 300 sentences, ``target_names``
        ndarray of the 4 topic names, ``DESCR``.

    See Also
    --------
    load_demo : 1797 handwritten digits.

    Examples
    --------
    >>> from skusl.datasets import load_demo_text
    >>> demo = load_demo_text()
    >>> demo.data.shape, demo.data.dtype, len(demo.texts)
    ((300, 32), dtype('float32'), 300)
    >>> demo.target_names.tolist()
    ['sports', 'cooking', 'weather', 'computers']
    >>> import numpy as np
    >>> np.bincount(demo.target).tolist()
    [120, 90, 60, 30]
    """
    texts, target, X = _generate()
    return Bunch(data=X.copy(), target=target.copy(), texts=list(texts),
                 target_names=np.asarray(TOPICS),
                 DESCR=("300 generated sentences on 4 topics (sports, cooking, weather, "
                        "computers; 120/90/60/30), embedded by TF-IDF + truncated SVD "
                        "(32 dimensions, L2-normalised)."))
