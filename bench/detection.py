"""Measure the crisis detector: python -m bench.detection [FILE ...] [--errors SPLIT].

With no FILE it reads the project's labelled set (bench/data/messages.tsv: split, level, text).
A FILE with the columns Tweet,Suicide (the public set in ../shared/eval/) is scored as flagged
(level >= distress) against "Potential Suicide post".
"""

import argparse
import csv
import hashlib
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

from escalation.detection import Level, assess

PROJECT_SET = Path(__file__).resolve().parent / "data" / "messages.tsv"
# What people wrote next while their alert was open (level, earlier, text): read beside the risk.
FOLLOW_UPS = Path(__file__).resolve().parent / "data" / "followups.tsv"
# What people wrote next after a distress message (no alert): read beside it, as stored.
DISTRESS_FOLLOW_UPS = Path(__file__).resolve().parent / "data" / "distress_followups.tsv"
# Unlabelled everyday room talk, used only to make throughput traffic look like a real room.
ORDINARY_CHAT = Path(__file__).resolve().parent / "data" / "ordinary_chat.txt"
LEVELS = [level.value for level in Level]
RUNS = 3
# A "hard" negative carries words a keyword list would fire on.
RISKY_WORDS = re.compile(
    r"di(e|ed|ing)|dead|death|kill|suicid|cut|hurt|harm|pills?|overdose|bridge|jump|goodbye|bye|"
    r"rope|knife|gun|end (it|things)|hopeless|worthless|burden|wake up|tonight|sober|relapse|88",
    re.I,
)


