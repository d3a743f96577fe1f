"""How a message is spelled: character n-grams of its words, hashed into buckets, tf-idf weighted.

The sentence encoder hears what a message means; this view hears how it is written ("kms",
"unalive", "m0rir", "sewerslide", the words of any language), and a linear model over it is the
head's second part. Written here rather than taken from scikit-learn so the worker needs no
scikit-learn or scipy: a bucket is crc32 of the n-gram's UTF-8 bytes, the same at training and at
reading time.
"""

import math
import zlib

import numpy as np

BUCKETS = 1 << 16
ORDERS = (2, 3, 4, 5)


def counts(text: str) -> dict[int, int]:
    """Bucket -> how often, over the n-grams of each word padded with a space on each side."""
    found: dict[int, int] = {}
    for word in text.lower().split():
        padded = f" {word} ".encode("utf-8")
        for n in ORDERS:
            for i in range(len(padded) - n + 1):
                bucket = zlib.crc32(padded[i:i + n]) % BUCKETS
                found[bucket] = found.get(bucket, 0) + 1
    return found


def weighted(found: dict[int, int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(buckets, values): sublinear tf times idf, scaled to unit length."""
    if not found:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    buckets = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
    values = np.fromiter((1 + math.log(c) for c in found.values()), dtype=np.float32, count=len(found))
    values *= idf[buckets]
    values /= np.linalg.norm(values) or 1.0
    return buckets, values


def idf_of(document_frequency: np.ndarray, documents: int) -> np.ndarray:
    """Smoothed inverse document frequency (as scikit-learn's TfidfTransformer computes it)."""
    return (np.log((1 + documents) / (1 + document_frequency)) + 1).astype(np.float32)


def logits(texts: list[str], idf: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    out = np.tile(bias.astype(np.float64), (len(texts), 1))
    for row, text in enumerate(texts):
        buckets, values = weighted(counts(text), idf)
        if len(buckets):
            out[row] += values @ weights[buckets]
    return out
