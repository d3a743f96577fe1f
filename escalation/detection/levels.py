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
class SecondReading:
    """What the learned reader made of a message: its own tier, the lexicon's, and the head's
    probability of each tier (what a facilitator reads as the model's score)."""

    level: Level
    lexicon_level: Level
    scores: dict[str, float] = field(hash=False)

    @property
    def score(self) -> float:
        """The probability of crisis or worse."""
        return round(self.scores.get("crisis", 0.0) + self.scores.get("imminent", 0.0), 3)


@dataclass(frozen=True)
class Assessment:
    level: Level
    signals: tuple[Signal, ...] = field(default=())
    second_reader: SecondReading | None = None  # set by read(), not by the lexicon's assess()

    @property
    def categories(self) -> set[str]:
        return {s.category for s in self.signals}