def read_project_set(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8") as f:
        return [(row["split"], row["level"], row["text"]) for row in csv.DictReader(f, delimiter="\t")]


def read_public_csv(path: Path) -> list[tuple[str, bool]]:
    rows = []
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        for row in csv.DictReader(f):
            rows.append((_repair(row["Tweet"]), row["Suicide"].strip().startswith("Potential")))
    return rows


def _repair(text: str) -> str:
    """The public set's UTF-8 was decoded as Latin-1 once ("iâ\\x80\\x99m"); undo that."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def score_project(rows, show_errors: str | None) -> None:
    for split in ("tune", "holdout", "all"):
        chosen = [(lvl, text) for s, lvl, text in rows if split == "all" or s == split]
        predicted = [assess(text).level.value for _, text in chosen]
        truth = [lvl for lvl, _ in chosen]
        print(f"\n== project set, split={split}: {len(chosen)} messages ==")
        _tier_report(truth, predicted)
        _flag_report(truth, predicted, threshold="crisis")
        imminent = [p for t, p in zip(truth, predicted) if t == "imminent"]
        print(f"imminent recall: {sum(p == 'imminent' for p in imminent) / max(1, len(imminent)):.3f}")
        negatives = [text for lvl, text in chosen if lvl == "none"]
        hard = sum(bool(RISKY_WORDS.search(t)) for t in negatives)
        print(f"none messages: {len(negatives)}, hard negatives: {hard} ({hard / max(1, len(negatives)):.0%})")
        if show_errors == split:
            for (t, text), p in zip(chosen, predicted):
                if t != p:
                    print(f"  MISS want={t:9} got={p:9} {text}")


def score_follow_ups(path: Path) -> None:
    """Messages from someone whose alert is open, alone and read beside that alert (earlier=crisis)."""
    rows = _read_follow_ups(path)
    print(f"\n== follow-ups while an alert is open: {_counts(rows)} ==")
    for label, earlier in (("read alone", Level.NONE), ("read beside the open alert", Level.CRISIS)):
        _follow_up_line(label, [(level, earlier, text) for level, _, text in rows])


def score_distress_follow_ups(path: Path) -> None:
    """Messages after a distress message, alone and read beside the tier the detector gave it."""
    rows = _read_follow_ups(path)
    stored = {earlier: assess(earlier).level for _, earlier, _ in rows}
    missed = sum(level < Level.DISTRESS for level in stored.values())
    print(f"\n== follow-ups to a distress message: {_counts(rows)}; "
          f"{missed} of {len(stored)} earlier messages score below distress (read without context) ==")
    for label, beside in (("read alone", False), ("read beside the earlier message", True)):
        _follow_up_line(label, [(level, stored[earlier] if beside else Level.NONE, text)
                                for level, earlier, text in rows])


def _read_follow_ups(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8") as f:
        return [(row["level"], row["earlier"], row["text"]) for row in csv.DictReader(f, delimiter="\t")]


def _counts(rows) -> str:
    imminent = sum(level == "imminent" for level, *_ in rows)
    return f"{imminent} imminent, {len(rows) - imminent} not"


def _follow_up_line(label: str, rows) -> None:
    """rows: (label, earlier Level, text)."""
    caught = sum(assess(t, earlier=e).level == Level.IMMINENT for level, e, t in rows if level == "imminent")
    false = sum(assess(t, earlier=e).level == Level.IMMINENT for level, e, t in rows if level != "imminent")
    imminent = sum(level == "imminent" for level, *_ in rows)
    others = len(rows) - imminent
    print(f"{label}: imminent recall {caught}/{imminent} = {caught / imminent:.3f}; "
          f"others raised to imminent {false}/{others} = {false / others:.3f}")


def _tier_report(truth, predicted) -> None:
    confusion = Counter(zip(truth, predicted))
    print("confusion (rows = labelled, columns = predicted):")
    print(" " * 10 + "".join(f"{lvl:>10}" for lvl in LEVELS))
    for t in LEVELS:
        print(f"{t:>10}" + "".join(f"{confusion[(t, p)]:>10}" for p in LEVELS))
    print(f"{'tier':>10}{'precision':>11}{'recall':>9}")
    for lvl in LEVELS:
        tp = confusion[(lvl, lvl)]
        precision = tp / max(1, sum(confusion[(t, lvl)] for t in LEVELS))
        recall = tp / max(1, sum(confusion[(lvl, p)] for p in LEVELS))
        print(f"{lvl:>10}{precision:>11.3f}{recall:>9.3f}")


def _flag_report(truth, predicted, threshold: str) -> None:
    rank = {lvl: i for i, lvl in enumerate(LEVELS)}
    positive = [rank[t] >= rank[threshold] for t in truth]
    flagged = [rank[p] >= rank[threshold] for p in predicted]
    _binary(positive, flagged, f"flagged = {threshold} or higher")
    none_flagged = [f for t, f in zip(truth, flagged) if t == "none"]
    print(f"'none' flagged as {threshold}+: {sum(none_flagged)}/{len(none_flagged)} = "
          f"{sum(none_flagged) / max(1, len(none_flagged)):.3f}")


def _binary(positive, flagged, label) -> None:
    tp = sum(p and f for p, f in zip(positive, flagged))
    fp = sum(f and not p for p, f in zip(positive, flagged))
    fn = sum(p and not f for p, f in zip(positive, flagged))
    negatives = sum(not p for p in positive)
    precision = tp / max(1, tp + fp)
    recall = tp / max(1, tp + fn)
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    print(f"{label}: precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f}, "
          f"false-flag rate {fp / max(1, negatives):.3f} ({fp}/{negatives})")


def public_half(text: str) -> str:
    """The public set's fixed halves: mistakes are only ever listed for "dev"; "blind" stays unread."""
    return "dev" if hashlib.sha256(text.encode("utf-8")).digest()[0] % 2 == 0 else "blind"


def score_public(path: Path, show_errors: bool) -> None:
    rows = read_public_csv(path)
    flagged = [assess(text).level >= Level.DISTRESS for text, _ in rows]
    print(f"\n== {path.name}: {len(rows)} posts, flagged = distress or higher ==")
    _binary([label for _, label in rows], flagged, "public set")
    for half in ("dev", "blind"):
        chosen = [(label, f) for (text, label), f in zip(rows, flagged) if public_half(text) == half]
        _binary([label for label, _ in chosen], [f for _, f in chosen], f"public set, {half} half ({len(chosen)})")
    if show_errors:
        for (text, label), f in zip(rows, flagged):
            if label != f and public_half(text) == "dev":
                print(f"  {'MISSED' if label else 'FALSE '} {text[:140]!r}")


def throughput(rows, count: int = 20000) -> None:
    """Messages of 200 characters, built from the labelled set, timed on one core.

    "room traffic": each piece of a message is everyday chat (90%), a hard negative from the
    labelled set (7%) or a flagged message (3%). "worst case": every piece from the labelled set,
    so nearly every message holds a near-miss or a signal and pays for context checks and spans.
    """
    rng = random.Random(7)
    ordinary = ORDINARY_CHAT.read_text(encoding="utf-8").splitlines()
    benign = [text for _, level, text in rows if level == "none"]
    risky = [text for _, level, text in rows if level != "none"]
    every = benign + risky

    def room_piece():
        roll = rng.random()
        return rng.choice(ordinary if roll < 0.90 else benign if roll < 0.97 else risky)

    def message(piece):
        text = piece()
        while len(text) < 200:
            text += " " + piece()
        return text[:200]

    corpora = {
        "room traffic": [message(room_piece) for _ in range(count)],
        "worst case": [message(lambda: rng.choice(every)) for _ in range(count)],
    }
    assess(corpora["room traffic"][0])  # load the lexicon outside the timing
    print()
    for name, messages in corpora.items():
        runs = []
        for _ in range(RUNS):  # this machine's speed drifts by up to 2x: report every run
            started = time.perf_counter()
            for text in messages:
                assess(text)
            runs.append(time.perf_counter() - started)
        best = min(runs)
        print(f"throughput ({name}): {count} messages of 200 characters, best of {RUNS} runs "
              f"{best:.2f} s = {count / best:,.0f} messages/s on one core ({best / count * 1e6:.1f} µs each); "
              f"all runs: {', '.join(f'{count / r:,.0f}/s' for r in runs)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--errors", choices=["tune", "holdout", "all", "public"],
                        help="list the misclassified messages of one split (tune on 'tune' only)")
    args = parser.parse_args(argv)
    rows = read_project_set(PROJECT_SET)
    score_project(rows, args.errors)
    score_follow_ups(FOLLOW_UPS)
    score_distress_follow_ups(DISTRESS_FOLLOW_UPS)
    for path in args.files:
        score_public(path, args.errors == "public")
    throughput(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
