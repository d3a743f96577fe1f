"""check_* functions: turn a client frame into clean values or raise ChatError."""

import json
import uuid

from django.conf import settings

from . import lookalikes
from .errors import ChatError


def parse_frame(text: str | None) -> dict:
    if text is None:
        raise ChatError("bad_frame", "Send text frames containing JSON.")
    if len(text.encode("utf-8", "surrogatepass")) > settings.CHAT["MAX_FRAME_BYTES"]:
        raise ChatError(
            "frame_too_large", f"Frames are limited to {settings.CHAT['MAX_FRAME_BYTES']} bytes."
        )
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):  # nesting too deep for the parser is not a frame either
        raise ChatError("bad_json", "That frame is not valid JSON.") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise ChatError("bad_frame", 'A frame is a JSON object with a string "type".')
    if "\\u" in text and not _encodable(frame):
        # JSON may spell a lone surrogate ("\\ud800"), which no database can store as text.
        raise ChatError("bad_text", "That frame contains characters that are not valid text.")
    return frame


def _encodable(frame: dict) -> bool:
    try:
        json.dumps(frame, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


def check_client_id(value) -> uuid.UUID:
    """A UUID in its usual spelling only: the message comes back with the canonical text, and a
    client matches that against what it sent ("{...}", bare hex or "urn:uuid:" never would)."""
    try:
        parsed = uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        raise ChatError("invalid_client_id", "client_id must be a UUID string.") from None
    if str(parsed) != value:
        raise ChatError("invalid_client_id", "client_id must be a UUID in its usual spelling: "
                                             "36 lower-case characters with hyphens.")
    return parsed


def check_body(value) -> str:
    if not isinstance(value, str):
        raise ChatError("invalid_body", "body must be a string.")
    body = value.strip()
    if not any(map(lookalikes.shows_something, body)):  # zero-width spaces, Hangul fillers ... only
        raise ChatError("empty_body", "A message cannot be empty.")
    limit = settings.CHAT["MAX_BODY_CHARS"]
    if len(body) > limit:
        raise ChatError("body_too_long", f"Messages are limited to {limit} characters.")
    if "\x00" in body:
        raise ChatError("invalid_body", "body contains a NUL character.")
    return body


def check_seq(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ChatError("invalid_" + field, f"{field} must be a whole number >= 0.")
    return value


def check_limit(value, default: int, maximum: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ChatError("invalid_limit", f"limit must be a whole number from 1 to {maximum}.")
    return value


def check_after_param(query_string: bytes) -> int | None:
    """The `?after=<seq>` a reconnecting client sends; None when absent."""
    from urllib.parse import parse_qs

    values = parse_qs(query_string.decode("latin-1")).get("after")
    if not values:
        return None
    try:
        after = int(values[0])
    except ValueError:
        raise ChatError("invalid_after", "after must be a whole number.") from None
    if after < 0:
        raise ChatError("invalid_after", "after must be >= 0.")
    return after
