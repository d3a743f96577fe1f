"""Hypothesis strategies for random and malformed client frames, shared by the socket fuzz tests."""

import json
import uuid

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Each example opens a real socket through the whole ASGI stack, so examples are few and slow.
FUZZ = settings(max_examples=40, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Anything JSON can carry, nested a little.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def frames_for(types: list[str], fields: list[str], likely: dict | None = None):
    """Frames of the known types with random values in the fields those types read; `likely`
    mixes real values (ids that exist, valid choices) into chosen fields so handlers get past
    their first check."""
    likely = likely or {}
    return st.fixed_dictionaries(
        {"type": st.sampled_from(types)},
        optional={name: (st.sampled_from(likely[name]) | json_values) if name in likely else json_values
                  for name in fields},
    ).map(json.dumps)


# Text that is not a valid frame: broken JSON, JSON that is not an object, objects without a
# string type, unknown types, lone surrogates, and frames far over the size limit.
malformed_frames = st.one_of(
    st.text(max_size=60).filter(lambda t: not _is_json_object_with_type(t)),
    json_values.filter(lambda v: not isinstance(v, dict)).map(json.dumps),
    st.dictionaries(st.text(max_size=8).filter(lambda k: k != "type"), json_values, max_size=3).map(json.dumps),
    st.fixed_dictionaries({"type": json_values.filter(lambda v: not isinstance(v, str))}).map(json.dumps),
    # Every known type but "typing" has a dot in it.
    st.fixed_dictionaries({"type": st.text(max_size=40).filter(lambda t: "." not in t and t != "typing")})
    .map(json.dumps),
    st.uuids().map(lambda u: '{"type": "message.send", "client_id": "%s", "body": "a \\ud800 b"}' % u),
    st.integers(min_value=17, max_value=40).map(lambda kb: json.dumps({"type": "typing", "pad": "x" * kb * 1024})),
)


def _is_json_object_with_type(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and isinstance(value.get("type"), str)


@pytest.fixture
def no_limits(settings):
    """Fuzzing sends far faster than a person; the limits have tests of their own."""
    settings.CHAT = {**settings.CHAT, "FRAME_RATE": "100000/second", "RATE_LIMITS": "100000/second",
                     "REPEAT_LIMIT": "100000/second"}


async def exchange(socket, text: str) -> list[dict]:
    """Send one frame, then a barrier the server must answer; return what came back before
    the barrier's answer (a {"type": "closed"} entry if the socket closed)."""
    barrier = f"fuzz-barrier-{uuid.uuid4().hex[:16]}"  # the error echoes 40 chars
    await socket.send_input({"type": "websocket.receive", "text": text})  # send_to() refuses ""
    await socket.send_input({"type": "websocket.receive", "text": json.dumps({"type": barrier})})
    frames = []
    while True:
        output = await socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return frames + [{"type": "closed", "code": output.get("code")}]
        frame = json.loads(output["text"])
        if frame["type"] == "error" and barrier in frame["detail"]:
            return frames
        frames.append(frame)


def stored_messages_are_clean() -> None:
    """Whatever was stored is a real message: text, within the limit, encodable, gapless seq."""
    from django.conf import settings

    from rooms.models import Message, Room

    for room in Room.objects.all():
        seqs = list(Message.objects.filter(room=room).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1)) and room.last_seq == len(seqs)
    for body in Message.objects.values_list("body", flat=True):
        assert isinstance(body, str) and body.strip() == body and body
        assert len(body) <= settings.CHAT["MAX_BODY_CHARS"] and "\x00" not in body
        body.encode("utf-8")


async def answers_to(path: str, greeting: str, user, frames: list[str]) -> list[list[dict]]:
    """Open a socket as `user`, wait for its greeting frame, and exchange each frame in turn."""
    from tests.helpers import open_socket, receive

    socket, connected = await open_socket(path, user)
    assert connected
    await receive(socket, greeting)
    answers = [await exchange(socket, text) for text in frames]
    await socket.disconnect()
    return answers


def assert_one_error_each(frames: list[str], answers: list[list[dict]]) -> None:
    for text, answer in zip(frames, answers):
        errors = [f for f in answer if f["type"] == "error"]
        assert len(errors) == 1 and errors[0]["code"] != "server_error", (text[:200], answer)
        assert not any(f["type"] == "closed" for f in answer)


def assert_no_crash(frames: list[str], answers: list[list[dict]]) -> None:
    """The socket stays open, and any refusal is a clear error, never the server's own failure."""
    for text, answer in zip(frames, answers):
        for frame in answer:
            assert frame["type"] != "closed", (text, answer)
            if frame["type"] == "error":
                assert frame["code"] != "server_error", (text, answer)
                assert isinstance(frame["detail"], str) and frame["detail"]
