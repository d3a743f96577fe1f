"""The figures the detector is held to, from labelled and predicted tiers."""

from dataclasses import dataclass

from .levels import Level


@dataclass(frozen=True)
class Figures:
    messages: int
    crisis_recall: float  # of messages labelled crisis or imminent, read as crisis or imminent
    imminent_recall: float  # of messages labelled imminent, read as imminent
    benign_raised: float  # of messages labelled none, read as crisis or imminent
    distress_recall: float  # of messages labelled distress or worse, read as distress or worse
    counts: dict[str, int]

    def line(self) -> str:
        return (f"crisis+ {self.crisis_recall:.3f} ({self.counts['crisis+']}), imminent {self.imminent_recall:.3f} "
                f"({self.counts['imminent']}), none raised to crisis+ {self.benign_raised:.3f} "
                f"({self.counts['none']}), distress+ {self.distress_recall:.3f}")


def _rate(hits: int, total: int) -> float:
    return hits / total if total else float("nan")


def figures(truth: list[Level], predicted: list[Level]) -> Figures:
    pairs = list(zip(truth, predicted))
    crisis = [p for t, p in pairs if t >= Level.CRISIS]
    imminent = [p for t, p in pairs if t == Level.IMMINENT]
    none = [p for t, p in pairs if t == Level.NONE]
    distress = [p for t, p in pairs if t >= Level.DISTRESS]
    return Figures(
        messages=len(pairs),
        crisis_recall=_rate(sum(p >= Level.CRISIS for p in crisis), len(crisis)),
        imminent_recall=_rate(sum(p == Level.IMMINENT for p in imminent), len(imminent)),
        benign_raised=_rate(sum(p >= Level.CRISIS for p in none), len(none)),
        distress_recall=_rate(sum(p >= Level.DISTRESS for p in distress), len(distress)),
        counts={"crisis+": len(crisis), "imminent": len(imminent), "none": len(none), "distress+": len(distress)},
    )
