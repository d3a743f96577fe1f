"""Writes. Each persists first; the caller publishes the returned events afterwards."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from escalation import services as escalation
from escalation.detection import Assessment, Level, assess

from . import selectors, sql
from .moderation import audit
from .clock import clock
from .errors import ChatError
from .models import Connection, Membership, Message, Room, ServerProcess, User


@dataclass(frozen=True)
class Posted:
    message: Message
    created: bool  # False: a resend of a message already stored
    assessment: Assessment = Assessment(Level.NONE)
    raised: escalation.Raised | None = None  # the alert written with the message, if any


@dataclass(frozen=True)
class Draft:
    """A message someone sent, not yet stored."""

    room: Room
    author: User
    client_id: uuid.UUID
    body: str


def post_message(room: Room, author: User, client_id: uuid.UUID, body: str) -> Posted:
    """Store one message; see post_messages. Raises ChatError for a refused resend."""
    result = post_messages([Draft(room, author, client_id, body)])[0]
    if isinstance(result, ChatError):
        raise result
    return result


def post_messages(drafts: list[Draft]) -> list[Posted | ChatError]:
    """Store messages in one transaction, each with its room's next seq, screened for risk.

    Idempotent on (author, client_id): a resend returns the stored message and uses no seq.
    A message at crisis or above is stored together with its alert, or neither is.
    """
    # Facilitators' own words (often quoting or answering crisis language) are not screened.
    # Someone who said they are at risk (an open alert, a distress message a few minutes ago):
    # what they say next, in any room, is read beside it, so "im at the bridge rn" after "i want
    # to die" is imminent, and so is "i've said my goodbyes" after "i can't do this anymore".
    earlier = escalation.earlier_risk({d.author.pk for d in drafts if not d.author.is_facilitator})
    screened = []
    for d in drafts:
        if d.author.is_facilitator:
            screened.append(Screened(Assessment(Level.NONE)))
            continue
        screened.append(_screen(d.body, earlier.get(d.author.pk)))
        # The same person twice in one batch (two tabs, a phone and a laptop): the second is read
        # beside the first as it would be had the first been stored a moment earlier.
        earlier[d.author.pk] = escalation.stands_after(earlier.get(d.author.pk), screened[-1].assessment.level, d.body)
    try:
        with transaction.atomic():
            return _store(drafts, screened, stored={})
    except IntegrityError:
        pass  # some are resends: the rollback returned their seqs; look them up and store the rest
    with transaction.atomic():
        return _store(drafts, screened, stored=_stored_already(drafts))


@dataclass(frozen=True)
class Screened:
    assessment: Assessment
    earlier_reasons: tuple = ()  # the distress message read beside it: part of why it is a risk

    @property
    def reasons(self) -> list[dict]:
        """What the console shows as why: this message's signals, then the earlier message's."""
        return ([{"category": s.category, "text": s.text} for s in self.assessment.signals]
                + [{"category": s.category, "text": s.text, "earlier": True} for s in self.earlier_reasons])


def _screen(body: str, earlier: escalation.Earlier | None) -> Screened:
    if earlier is None:
        return Screened(assess(body))
    assessment = assess(body, earlier=earlier.level)
    if earlier.said and assessment.level >= Level.CRISIS:
        return Screened(assessment, assess(earlier.said).signals)
    return Screened(assessment)


def _store(drafts: list[Draft], screened: list[Screened], stored: dict) -> list[Posted | ChatError]:
    """Insert first and ask later: a resend is rare, and the unique constraint catches it."""
    results: list[Posted | ChatError | None] = [None] * len(drafts)
    first_of: dict[tuple, int] = {}  # (author, client_id) -> index of its first draft here
    fresh_by_room: dict[int, list[int]] = {}
    for i, draft in enumerate(drafts):
        key = (draft.author.pk, draft.client_id)
        message = stored.get(key)
        if message is not None:
            results[i] = (ChatError("client_id_reused", "That client_id was already used in another room.")
                          if message.room_id != draft.room.pk else Posted(message, created=False))
        elif key in first_of:
            continue  # the same message twice in one batch: answered below from the first
        else:
            first_of[key] = i
            fresh_by_room.setdefault(draft.room.pk, []).append(i)
    messages = {}
    now = clock.now()
    for room_id, indices in fresh_by_room.items():
        held = {i for i in indices if drafts[i].room.hold_imminent and screened[i].assessment.level >= Level.IMMINENT}
        shown = [i for i in indices if i not in held]
        first = sql.reserve_seqs(room_id, len(shown)) - len(shown) + 1 if shown else None
        seqs = {i: first + n for n, i in enumerate(shown)}
        for i in indices:
            d = drafts[i]
            messages[i] = Message(room=d.room, seq=seqs.get(i), author=d.author, author_role=d.author.role,
                                  client_id=d.client_id, body=d.body, risk_level=screened[i].assessment.level.value,
                                  created_at=now, hidden_at=now if i in held else None)
    sql.insert_messages(list(messages.values()))
    for i, message in messages.items():
        if message.hidden_at is not None:
            audit(None, "hold", target=message.author, room=message.room, message=message,
                  reason="Held for review: the detector rated it imminent.")
        raised = None
        assessment = screened[i].assessment
        if assessment.level >= Level.CRISIS:
            raised = escalation.raise_alert(
                level=assessment.level.value, source="detector", subject=drafts[i].author,
                room=drafts[i].room, message=message, signals=screened[i].reasons,
            )
        results[i] = Posted(message, created=True, assessment=assessment, raised=raised)
    for i, draft in enumerate(drafts):
        if results[i] is None:
            first = results[first_of[(draft.author.pk, draft.client_id)]]
            results[i] = Posted(first.message, created=False) if isinstance(first, Posted) else first
    return results


def is_stored(author: User, client_id: uuid.UUID) -> bool:
    return Message.objects.filter(author=author, client_id=client_id).exists()


def _stored_already(drafts: list[Draft]) -> dict[tuple, Message]:
    match = Q()
    for d in drafts:
        match |= Q(author=d.author, client_id=d.client_id)
    found = Message.objects.select_related("room", "author").filter(match)
    return {(m.author_id, m.client_id): m for m in found}


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


def check_socket_count(user: User, room: Room) -> bool:
    """A person's room sockets open at once, on every process, stay under the cap. Returns whether
    they already have one in this room, from the same query, for open_connection."""
    rooms = selectors.live_room_ids(user)
    if len(rooms) >= settings.CHAT["SOCKETS_PER_PERSON"]:
        raise ChatError("too_many_sockets", "Too many rooms open from your account: close a tab and try again.")
    return room.pk in rooms


def beat(server_id: str) -> None:
    """Mark this web process alive; presence rows of silent processes stop counting."""
    # One upsert statement: every handshake beats (update_or_create took a transaction, a locking
    # read and a write).
    ServerProcess.objects.bulk_create([ServerProcess(id=server_id, seen_at=clock.now())],
                                      update_conflicts=True, unique_fields=["id"], update_fields=["seen_at"])


def open_connection(room: Room, user: User, channel_name: str, server_id: str,
                    online_here: bool | None = None) -> bool:
    """Record a socket; True when it is the user's first live one in the room (a join).
    `online_here`: whether they had one already, when the handshake has read it (check_socket_count)."""
    first = not (selectors.user_online_in(room, user) if online_here is None else online_here)
    socket = Connection(channel_name=channel_name, room=room, user=user, server_id=server_id)
    try:
        with transaction.atomic():
            socket.save(force_insert=True)
    except IntegrityError:  # the process's row is gone (swept while it stalled, or a reset database)
        beat(server_id)
        socket.save(force_insert=True)
    return first


def close_connection(channel_name: str) -> bool:
    """Forget a socket; True when it was the user's last live one in its room (a leave)."""
    connection = Connection.objects.filter(channel_name=channel_name).select_related("room", "user").first()
    if connection is None:
        return False
    connection.delete()
    return not selectors.user_online_in(connection.room, connection.user)
