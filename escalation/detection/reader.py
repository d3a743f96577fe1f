"""The second reader: one decision from the lexicon's signals, a sentence encoder's reading and
the message's spelling.

The head (`head.npz`, written by `python -m escalation.detection.train`) has two parts whose
probabilities are averaged: small networks (one hidden layer each) over the encoder's 512 numbers
beside the lexicon's level and signal categories, and a linear model over character n-grams
(`ngrams.py`). So it can add what the lexicon misses (plain words, other languages, slang) and
also overrule its idiom and PSA false alarms. The tiers are cut from the probabilities with
thresholds the training sets out of fold (see docs/detection.md).
"""

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import ngrams
from .levels import Assessment, Level, SecondReading

HEAD_PATH = Path(__file__).with_name("head.npz")
LEVELS = (Level.NONE, Level.DISTRESS, Level.CRISIS, Level.IMMINENT)


Layers = tuple[tuple[np.ndarray, np.ndarray], ...]  # (weights, bias) each; ReLU between them


@dataclass(frozen=True)
class Spelling:
    """The linear model over character n-grams."""

    idf: np.ndarray  # (BUCKETS,)
    weights: np.ndarray  # (BUCKETS, 4)
    bias: np.ndarray  # (4,)
    share: float  # its part of the averaged probabilities


@dataclass(frozen=True)
class Head:
    nets: tuple[Layers, ...]  # small networks whose probabilities are averaged
    categories: tuple[str, ...]  # the lexicon's signal categories, in feature order
    embedding_scale: float
    thresholds: dict[str, float]  # distress / crisis / imminent: the probability each tier needs
    spelling: Spelling | None = None

    def save(self, path: Path = HEAD_PATH) -> None:
        arrays = {f"net{n}_layer{i}_{part}": array.astype(np.float32)
                  for n, net in enumerate(self.nets) for i, layer in enumerate(net)
                  for part, array in zip(("w", "b"), layer)}
        if self.spelling is not None:
            arrays.update(spelling_idf=self.spelling.idf.astype(np.float32),
                          spelling_weights=self.spelling.weights.astype(np.float32),
                          spelling_bias=self.spelling.bias.astype(np.float32),
                          spelling_share=np.float32(self.spelling.share))
        np.savez_compressed(
            path, **arrays, shape=np.array([len(self.nets), len(self.nets[0])]),
            categories=np.array(self.categories), embedding_scale=np.float32(self.embedding_scale),
            threshold_names=np.array(list(self.thresholds)),
            threshold_values=np.array(list(self.thresholds.values()), dtype=np.float32))

    @classmethod
    def load(cls, path: Path = HEAD_PATH) -> "Head":
        with np.load(path, allow_pickle=False) as z:
            count, depth = (int(v) for v in z["shape"])
            nets = tuple(tuple((z[f"net{n}_layer{i}_w"], z[f"net{n}_layer{i}_b"]) for i in range(depth))
                         for n in range(count))
            spelling = Spelling(z["spelling_idf"], z["spelling_weights"], z["spelling_bias"],
                                float(z["spelling_share"])) if "spelling_idf" in z.files else None
            return cls(nets, tuple(str(c) for c in z["categories"]), float(z["embedding_scale"]),
                       {str(k): float(v) for k, v in zip(z["threshold_names"], z["threshold_values"])}, spelling)


def lexicon_features(assessment: Assessment, categories: tuple[str, ...]) -> np.ndarray:
    """The lexicon's level (one-hot) and which categories it matched (multi-hot)."""
    out = np.zeros(len(LEVELS) + len(categories), dtype=np.float32)
    out[LEVELS.index(assessment.level)] = 1.0
    found = assessment.categories
    for i, category in enumerate(categories):
        if category in found:
            out[len(LEVELS) + i] = 1.0
    return out


def features(embeddings: np.ndarray, lexical: list[Assessment], categories, embedding_scale: float) -> np.ndarray:
    lex = np.stack([lexicon_features(a, categories) for a in lexical]) if lexical else \
        np.zeros((0, len(LEVELS) + len(categories)), dtype=np.float32)
    return np.hstack([embeddings * embedding_scale, lex]).astype(np.float32)


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def network_probabilities(nets: tuple[Layers, ...], x: np.ndarray) -> np.ndarray:
    total = np.zeros((len(x), len(LEVELS)), dtype=np.float64)
    for net in nets:
        h = x
        for i, (w, b) in enumerate(net):
            h = h @ w + b
            if i < len(net) - 1:
                h = np.maximum(h, 0)
        total += _softmax(h)
    return total / len(nets)


def spelling_probabilities(spelling: Spelling, texts: list[str]) -> np.ndarray:
    return _softmax(ngrams.logits(texts, spelling.idf, spelling.weights, spelling.bias))


def probabilities(head: Head, x: np.ndarray, texts: list[str]) -> np.ndarray:
    p = network_probabilities(head.nets, x)
    if head.spelling is None:
        return p
    share = head.spelling.share
    return (1 - share) * p + share * spelling_probabilities(head.spelling, texts)


def level_from(p: np.ndarray, thresholds: dict[str, float]) -> Level:
    """The highest tier whose probability (of that tier or above) reaches its threshold."""
    at_least_crisis = p[2] + p[3]
    if at_least_crisis >= thresholds["crisis"] and p[3] >= thresholds["imminent"]:
        return Level.IMMINENT
    if at_least_crisis >= thresholds["crisis"]:
        return Level.CRISIS
    if p[1] + at_least_crisis >= thresholds["distress"]:
        return Level.DISTRESS
    return Level.NONE


class SecondReader:
    def __init__(self, encoder, head: Head, lexicon_assess):
        self.encoder = encoder
        self.head = head
        self.assess = lexicon_assess  # (text, earlier=Level) -> Assessment

    def read(self, texts: list[str], earlier: list[Level] | None = None) -> list[Assessment]:
        """Each message's final tier. `earlier`: the risk each writer stated before that still
        stands (see `beside`)."""
        earlier = earlier or [Level.NONE] * len(texts)
        alone = [self.assess(t) for t in texts]
        x = features(self.encoder.encode(texts), alone, self.head.categories, self.head.embedding_scale)
        out = []
        for text, a, e, p in zip(texts, alone, earlier, probabilities(self.head, x, texts)):
            reading = SecondReading(level=level_from(p, self.head.thresholds), lexicon_level=a.level,
                                    scores={lv.value: round(float(q), 3) for lv, q in zip(LEVELS, p)})
            out.append(self._beside(text, a, replace(a, level=reading.level, second_reader=reading), e))
        return out

    def beside(self, assessment: Assessment, text: str, earlier: Level) -> Assessment:
        """A reading of `text` from `read`, now in the light of a risk its writer stated before,
        without encoding it again: the head reads messages alone, so only the lexicon's part moves."""
        return self._beside(text, self.assess(text), assessment, earlier)

    def _beside(self, text: str, alone: Assessment, assessment: Assessment, earlier: Level) -> Assessment:
        """What the lexicon raises in the light of `earlier` ("im at the bridge rn" after "i want to
        die") is kept as a floor under the head's tier, because the head was trained on messages
        read alone."""
        if earlier <= Level.NONE:
            return assessment
        in_context = self.assess(text, earlier=earlier)
        model = assessment.second_reader
        final = max(model.level, in_context.level) if in_context.level > alone.level else model.level
        return replace(in_context, level=final, second_reader=replace(model, lexicon_level=in_context.level))
