"""The project's labelled chat messages: what the head is trained on and what it is measured on.

Two sources, both written for this project (never a public data set):
- `bench/data/messages.tsv`: the lexicon's era, one writer's voice (split `tune` trains, `holdout`
  is blind);
- `labelled/b*.tsv`: batches written by separate writers, each in one persona and language, who
  saw neither the lexicon nor the model. `labelled/batches.tsv` says which whole batches are
  blind (decided before any was written) and each one's language.
A blind message is never trained or tuned on; a training message whose text a blind one repeats
is dropped from training.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

from .levels import Level

HERE = Path(__file__).parent
LABELLED = HERE / "labelled"
LEXICON_ERA = HERE.parents[1] / "bench" / "data" / "messages.tsv"


@dataclass(frozen=True)
class Example:
    text: str
    level: Level
    batch: str
    split: str  # train | blind
    language: str
    kind: str = ""


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def load(labelled: Path = LABELLED, lexicon_era: Path | None = LEXICON_ERA) -> list[Example]:
    examples = []
    if lexicon_era is not None and lexicon_era.exists():
        for row in _rows(lexicon_era):
            split = "train" if row["split"] == "tune" else "blind"
            examples.append(Example(row["text"], Level(row["level"]), f"lexicon-era-{row['split']}", split, "en"))
    for batch in _rows(labelled / "batches.tsv"):
        path = labelled / batch["file"]
        if not path.exists():
            continue
        for row in _rows(path):
            examples.append(Example(row["text"].strip(), Level(row["level"].strip()), path.stem, batch["split"],
                                    batch["language"], row.get("kind", "").strip()))
    blind = {_key(e.text) for e in examples if e.split == "blind"}
    seen: set[str] = set()
    kept = []
    for e in examples:
        key = _key(e.text)
        if e.split == "train" and (key in blind or key in seen):
            continue
        seen.add(key)
        kept.append(e)
    return kept
