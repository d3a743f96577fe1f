"""Property-based fuzzing of the room socket: random and malformed frames never crash the
consumer, never store garbage, and every bad frame is answered with an `error`."""

import uuid

import pytest
from asgiref.sync import async_to_sync
from hypothesis import example, given
from hypothesis import strategies as st

from rooms.consumers import RoomConsumer
from rooms.models import Message
from tests.fuzzing import (  # noqa: F401 - no_limits is a fixture
    FUZZ, answers_to, assert_no_crash, assert_one_error_each, frames_for, malformed_frames, no_limits,
    stored_messages_are_clean,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROOM_TYPES = sorted(set(RoomConsumer.HANDLERS) - {"room.leave"})  # leaving closes the socket, as it should
ROOM_FIELDS = ["client_id", "body", "before", "limit", "message_id", "reason", "note", "user_id", "muted",
               "seconds", "scope", "kind", "locked"]


def _send_all(user, frames: list[str]) -> list[list[dict]]:
    return async_to_sync(answers_to)("/ws/rooms/anxiety/", "room.state", user, frames)


@pytest.fixture
def fuzz_users(make_user, anxiety, no_limits):
    return {"peer": make_user("fuzzpeer"), "facilitator": make_user("fuzzfac", role="facilitator")}


@pytest.mark.parametrize("role", ["peer", "facilitator"])
def test_malformed_frames_are_each_answered_with_an_error(fuzz_users, role):
    @FUZZ
    @given(st.lists(malformed_frames, min_size=1, max_size=4))
    @example(['{"type": "message.send", "client_id": "%s", "body": "\\udfff"}' % uuid.uuid4()])
    def check(frames):
        assert_one_error_each(frames, _send_all(fuzz_users[role], frames))

    check()
    assert Message.objects.count() == 0


@pytest.mark.parametrize("role", ["peer", "facilitator"])
def test_random_frames_of_known_types_never_crash_or_store_garbage(fuzz_users, role):
    @FUZZ
    @given(st.lists(frames_for(ROOM_TYPES, ROOM_FIELDS), min_size=1, max_size=6))
    def check(frames):
        assert_no_crash(frames, _send_all(fuzz_users[role], frames))

    check()
    stored_messages_are_clean()
