"""Rebuild the second reader's head from the labelled data: python -m escalation.detection.train

Deterministic: the same data gives the same head. Reads only the `train` split; the blind batches
are not opened for anything but deduplication (a training message a blind one repeats is dropped).
The head is the small networks over the encoder and the lexicon's signals, averaged with a linear
model over character n-grams. The thresholds are chosen out of fold, folds being whole batches, so they are set on writers the
fold's model never read, as the blind split and real rooms are. The network's shape and
regularisation were chosen the same way (docs/detection.md has the comparison).

Needs scikit-learn (the `train` extra): pip install -e '.[train]'.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from . import assess, dataset, ngrams
from .encoder import Encoder
from .levels import Level
from .reader import LEVELS, Head, Spelling, features, level_from, probabilities
from .scoring import figures

HIDDEN = 256
ALPHA = 0.1  # L2 penalty
NETS = 3  # seeds averaged: steadier than one, and each net is small (~140k weights)
SPELLING_C = 3.0  # the n-gram model's inverse L2 penalty
SPELLING_SHARE = 0.5  # its part of the averaged probabilities (0.3 and 0.5 compared out of fold)
EMBEDDING_SCALE = 8.0  # the encoder's unit vectors against the lexicon's 0/1 features
FOLDS = 5
# What the thresholds allow out of fold on the training writers, leaving room below the targets
# (none raised to crisis+ <= 5% on writers never read) for the gap between these writers and new ones.
NONE_TO_CRISIS = 0.035
ORDINARY_TO_CRISIS = 0.005  # everyday room talk ("hola a todos"), which is most of what a room says
NONE_TO_DISTRESS = 0.10
CRISIS_TO_IMMINENT = 0.25
ORDINARY_KINDS = {"ordinary", "greeting", "small-talk", "check-in", "thanks", "welcome", "question",
                  "sharing-good-news", "coping-tip", "logistics", "reaction", "mild-complaint"}


def _threshold(scores: np.ndarray, allowed: float) -> float:
    """The lowest cut that flags at most `allowed` of these scores."""
    if len(scores) == 0:
        return 0.0  # nothing of this kind to hold back
    ordered = np.sort(scores)[::-1]
    k = int(np.floor(allowed * len(ordered)))
    return float(min(0.99, ordered[k] + 1e-6)) if k < len(ordered) else 0.0


def thresholds_for(p: np.ndarray, truth: np.ndarray, ordinary: np.ndarray) -> dict[str, float]:
    """Cuts that hold every budget: hard look-alikes and everyday talk each have their own."""
    hard = (truth == 0) & ~ordinary
    everyday = (truth == 0) & ordinary
    crisis_only = truth == 2
    return {
        "distress": max(_threshold(p[hard, 1:].sum(axis=1), NONE_TO_DISTRESS),
                        _threshold(p[everyday, 1:].sum(axis=1), NONE_TO_DISTRESS / 4)),
        "crisis": max(_threshold(p[hard, 2:].sum(axis=1), NONE_TO_CRISIS),
                      _threshold(p[everyday, 2:].sum(axis=1), ORDINARY_TO_CRISIS)),
        "imminent": _threshold(p[crisis_only, 3], CRISIS_TO_IMMINENT),
    }


def fit(x: np.ndarray, y: np.ndarray) -> tuple:
    """NETS networks, one hidden layer each, as (weights, bias) layers."""
    from sklearn.neural_network import MLPClassifier

    nets = []
    for seed in range(NETS):
        model = MLPClassifier((HIDDEN,), alpha=ALPHA, max_iter=300, early_stopping=True, random_state=seed)
        model.fit(x, y)
        nets.append(tuple(zip(model.coefs_, model.intercepts_)))
    return tuple(nets)


def spelling_counts(texts: list[str]):
    """Messages x n-gram buckets, raw counts (scipy sparse)."""
    from scipy import sparse

    rows = [ngrams.counts(t) for t in texts]
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.fromiter((b for r in rows for b in r), dtype=np.int64, count=indptr[-1])
    data = np.fromiter((c for r in rows for c in r.values()), dtype=np.float64, count=indptr[-1])
    return sparse.csr_matrix((data, indices, indptr), shape=(len(texts), ngrams.BUCKETS))


def _weighted(counts, idf: np.ndarray):
    """As ngrams.weighted does one message: sublinear tf x idf, unit length."""
    from scipy import sparse

    m = counts.copy()
    m.data = 1 + np.log(m.data)
    m = sparse.csr_matrix(m.multiply(idf))
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sparse.diags(1 / norms) @ m


def fit_spelling(counts, y: np.ndarray) -> Spelling:
    from sklearn.linear_model import LogisticRegression

    idf = ngrams.idf_of(np.asarray((counts > 0).sum(axis=0)).ravel(), counts.shape[0])
    model = LogisticRegression(C=SPELLING_C, max_iter=2000).fit(_weighted(counts, idf), y)
    return Spelling(idf, model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32), SPELLING_SHARE)


def out_of_fold(x, counts, texts, y, groups, categories) -> np.ndarray:
    from sklearn.model_selection import GroupKFold

    p = np.zeros((len(y), len(LEVELS)))
    for train_idx, test_idx in GroupKFold(n_splits=FOLDS).split(x, y, groups):
        head = Head(fit(x[train_idx], y[train_idx]), categories, EMBEDDING_SCALE, {},
                    fit_spelling(counts[train_idx], y[train_idx]))
        p[test_idx] = probabilities(head, x[test_idx], [texts[i] for i in test_idx])
    return p


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(dataset.HERE / "head.npz"))
    parser.add_argument("--labelled", default=str(dataset.LABELLED), help="folder of batches and batches.tsv")
    parser.add_argument("--without-lexicon-era", action="store_true", help="leave out bench/data/messages.tsv")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    examples = dataset.load(Path(args.labelled), None if args.without_lexicon_era else dataset.LEXICON_ERA)
    train = [e for e in examples if e.split == "train"]
    texts = [e.text for e in train]
    y = np.array([LEVELS.index(e.level) for e in train])
    # Batches are the folds' units; the lexicon era's one voice is split into five parts.
    groups = np.array([f"{e.batch}-{i % FOLDS}" if e.batch.startswith("lexicon-era") else e.batch
                       for i, e in enumerate(train)])
    lexical = [assess(t) for t in texts]
    categories = tuple(sorted({c for a in lexical for c in a.categories}))
    embeddings = Encoder(threads=2).encode(texts)
    x = features(embeddings, lexical, categories, EMBEDDING_SCALE)
    print(f"{len(train)} training messages in {len(set(e.batch for e in train))} batches, "
          f"{x.shape[1]} features; encoded in {time.perf_counter() - started:.1f} s")
    ordinary = np.array([e.kind in ORDINARY_KINDS for e in train])
    counts = spelling_counts(texts)
    p = out_of_fold(x, counts, texts, y, groups, categories)
    cuts = thresholds_for(p, y, ordinary)
    truth = [LEVELS[i] for i in y]
    predicted = [level_from(r, cuts) for r in p]
    print(f"out of fold (whole batches held out): {figures(truth, predicted).line()}")
    print(f"  everyday talk raised to crisis+: {sum(predicted[i] >= Level.CRISIS for i in np.flatnonzero(ordinary))}"
          f" of {ordinary.sum()}")
    head = Head(fit(x, y), categories, EMBEDDING_SCALE, cuts, fit_spelling(counts, y))
    head.save(args.out)
    check = [level_from(row, cuts) for row in probabilities(head, x, texts)]
    print(f"thresholds {', '.join(f'{k} {v:.3f}' for k, v in cuts.items())}")
    print(f"on its own training data (optimistic): {figures(truth, check).line()}")
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
