from dataclasses import dataclass, field
from enum import Enum
from functools import total_ordering


@total_ordering
class Level(Enum):
    """Risk tiers, ordered: none < distress < crisis < imminent."""

    NONE = "none"
    DISTRESS = "distress"
    CRISIS = "crisis"
    IMMINENT = "imminent"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other):
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank


_RANK = {Level.NONE: 0, Level.DISTRESS: 1, Level.CRISIS: 2, Level.IMMINENT: 3}


@dataclass(frozen=True)
class Signal:
    """One reason the detector fired: what kind, and the words of the original text."""

    category: str
    span: tuple[int, int]
    text: str
    phrase: str


@dataclass(frozen=True)
class Assessment:
    level: Level
    signals: tuple[Signal, ...] = field(default=())

    @property
    def categories(self) -> set[str]:
        return {s.category for s in self.signals}
