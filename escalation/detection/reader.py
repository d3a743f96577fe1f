"""The second reader: one decision from the lexicon's signals and a sentence encoder's reading.

A multinomial logistic regression (the head, `head.npz`, written by `python -m
escalation.detection.train`) reads the encoder's 512 numbers beside the lexicon's level and signal
categories, so it can add what the lexicon misses (plain words, other languages) and also overrule
its idiom and PSA false alarms. The tiers are cut from its probabilities with thresholds the
training set out of fold (see docs/detection.md).
"""

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .levels import Assessment, Level, SecondReading

HEAD_PATH = Path(__file__).with_name("head.npz")
LEVELS = (Level.NONE, Level.DISTRESS, Level.CRISIS, Level.IMMINENT)


@dataclass(frozen=True)
class Head:
    weights: np.ndarray  # (features, 4)
    bias: np.ndarray  # (4,)
    categories: tuple[str, ...]  # the lexicon's signal categories, in feature order
    embedding_scale: float
    thresholds: dict[str, float]  # distress / crisis / imminent: the probability each tier needs

    def save(self, path: Path = HEAD_PATH) -> None:
        np.savez_compressed(
            path, weights=self.weights.astype(np.float32), bias=self.bias.astype(np.float32),
            categories=np.array(self.categories), embedding_scale=np.float32(self.embedding_scale),
            threshold_names=np.array(list(self.thresholds)),
            threshold_values=np.array(list(self.thresholds.values()), dtype=np.float32))

    @classmethod
    def load(cls, path: Path = HEAD_PATH) -> "Head":
        with np.load(path, allow_pickle=False) as z:
            return cls(z["weights"], z["bias"], tuple(str(c) for c in z["categories"]),
                       float(z["embedding_scale"]),
                       {str(k): float(v) for k, v in zip(z["threshold_names"], z["threshold_values"])})


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


def probabilities(head: Head, x: np.ndarray) -> np.ndarray:
    logits = x @ head.weights + head.bias
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


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
        stands; what the lexicon raises in its light ("im at the bridge rn" after "i want to
        die") is kept as a floor, because the head was trained on messages read alone."""
        earlier = earlier or [Level.NONE] * len(texts)
        alone = [self.assess(t) for t in texts]
        in_context = [self.assess(t, earlier=e) if e > Level.NONE else a for t, e, a in zip(texts, earlier, alone)]
        x = features(self.encoder.encode(texts), alone, self.head.categories, self.head.embedding_scale)
        out = []
        for p, a, c in zip(probabilities(self.head, x), alone, in_context):
            model_level = level_from(p, self.head.thresholds)
            final = max(model_level, c.level) if c.level > a.level else model_level
            reading = SecondReading(level=model_level, lexicon_level=c.level,
                                    scores={lv.value: round(float(q), 3) for lv, q in zip(LEVELS, p)})
            out.append(replace(c, level=final, second_reader=reading))
        return out
