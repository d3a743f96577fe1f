"""Crisis detection for chat messages: pure functions, no Django, no network.

Two readers. `assess` is the lexicon: instant, English, read on the message path. `read` is the
final decision over both the lexicon and a multilingual sentence encoder, read in batches by the
screening worker.

    >>> assess("i want to die tonight").level
    <Level.IMMINENT: 'imminent'>
"""

import logging
from functools import lru_cache

from .detector import Detector
from .encoder import EncoderUnavailable
from .levels import Assessment, Level, SecondReading, Signal
from .lexicon import LexiconError, load

__all__ = ["Assessment", "EncoderUnavailable", "Level", "LexiconError", "SecondReading", "Signal", "assess",
           "detector_for", "learned_reader", "read"]

logger = logging.getLogger(__name__)


def detector_for(language: str = "en") -> Detector:
    """The language's detector, built once (startup warms it: building takes ~0.3 s)."""
    return _detector(language)


@lru_cache(maxsize=None)  # keyed on the language as given, so callers must not vary how they pass it
def _detector(language: str) -> Detector:
    return Detector(load(language))


def assess(text: str, language: str = "en", *, earlier: Level = Level.NONE) -> Assessment:
    """The risk tier of one chat message and the signals behind it. `earlier`: the risk its
    writer stated before that still stands. Beside an open alert (`Level.CRISIS`) the means, a
    plan, a resolve or a goodbye alone make it imminent; beside recent distress, a goodbye."""
    return detector_for(language).assess(text, earlier)


@lru_cache(maxsize=1)
def learned_reader(threads: int = 1, encoder_dir: str = ""):
    """The second reader, loaded once (about 1.5 s and 140 MB). Raises EncoderUnavailable, logged
    as an error, when its package is missing or its weights are not the pinned ones.
    `encoder_dir`: the encoder's files from elsewhere than its package (still checked)."""
    from pathlib import Path

    from .encoder import Encoder
    from .reader import Head, SecondReader

    try:
        encoder = Encoder(Path(encoder_dir) if encoder_dir else None, threads=threads)
        try:
            head = Head.load()
        except Exception as exc:  # missing, truncated, not a zip, an older layout
            raise EncoderUnavailable(f"the head file cannot be read ({exc!r}): python -m "
                                     "escalation.detection.train rebuilds it") from exc
    except EncoderUnavailable as exc:
        logger.error("the learned reader will not start: %s", exc)
        raise
    return SecondReader(encoder, head, lambda text, earlier=Level.NONE: assess(text, earlier=earlier))


def read(texts: list[str], earlier: list[Level] | None = None) -> list[Assessment]:
    """The final tier of each message from both readers, with both readers' reasons."""
    return learned_reader().read(texts, earlier)
