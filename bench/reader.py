"""Measure the final decision (`read`, both readers) on the blind split: python -m bench.reader

Prints, for the lexicon alone and for `read`: every blind batch, every language, all of them;
then the public tweets when their file is given (flagged = distress or higher); then how fast one
core reads and the memory the reader holds. The blind batches are never trained or tuned on.

    python -m bench.reader [--public ../shared/eval/suicide_ideation_twitter.csv] [--speed-only]
"""

import argparse
import os
import random
import resource
import time
from collections import defaultdict
from pathlib import Path

from escalation.detection import Level, assess, dataset, learned_reader
from escalation.detection.scoring import figures

from .detection import read_public_csv


def _report(name: str, examples, lexicon, final) -> None:
    truth = [e.level for e in examples]
    print(f"{name} ({len(examples)})")
    print(f"  lexicon: {figures(truth, lexicon).line()}")
    print(f"  read:    {figures(truth, final).line()}")
    # What raises an alert in the product: the lexicon's at once, the second reader's after it
    # (an alert the second reader doubts stays open, sorted lower).
    print(f"  alerts:  {figures(truth, [max(a, b) for a, b in zip(lexicon, final)]).line()}")


def blind(reader) -> None:
    examples = [e for e in dataset.load() if e.split == "blind"]
    lexicon = [assess(e.text).level for e in examples]
    final = [a.level for a in reader.read([e.text for e in examples])]
    by_batch, by_language = defaultdict(list), defaultdict(list)
    for i, e in enumerate(examples):
        by_batch[e.batch].append(i)
        by_language[e.language].append(i)
    print("== blind split, per batch ==")
    for groups in (by_batch, by_language):
        for name, idx in sorted(groups.items()):
            _report(name, [examples[i] for i in idx], [lexicon[i] for i in idx], [final[i] for i in idx])
        print("== blind split, per language ==" if groups is by_batch else "")
    new_writers = [i for i, e in enumerate(examples) if not e.batch.startswith("lexicon-era")]
    _report("all new writers' blind batches", [examples[i] for i in new_writers],
            [lexicon[i] for i in new_writers], [final[i] for i in new_writers])
    _report("all blind", examples, lexicon, final)


def public(reader, path) -> None:
    rows = read_public_csv(Path(path))
    texts = [t for t, _ in rows]
    for name, flagged in (("lexicon", [assess(t).level >= Level.DISTRESS for t in texts]),
                          ("read", [a.level >= Level.DISTRESS for a in reader.read(texts)])):
        tp = sum(f and p for f, (_, p) in zip(flagged, rows))
        fp = sum(f and not p for f, (_, p) in zip(flagged, rows))
        positives = sum(p for _, p in rows)
        print(f"public tweets, {name}: recall {tp / positives:.3f}, false-positive rate "
              f"{fp / (len(rows) - positives):.3f}, precision {tp / max(1, tp + fp):.3f} ({len(rows)} posts)")


def speed(reader, batch: int = 64, count: int = 3000) -> None:
    rng = random.Random(3)
    texts = [e.text for e in dataset.load()]
    sample = [rng.choice(texts) for _ in range(count)]
    reader.read(sample[:batch])
    for size in (1, batch):
        started = time.perf_counter()
        for i in range(0, count if size > 1 else count // 5, size):
            reader.read(sample[i:i + size])
        done = count if size > 1 else count // 5
        print(f"read, one core, batches of {size}: {done / (time.perf_counter() - started):,.0f} messages/s")
    print(f"peak RSS of this process with the reader loaded: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--public")
    parser.add_argument("--speed-only", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    reader = learned_reader()
    print(f"reader loaded in {time.perf_counter() - started:.1f} s (pid {os.getpid()})")
    if not args.speed_only:
        blind(reader)
        if args.public:
            public(reader, args.public)
    speed(reader)


if __name__ == "__main__":
    main()
