"""Property-based fuzzing of the facilitator console socket: random and malformed frames never
crash it, never corrupt an alert, and every bad frame is answered with an `error`."""

import pytest
from asgiref.sync import async_to_sync
from hypothesis import given
from hypothesis import strategies as st

from escalation import services
from escalation.consumers import ConsoleConsumer
from escalation.models import Alert
from rooms import moderation
from rooms.models import Message
from tests.fuzzing import (  # noqa: F401 - no_limits is a fixture
    FUZZ, answers_to, assert_no_crash, assert_one_error_each, frames_for, malformed_frames, no_limits,
)

pytestmark = pytest.mark.django_db(transaction=True)

CONSOLE_FIELDS = ["on_duty", "alert_id", "outcome", "note", "report_id", "action", "room", "person"]


def _send_all(user, frames: list[str]) -> list[list[dict]]:
    return async_to_sync(answers_to)("/ws/facilitator/", "console.state", user, frames)


@pytest.fixture
def console_world(make_user, anxiety, no_limits):
    peer, other = make_user("fuzzpeer"), make_user("fuzzother")
    message = Message.objects.create(room=anxiety, seq=1, author=peer, body="hello")
    anxiety.last_seq = 1
    anxiety.save()
    report, _ = moderation.report(other, anxiety, message.pk, "spam")
    alerts = [services.request_help(peer, anxiety).alert, services.report_concern(other, anxiety, message.pk).alert]
    return {"facilitator": make_user("fuzzfac", role="facilitator"),
            "likely": {"alert_id": [a.pk for a in alerts] + [10**9], "report_id": [report.pk],
                       "outcome": list(services.OUTCOMES), "on_duty": [True, False]}}


def test_malformed_console_frames_are_each_answered_with_an_error(console_world):
    @FUZZ
    @given(st.lists(malformed_frames, min_size=1, max_size=4))
    def check(frames):
        assert_one_error_each(frames, _send_all(console_world["facilitator"], frames))

    check()


def test_random_console_frames_never_crash_or_corrupt_alerts(console_world):
    strategy = frames_for(sorted(ConsoleConsumer.HANDLERS), CONSOLE_FIELDS, console_world["likely"])

    @FUZZ
    @given(st.lists(strategy, min_size=1, max_size=6))
    def check(frames):
        assert_no_crash(frames, _send_all(console_world["facilitator"], frames))

    check()
    for alert in Alert.objects.all():
        assert alert.status in Alert.Status.values and (alert.status == "resolved") == (alert.resolved_at is not None)
        assert alert.outcome in ("", *services.OUTCOMES)
        kinds = list(alert.events.values_list("kind", flat=True))
        assert kinds[0] == "created" and kinds.count("resolved") <= 1
