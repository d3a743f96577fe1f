"""Crisis detection for chat messages: a pure function, no Django, no network.

    >>> assess("i want to die tonight").level
    <Level.IMMINENT: 'imminent'>
"""

from functools import lru_cache

from .detector import Detector
from .levels import Assessment, Level, Signal
from .lexicon import LexiconError, load

__all__ = ["Assessment", "Level", "LexiconError", "Signal", "assess", "detector_for"]


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
