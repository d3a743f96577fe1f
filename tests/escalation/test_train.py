"""The training command rebuilds a head from labelled batches, the same head every time."""

import csv
import os

import numpy as np
import pytest

from escalation.detection import Level, assess, dataset, train
from escalation.detection.encoder import Encoder
from escalation.detection.reader import Head, features, level_from, probabilities

# Training reads files and never the database, so `make test` runs it once, in the SQLite pass
# (it is the suite's slowest test: 46 s).
pytestmark = pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                reason="reads no database: run in the SQLite pass")


@pytest.fixture
def small_set(tmp_path):
    """Six writers' batches, 60 messages each, cut from the project's training batches."""
    chosen = [b for b in csv.DictReader(open(dataset.LABELLED / "batches.tsv", encoding="utf-8"), delimiter="\t")
              if b["split"] == "train" and b["file"].startswith("b")][:6]
    with open(tmp_path / "batches.tsv", "w", encoding="utf-8") as index:
        index.write("file\tsplit\tlanguage\tpersona\n")
        for batch in chosen:
            lines = open(dataset.LABELLED / batch["file"], encoding="utf-8").read().splitlines()
            (tmp_path / batch["file"]).write_text("\n".join(lines[:1] + lines[1::2][:60]) + "\n", encoding="utf-8")
            index.write(f"{batch['file']}\ttrain\t{batch['language']}\t{batch['persona']}\n")
    return tmp_path


def test_training_twice_on_the_same_batches_writes_the_same_head(small_set):
    args = ["--labelled", str(small_set), "--without-lexicon-era"]
    train.main([*args, "--out", str(small_set / "one.npz")])
    train.main([*args, "--out", str(small_set / "two.npz")])
    one, two = Head.load(small_set / "one.npz"), Head.load(small_set / "two.npz")
    assert one.thresholds == two.thresholds
    assert np.array_equal(one.spelling.weights, two.spelling.weights)
    for net_one, net_two in zip(one.nets, two.nets):
        for (w1, b1), (w2, b2) in zip(net_one, net_two):
            assert np.allclose(w1, w2, atol=1e-5) and np.allclose(b1, b2, atol=1e-5)
    assert (small_set / "one.npz").stat().st_size < 4_000_000, "small enough to commit"

    examples = [e for e in dataset.load(small_set, None)]
    texts = [e.text for e in examples]
    x = features(Encoder(threads=2).encode(texts), [assess(t) for t in texts], one.categories, one.embedding_scale)
    read = [level_from(p, one.thresholds) for p in probabilities(one, x, texts)]
    caught = np.mean([r >= Level.CRISIS for r, e in zip(read, examples) if e.level >= Level.CRISIS])
    assert caught > 0.6, "it learned its own training messages"


def test_the_committed_head_fits_the_lexicon_it_reads_beside():
    head = Head.load()
    assert head.nets[0][0][0].shape[0] == 512 + 4 + len(head.categories)
    assert set(head.thresholds) == {"distress", "crisis", "imminent"}
