"""Writes. Each persists first; the caller publishes the returned events afterwards."""

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from escalation import services as escalation
from escalation.detection import Assessment, Level, assess

from . import selectors
from .clock import clock
from .errors import ChatError
from .models import Connection, Membership, Message, Room, ServerProcess, User


@dataclass(frozen=True)
class Posted:
    message: Message
    created: bool  # False: a resend of a message already stored
    assessment: Assessment = Assessment(Level.NONE)
    raised: escalation.Raised | None = None  # the alert written with the message, if any


def post_message(room: Room, author: User, client_id: uuid.UUID, body: str) -> Posted:
    """Store a message with the room's next seq; a resend of (author, client_id) returns it.

    The insert is tried first: a resend is rare, and its IntegrityError rolls the seq back.
    """
    # Facilitators' own words (often quoting or answering crisis language) are not screened.
    assessment = Assessment(Level.NONE) if author.is_facilitator else assess(body)
    try:
        with transaction.atomic():
            # The row update both locks the room (PostgreSQL) and takes SQLite's write lock,
            # so concurrent senders queue here and seq stays gapless and unique.
            Room.objects.filter(pk=room.pk).update(last_seq=F("last_seq") + 1)
            seq = Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)
            message = Message.objects.create(
                room=room,
                seq=seq,
                author=author,
                author_role=author.role,
                client_id=client_id,
                body=body,
                risk_level=assessment.level.value,
            )
            raised = None
            if assessment.level >= Level.CRISIS:
                # Same transaction as the message: stored together, or neither.
                raised = escalation.raise_alert(
                    level=assessment.level.value,
                    source="detector",
                    subject=author,
                    room=room,
                    message=message,
                    signals=[{"category": s.category, "text": s.text} for s in assessment.signals],
                )
    except IntegrityError:
        # A resend (after a reconnect, or two copies racing): the stored one is the message.
        existing = _existing_message(author, client_id, room)
        if existing is None:
            raise
        return Posted(existing, created=False)
    message.room = room
    message.author = author
    return Posted(message, created=True, assessment=assessment, raised=raised)


def _existing_message(author: User, client_id: uuid.UUID, room: Room) -> Message | None:
    message = (
        Message.objects.select_related("room", "author")
        .filter(author=author, client_id=client_id)
        .first()
    )
    if message is not None and message.room_id != room.pk:
        raise ChatError("client_id_reused", "That client_id was already used in another room.")
    return message


def enter_room(slug: str, user: User) -> Room:
    """The room a user may join, joining a public room on first visit."""
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        raise ChatError("room_not_found", "There is no such room.")
    if not selectors.can_enter(room, user):
        raise ChatError("not_a_member", "This room is private.")
    if not room.is_private:
        Membership.objects.get_or_create(room=room, user=user)
    return room


def beat(server_id: str) -> None:
    """Mark this web process alive; presence rows of silent processes stop counting."""
    ServerProcess.objects.update_or_create(id=server_id, defaults={"seen_at": clock.now()})


def open_connection(room: Room, user: User, channel_name: str, server_id: str) -> bool:
    """Record a socket; True when it is the user's first live one in the room (a join)."""
    first = not selectors.user_online_in(room, user)
    Connection.objects.create(channel_name=channel_name, room=room, user=user, server_id=server_id)
    return first


def close_connection(channel_name: str) -> bool:
    """Forget a socket; True when it was the user's last live one in its room (a leave)."""
    connection = Connection.objects.filter(channel_name=channel_name).select_related("room", "user").first()
    if connection is None:
        return False
    connection.delete()
    return not selectors.user_online_in(connection.room, connection.user)
