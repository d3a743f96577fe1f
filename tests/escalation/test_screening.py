"""The screening worker's queue and decisions, on a controllable clock, with the real reader."""

import json
import uuid

import pytest
from django.core.management import call_command

from escalation import payloads, screening
from escalation.detection import Assessment, Level, SecondReading, learned_reader
from escalation.models import Alert, AlertEvent, Notification, ScreeningBatch, ScreeningWorker
from rooms.models import Message
from rooms.services import post_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def stream(alice, anxiety):
    """A cursor made before anything is said: everything posted from here on is screened. (It
    stands at a message, as in a running service: PostgreSQL's ids do not restart at 1 per test.)"""
    post_message(anxiety, alice, uuid.uuid4(), "hello all")
    screening._cursor()

    def say(body, author=alice, room=anxiety):
        return post_message(room, author, uuid.uuid4(), body).message

    return say


def reading(level: Level, lexicon: Level, crisis_score: float) -> Assessment:
    rest = 1 - crisis_score
    scores = {"none": rest / 2, "distress": rest / 2, "crisis": crisis_score, "imminent": 0.0}
    return Assessment(level, second_reader=SecondReading(level, lexicon, scores))


def screen_all(worker="w1"):
    reader = learned_reader()
    results = []
    while (batch := screening.claim(worker)) is not None:
        results.append(screening.settle(batch, worker, screening.read_batch(batch, reader)))
    return results


def test_a_first_worker_starts_at_the_newest_message_not_the_history(alice, anxiety):
    post_message(anxiety, alice, uuid.uuid4(), "quiero morirme, ya no aguanto más")
    assert screening.claim("w1") is None
    assert not Alert.objects.filter(source="second_reader").exists()


def test_what_the_lexicon_missed_is_raised_with_a_card_for_the_person_and_the_facilitators_told(
        stream, alice, maple, hotlines):
    from escalation.services import set_duty

    set_duty(maple, True)
    message = stream("ya no quiero seguir viviendo, quiero morirme")  # Spanish: the lexicon reads English
    assert message.risk_level == "none"
    [done] = screen_all()
    assert done.read == 1 and len(done.raised) == 1
    alert = Alert.objects.get(pk=done.raised[0])
    assert (alert.source, alert.subject, alert.message) == ("second_reader", alice, message)
    assert alert.level in ("crisis", "imminent")
    assert alert.second_reader["verdict"] == "raised" and alert.second_reader["lexicon_level"] == "none"
    assert alert.second_reader["score"] >= 0.5
    message.refresh_from_db()
    assert message.risk_level == alert.level, "the next messages are read beside it"
    to_console = Notification.objects.get(alert=alert, person=None)
    assert to_console.recipients == [maple.pk]
    assert json.loads(to_console.text)["type"] == "alert.new"
    card = json.loads(Notification.objects.get(alert=alert, person=alice).text)
    assert card["type"] == "support.offer" and card["hotlines"][0]["tel"] == "988"


def test_ordinary_talk_and_facilitators_words_raise_nothing(stream, maple):
    stream("hi all, anyone else watching the match tonight?")
    stream("if you ever want to end your life, please call 988", author=maple)
    [done] = screen_all()
    assert done.read == 1, "a facilitator's words are not read"
    assert done.raised == [] and not Alert.objects.exists()


def test_a_lexicon_alert_the_second_reader_doubts_stays_open_sorted_after_the_rest(stream, alice, bob, maple):
    doubted_message = stream("i want to die")
    believed_message = stream("i'm going to kill myself", author=bob)
    batch = screening.claim("w1")
    screening.settle(batch, "w1", [(doubted_message, reading(Level.NONE, Level.CRISIS, 0.05)),
                                   (believed_message, reading(Level.CRISIS, Level.CRISIS, 0.97))])
    doubted = Alert.objects.get(message=doubted_message)
    believed = Alert.objects.get(message=believed_message)
    assert doubted.status == "open", "never closed by a reader"
    assert doubted.second_reader["verdict"] == "doubts" and believed.second_reader["verdict"] == "agrees"
    assert [a.pk for a in payloads.open_alerts()] == [believed.pk, doubted.pk]
    update = json.loads(Notification.objects.filter(alert=doubted).get().text)
    assert update["type"] == "alert.updated" and update["alert"]["second_reader"]["verdict"] == "doubts"


def test_an_upgrade_from_crisis_to_imminent_joins_the_open_alert_and_shows_no_second_card(stream, alice):
    message = stream("i want to die")
    batch = screening.claim("w1")
    screening.settle(batch, "w1", [(message, reading(Level.IMMINENT, Level.CRISIS, 0.99))])
    alert = Alert.objects.get()
    assert alert.level == "imminent" and alert.second_reader["verdict"] == "raised"
    assert not Notification.objects.filter(person=alice).exists(), "the message path showed the card"


def test_two_workers_claim_disjoint_runs_and_a_batch_acts_only_for_its_holder(stream, settings):
    settings.ESCALATION = {**settings.ESCALATION, "SCREENING": {**settings.ESCALATION["SCREENING"], "BATCH_SIZE": 2}}
    ids = [stream(f"message {i}").pk for i in range(5)]
    first, second, third = screening.claim("w1"), screening.claim("w2"), screening.claim("w1")
    runs = [(b.after, b.through) for b in (first, second, third)]
    assert runs == [(ids[0] - 1, ids[1]), (ids[1], ids[3]), (ids[3], ids[4])]
    assert screening.settle(first, "w2", []) is None, "w2 does not hold w1's batch"
    assert screening.settle(first, "w1", []) is not None
    assert screening.settle(first, "w1", []) is None, "a batch acts once"


