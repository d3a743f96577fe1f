"""Crisis detection for chat messages: a pure function, no Django, no network.

    >>> assess("i want to die tonight").level
    <Level.IMMINENT: 'imminent'>
"""

from functools import lru_cache

from .detector import Detector
from .levels import Assessment, Level, Signal
from .lexicon import LexiconError, load

__all__ = ["Assessment", "Level", "LexiconError", "Signal", "assess", "detector_for"]


@lru_cache(maxsize=None)
def detector_for(language: str = "en") -> Detector:
    return Detector(load(language))


def assess(text: str, language: str = "en") -> Assessment:
    """The risk tier of one chat message and the signals behind it."""
    return detector_for(language).assess(text)
