"""Server frames, serialised once per event and fanned out as ready-made text."""

import json

from .models import Message, User


def author_payload(user: User, role: str | None = None) -> dict:
    return {"id": user.pk, "name": user.username, "role": role or user.role}


def message_payload(message: Message) -> dict:
    payload = {
        "id": message.pk,
        "seq": message.seq,
        "client_id": str(message.client_id),
        "room": message.room.slug,
        "author": author_payload(message.author, message.author_role),
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }
    if message.hidden_at is not None:  # sent only to facilitators, and to the author of a held message
        payload["hidden"] = True
    return payload


def room_payload(room) -> dict:
    pinned = room.pinned_message
    return {
        "slug": room.slug,
        "name": room.name,
        "topic": room.topic,
        "description": room.description,
        "guidelines": room.guidelines,
        "locked": room.locked,
        "slow_mode_seconds": room.slow_mode_seconds,
        "pinned": message_payload(pinned) if pinned is not None and pinned.hidden_at is None else None,
    }


def frame(type_: str, **fields) -> str:
    return json.dumps({"type": type_, **fields}, ensure_ascii=False, separators=(",", ":"))


# Frames about the moment only (who is here, who is typing), not worth replaying late.
LIVE_ONLY_PREFIXES = tuple(frame(t)[:-1] for t in ("presence", "typing", "lobby.count"))


def message_new(message: Message) -> str:
    return frame("message.new", message=message_payload(message))


def error(code: str, detail: str, client_id: str | None = None) -> str:
    fields = {"code": code, "detail": detail}
    if client_id is not None:
        fields["client_id"] = client_id
    return frame("error", **fields)


def report_payload(report) -> dict:
    return {
        "id": report.pk,
        "reason": report.reason,
        "note": report.note,
        "reporter": author_payload(report.reporter) if report.reporter else None,
        "message": message_payload(report.message),
        "created_at": report.created_at.isoformat(),
        "closed": report.closed_at is not None,
    }


def audit_payload(entry) -> dict:
    return {
        "id": entry.pk,
        "action": entry.action,
        "actor": entry.actor.username if entry.actor else None,
        "target": entry.target.username if entry.target else None,
        "room": entry.room.slug if entry.room else None,
        "message_id": entry.message_id,
        "reason": entry.reason,
        "detail": entry.detail,
        "created_at": entry.created_at.isoformat(),
    }
