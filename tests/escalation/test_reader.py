"""The learned second reader and the one decision `read` makes from both readers."""

import logging
import shutil

import numpy as np
import pytest

from escalation.detection import EncoderUnavailable, Level, assess, learned_reader, read
from escalation.detection import encoder as encoder_module
from escalation.detection.reader import Head, probabilities


@pytest.fixture
def resources_copy(tmp_path):
    copy = tmp_path / "resources"
    shutil.copytree(encoder_module.resource_dir(), copy)
    return copy


@pytest.fixture
def tampered(resources_copy):
    copy = resources_copy
    with open(copy / "weights.npz", "r+b") as f:
        f.seek(4096)
        byte = f.read(1)
        f.seek(4096)
        f.write(bytes([byte[0] ^ 0x01]))
    return copy


def test_a_tampered_weights_file_is_refused_loudly_and_the_lexicon_still_reads(tampered, caplog):
    learned_reader.cache_clear()
    with caplog.at_level(logging.ERROR), pytest.raises(EncoderUnavailable, match="weights.npz has sha256"):
        learned_reader(encoder_dir=str(tampered))
    assert "the learned reader will not start" in caplog.text
    assert assess("i want to die tonight").level == Level.IMMINENT
    learned_reader.cache_clear()


def test_a_missing_encoder_package_is_refused_with_how_to_install_it(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(encoder_module.resources, "files", missing)
    with pytest.raises(EncoderUnavailable, match="not installed"):
        encoder_module.Encoder()


def test_a_missing_file_is_refused(resources_copy):
    encoder_module.verify(resources_copy)  # the pinned files, copied: accepted
    (resources_copy / "sp.model").unlink()
    with pytest.raises(EncoderUnavailable, match="sp.model is missing"):
        encoder_module.verify(resources_copy)


def test_read_gives_each_message_a_final_tier_with_both_readers_reasons():
    crisis, ordinary = read(["i want to kill myself, i can't do this anymore", "hi everyone, how was your weekend?"])
    assert crisis.level >= Level.CRISIS and ordinary.level == Level.NONE
    assert "ideation" in crisis.categories, "the lexicon's signals stay for the facilitator"
    reading = crisis.second_reader
    assert reading.lexicon_level >= Level.CRISIS and reading.score > 0.5
    assert abs(sum(reading.scores.values()) - 1) < 0.01
    assert ordinary.second_reader.score < 0.5


@pytest.mark.parametrize("text", [
    "ya no quiero vivir, quiero morirme",  # Spanish
    "não aguento mais, quero morrer",  # Portuguese
    "je veux mourir, je n'en peux plus de vivre",  # French
    "taking the whole pack of my mom's pills right now",  # plain words the lexicon does not know
])
def test_crisis_the_lexicon_does_not_read_is_read(text):
    assert read([text])[0].level >= Level.CRISIS


@pytest.mark.parametrize("text", [
    "this exam is killing me lol",
    "if you're struggling tonight please text 988, you matter",
    "estoy muerto de risa jajaja",
])
def test_idioms_and_supportive_replies_stay_below_crisis(text):
    assert read([text])[0].level < Level.CRISIS


def test_what_was_said_before_still_raises_what_follows():
    alone, beside = read(["my mind is made up"] * 2, earlier=[Level.NONE, Level.CRISIS])
    assert beside.level == Level.IMMINENT, "beside an open alert a resolve is imminent, as on the message path"
    assert alone.level < Level.IMMINENT


def test_a_head_saved_and_loaded_reads_the_same(tmp_path):
    head = Head.load()
    head.save(tmp_path / "head.npz")
    again = Head.load(tmp_path / "head.npz")
    texts = ["hola a todos", "i want to die", "k1ll mys3lf", ""]
    x = np.random.default_rng(0).normal(size=(len(texts), head.nets[0][0][0].shape[0])).astype(np.float32)
    assert np.allclose(probabilities(head, x, texts), probabilities(again, x, texts))
    assert again.thresholds == head.thresholds and again.categories == head.categories
    assert again.spelling is not None and again.spelling.share == head.spelling.share


def test_spelling_buckets_are_the_same_in_every_process_and_read_any_script():
    from escalation.detection import ngrams

    found = ngrams.counts("k1ll mys3lf")
    assert sum(found.values()) == (5 + 4 + 3 + 2) + (7 + 6 + 5 + 4)  # 2- to 5-grams of " k1ll " and " mys3lf "
    assert found == ngrams.counts("K1LL  MYS3LF"), "case and spacing do not change it"
    assert ngrams.counts("quero morrer") != ngrams.counts("quiero morir")
    assert ngrams.counts("") == {}