def test_a_batch_whose_worker_died_is_taken_over_after_its_lease_and_acts_once(stream, frozen, settings):
    message = stream("ya no quiero seguir viviendo, esta noche me voy a tomar todas las pastillas")
    dead = screening.claim("dead-worker")
    assert screening.claim("w2") is None, "leased: nobody else takes it yet"
    frozen(settings.ESCALATION["SCREENING"]["LEASE_SECONDS"] + 1)
    taken = screening.claim("w2")
    assert taken.pk == dead.pk and taken.worker == "w2"
    reader = learned_reader()
    assert screening.settle(dead, "dead-worker", screening.read_batch(dead, reader)) is None
    done = screening.settle(taken, "w2", screening.read_batch(taken, reader))
    assert len(done.raised) == 1
    events = AlertEvent.objects.filter(alert__message=message, kind__in=["created", "repeated"])
    assert events.count() == 1


def test_a_missing_id_is_waited_for_then_passed(stream, frozen, settings):
    before, missing, after = stream("one"), stream("two"), stream("three")
    missing.delete()  # as PostgreSQL shows it while the transaction that holds its id commits
    batch = screening.claim("w1")
    assert (batch.after, batch.through) == (before.pk - 1, before.pk), "the run stops before the gap"
    screening.settle(batch, "w1", [])
    assert screening.claim("w1") is None, "the next message waits a moment for the missing one"
    frozen(settings.ESCALATION["SCREENING"]["GAP_SETTLE_SECONDS"] + 0.5)
    batch = screening.claim("w1")
    assert (batch.after, batch.through) == (before.pk, after.pk), "then the stream goes on past the gap"


def test_heartbeats_say_when_the_second_reader_is_offline_or_refused(frozen, settings):
    assert screening.status()["online"] is False
    screening.beat("w1", read=10)
    assert screening.status()["online"] is True
    assert ScreeningWorker.objects.get().read_count == 10
    frozen(settings.ESCALATION["SCREENING"]["OFFLINE_SECONDS"] + 1)
    status = screening.status()
    assert status["online"] is False and status["last_seen_at"]
    screening.beat("w2", refused="the encoder file ... has sha256 x, not the pinned y")
    assert screening.status() == {**screening.status(), "online": False, "refused": screening.status()["refused"]}
    assert "sha256" in screening.status()["refused"]


def test_the_worker_command_reads_what_waits_and_exits_with_once(stream, alice):
    stream("ya no quiero estar viva")
    call_command("escalation_screen", "--once", "--name", "cmd")
    assert Alert.objects.filter(source="second_reader", subject=alice).exists()
    assert ScreeningWorker.objects.get(pk="cmd").read_count == 1
    assert not ScreeningBatch.objects.filter(done_at=None).exists()


def test_a_message_that_commits_after_the_stream_passed_its_id_is_still_read(stream, frozen, settings, alice,
                                                                              anxiety):
    before, late, after = stream("one"), stream("two"), stream("three")
    late_pk = late.pk
    late.delete()  # its transaction is still open: invisible
    frozen(settings.ESCALATION["SCREENING"]["GAP_SETTLE_SECONDS"] + 0.5)
    while (batch := screening.claim("w1")) is not None:
        screening.settle(batch, "w1", [])
    Message.objects.create(pk=late_pk, room=anxiety, seq=99, author=alice, client_id=uuid.uuid4(),
                           body="ya no quiero seguir viviendo, quiero morirme", created_at=before.created_at)
    [done] = screen_all()
    assert done.read == 1 and len(done.raised) == 1, "read late, as a batch of its own"
    assert screen_all() == [], "and only once"


def test_a_batch_that_cannot_be_read_is_split_and_only_its_bad_message_is_set_aside(stream, frozen):
    ids = [stream(f"message {i}").pk for i in range(3)]
    batch = screening.claim("w1")
    parts = screening.set_aside(batch, "w1", ValueError("the encoder choked"))
    assert len(parts) == 3
    frozen(1)
    single = screening.claim("w1")
    assert (single.after, single.through) == (ids[0] - 1, ids[0])
    assert screening.set_aside(single, "w1", ValueError("again")) == [], "one message: set aside, not split"
    assert "again" in ScreeningBatch.objects.get(pk=single.pk).error
    rest = [screening.claim("w1") for _ in range(2)]
    assert [b.through for b in rest] == ids[1:], "the others are still read"


def test_a_doubt_about_a_later_message_does_not_demote_an_alert_that_stands_on_an_earlier_one(stream, alice):
    first = stream("i want to die tonight")  # imminent on the message path
    batch = screening.claim("w1")
    screening.settle(batch, "w1", [(first, reading(Level.IMMINENT, Level.IMMINENT, 0.98))])
    second = stream("i want to die")  # joins the open alert, which now points at it
    batch = screening.claim("w1")
    screening.settle(batch, "w1", [(second, reading(Level.NONE, Level.CRISIS, 0.05))])
    alert = Alert.objects.get()
    assert alert.level == "imminent" and alert.second_reader["verdict"] == "agrees"


def test_a_risk_read_in_a_batch_stands_for_the_same_persons_later_messages_in_it(stream):
    stream("ya no quiero seguir viviendo, quiero morirme")
    stream("my mind is made up")  # beside an open alert, a resolve is imminent
    [done] = screen_all()
    alert = Alert.objects.get()
    assert alert.level == "imminent", "the second message is read beside the first's alert"
