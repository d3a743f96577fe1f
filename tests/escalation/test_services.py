"""What escalation.services reads about a person before their next message is assessed."""

import uuid
from datetime import timedelta

import pytest

from escalation import services
from escalation.detection import Level
from rooms.clock import clock
from rooms.services import Draft, post_messages

pytestmark = pytest.mark.django_db


def say(person, room, body):
    [posted] = post_messages([Draft(room=room, author=person, client_id=uuid.uuid4(), body=body)])
    return posted


def test_the_latest_distress_message_in_the_window_is_what_a_follow_up_is_read_beside(
    alice, bob, anxiety, grief, monkeypatch
):
    now = [clock.now()]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    say(alice, anxiety, "i feel so hopeless")
    now[0] += timedelta(minutes=10)
    say(alice, grief, "i'm such a burden to everyone")
    say(alice, grief, "anyway how was everyone's weekend")  # ordinary talk in between changes nothing
    say(bob, anxiety, "lovely weather today")

    earlier = services.earlier_risk({alice.pk, bob.pk})
    assert earlier == {alice.pk: services.Earlier(Level.DISTRESS, "i'm such a burden to everyone")}

    now[0] += timedelta(minutes=25)  # the first is 35 minutes old, the second 25
    assert services.earlier_risk({alice.pk})[alice.pk].said == "i'm such a burden to everyone"
    now[0] += timedelta(minutes=10)
    assert services.earlier_risk({alice.pk}) == {}


def test_a_goodbye_stored_in_the_same_batch_as_the_distress_before_it_is_still_read_beside_it(
    alice, bob, anxiety, grief
):
    """Two tabs, or a slow moment: both messages reach the writer together, in the order sent."""
    def draft(person, room, body):
        return Draft(room=room, author=person, client_id=uuid.uuid4(), body=body)

    hopeless, bobs_goodbye, goodbye = post_messages([
        draft(alice, anxiety, "i feel so hopeless"),
        draft(bob, anxiety, "i've said my goodbyes"),  # nothing worrying from bob before
        draft(alice, grief, "i've said my goodbyes"),
    ])
    assert (hopeless.assessment.level, hopeless.raised) == (Level.DISTRESS, None)
    assert bobs_goodbye.raised is None
    assert goodbye.assessment.level == Level.IMMINENT
    alert = goodbye.raised.alert
    assert {(s["category"], s.get("earlier", False)) for s in alert.signals} >= {
        ("farewell", False), ("hopelessness", True)}

    _, after_alert = post_messages([draft(alice, grief, "i'm fine, honestly"), draft(alice, anxiety, "bye all")])
    assert after_alert.assessment.level == Level.IMMINENT  # read beside the open alert, in any room
