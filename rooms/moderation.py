"""Moderation: check_* refuses with a clear reason, the rest write and leave an audit entry.

Facilitators and admins moderate; peers can report, mute for themselves and leave.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q

from .clock import clock
from .errors import ChatError
from .models import AuditEntry, Membership, Message, PersonalMute, Report, Room, Sanction, User

MAX_TIMEOUT = 7 * 86400
MAX_SLOW_MODE = 3600


def audit(actor, action, *, target=None, room=None, message=None, reason="", **detail) -> AuditEntry:
    return AuditEntry.objects.create(actor=actor, action=action, target=target, room=room, message=message,
                                     reason=(reason or "")[:500], detail=detail, created_at=clock.now())


# --- checks --------------------------------------------------------------------------------------
def check_moderator(user: User) -> None:
    if not user.is_facilitator:
        raise ChatError("not_allowed", "Only facilitators can do that.")


def _check_reason(reason) -> str:
    if reason is None:
        return ""
    if not isinstance(reason, str) or len(reason) > 500:
        raise ChatError("invalid_reason", "reason must be text of at most 500 characters.")
    return reason.strip()


def _message_in(room: Room, message_id) -> Message:
    if isinstance(message_id, bool) or not isinstance(message_id, int):
        raise ChatError("invalid_message_id", "message_id must be a whole number.")
    message = Message.objects.select_related("author", "room").filter(pk=message_id, room=room).first()
    if message is None:
        raise ChatError("message_not_found", "There is no such message in this room.")
    return message


def _other_id(user_id, actor: User) -> int:
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise ChatError("invalid_user_id", "user_id must be a whole number.")
    if user_id == actor.pk:
        raise ChatError("not_yourself", "You cannot do that to yourself.")
    return user_id


def _person(user_id, actor: User) -> User:
    person = User.objects.filter(pk=_other_id(user_id, actor)).first()
    if person is None:
        raise ChatError("user_not_found", "There is no such person.")
    return person


def _sanctionable(user_id, actor: User) -> User:
    check_moderator(actor)
    person = _person(user_id, actor)
    if person.is_facilitator:
        raise ChatError("not_allowed", "Facilitators and admins cannot be sanctioned here; ask an admin.")
    return person


def active_sanctions(user: User, room: Room | None = None):
    now = clock.now()
    scope = Q(room__isnull=True) | (Q(room=room) if room is not None else Q())
    return Sanction.objects.filter(scope, user=user, lifted_at__isnull=True).filter(
        Q(until__isnull=True) | Q(until__gt=now)
    )


def timeout_until(user: User, room: Room):
    """When this person's timeouts here and service-wide end (None: not timed out)."""
    ends = active_sanctions(user, room).filter(kind=Sanction.Kind.TIMEOUT).values_list("until", flat=True)
    return max((until for until in ends if until is not None), default=None)


def check_can_enter(user: User, room: Room):
    """Refuse someone banned here or everywhere; otherwise the end of their current timeout (or
    None), read in the same query: a handshake needs both."""
    sanctions = list(active_sanctions(user, room).filter(kind__in=[Sanction.Kind.BAN, Sanction.Kind.TIMEOUT,
                                                                    Sanction.Kind.KICK]))
    ban = next((s for s in sanctions if s.kind == Sanction.Kind.BAN), None)
    if ban is not None:
        where = "this room" if ban.room_id else "the service"
        raise ChatError("banned", f"You have been removed from {where}.")
    if any(s.kind == Sanction.Kind.KICK for s in sanctions):
        raise ChatError("removed", "A facilitator has asked you to leave this room for now; "
                                   "they can let you back in. Other rooms are open to you.")
    return max((s.until for s in sanctions if s.until is not None), default=None)


def check_can_post(user: User, room: Room, timeout_until) -> None:
    """Lock and timeout, from state the socket keeps current (no query on the hot path).

    Slow mode and rate limits are counted in rooms.ratelimits.
    """
    if user.is_facilitator:
        return
    if room.locked:
        raise ChatError("room_locked", "This room is read-only for now. You can still read along.")
    if timeout_until is not None and timeout_until > clock.now():
        minutes = max(1, round((timeout_until - clock.now()).total_seconds() / 60))
        raise ChatError("timed_out", f"You're taking a short break from posting: about {minutes} more "
                                     f"minute{'s' if minutes != 1 else ''}. You can still read along.")


# --- messages -------------------------------------------------------------------------------------
@transaction.atomic
def hide_message(actor: User, room: Room, message_id, reason=None) -> Message:
    check_moderator(actor)
    reason = _check_reason(reason)
    message = _message_in(room, message_id)
    if message.hidden_at is None:
        message.hidden_at, message.hidden_by = clock.now(), actor
        message.save(update_fields=["hidden_at", "hidden_by"])
        audit(actor, "hide", target=message.author, room=room, message=message, reason=reason)
    return message


@transaction.atomic
def restore_message(actor: User, room: Room, message_id) -> tuple[Message, bool]:
    """(the message, whether it was held until now): a held message takes the room's next seq
    as it is shown, so peers see a new message where it lands, never a gap where it was held."""
    from .sql import reserve_seqs

    check_moderator(actor)
    message = _message_in(room, message_id)
    was_held = message.seq is None
    if message.hidden_at is not None:
        message.hidden_at, message.hidden_by = None, None
        if was_held:
            message.seq = reserve_seqs(room.pk, 1)
        message.save(update_fields=["hidden_at", "hidden_by", "seq"])
        audit(actor, "restore", target=message.author, room=room, message=message)
    return message, was_held


# --- people ---------------------------------------------------------------------------------------
@transaction.atomic
def time_out(actor: User, room: Room, user_id, seconds, reason=None) -> Sanction:
    person = _sanctionable(user_id, actor)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= MAX_TIMEOUT:
        raise ChatError("invalid_duration", f"seconds must be a whole number from 1 to {MAX_TIMEOUT}.")
    reason = _check_reason(reason)
    sanction = Sanction.objects.create(user=person, room=room, kind=Sanction.Kind.TIMEOUT, reason=reason,
                                       until=clock.now() + timedelta(seconds=seconds), created_by=actor,
                                       created_at=clock.now())
    audit(actor, "timeout", target=person, room=room, reason=reason, seconds=seconds)
    return sanction


@transaction.atomic
def kick(actor: User, room: Room, user_id, reason=None) -> Sanction:
    person = _sanctionable(user_id, actor)
    reason = _check_reason(reason)
    Membership.objects.filter(room=room, user=person).delete()
    # Out of this room until a facilitator lets them back (mod.lift kind "kick"): a reload is no way back.
    sanction = Sanction.objects.create(user=person, room=room, kind=Sanction.Kind.KICK, reason=reason,
                                       created_by=actor, created_at=clock.now())
    audit(actor, "kick", target=person, room=room, reason=reason)
    return sanction


@transaction.atomic
def ban(actor: User, room: Room, user_id, scope, reason=None) -> Sanction:
    person = _sanctionable(user_id, actor)
    if scope not in ("room", "service"):
        raise ChatError("invalid_scope", 'scope must be "room" or "service".')
    reason = _check_reason(reason)
    where = room if scope == "room" else None
    if where is not None:
        Membership.objects.filter(room=room, user=person).delete()
    sanction = Sanction.objects.create(user=person, room=where, kind=Sanction.Kind.BAN, reason=reason,
                                       created_by=actor, created_at=clock.now())
    audit(actor, f"ban_{scope}", target=person, room=room, reason=reason)
    return sanction


@transaction.atomic
def lift(actor: User, room: Room, user_id, kind, scope="room") -> int:
    check_moderator(actor)
    person = _person(user_id, actor)
    if kind not in (Sanction.Kind.TIMEOUT, Sanction.Kind.BAN, Sanction.Kind.KICK):
        raise ChatError("invalid_kind", 'kind must be "timeout", "ban" or "kick".')
    if scope not in ("room", "service"):
        raise ChatError("invalid_scope", 'scope must be "room" or "service".')
    sanctions = active_sanctions(person, room).filter(kind=kind)
    sanctions = sanctions.filter(room=room) if scope == "room" else sanctions.filter(room__isnull=True)
    lifted = sanctions.update(lifted_at=clock.now(), lifted_by=actor)
    if lifted:
        audit(actor, f"lift_{kind}", target=person, room=room, scope=scope, count=lifted)
    return lifted


# --- the room -------------------------------------------------------------------------------------
def _room_for_update(room: Room) -> Room:
    return Room.objects.select_for_update().get(pk=room.pk)


@transaction.atomic
def set_locked(actor: User, room: Room, locked) -> Room:
    check_moderator(actor)
    if not isinstance(locked, bool):
        raise ChatError("invalid_locked", "locked must be true or false.")
    fresh = _room_for_update(room)
    if fresh.locked != locked:
        fresh.locked = locked
        fresh.save(update_fields=["locked"])
        audit(actor, "lock" if locked else "unlock", room=fresh)
    return fresh


@transaction.atomic
def set_slow_mode(actor: User, room: Room, seconds) -> Room:
    check_moderator(actor)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_SLOW_MODE:
        raise ChatError("invalid_slow_mode", f"seconds must be a whole number from 0 to {MAX_SLOW_MODE}.")
    fresh = _room_for_update(room)
    if fresh.slow_mode_seconds != seconds:
        fresh.slow_mode_seconds = seconds
        fresh.save(update_fields=["slow_mode_seconds"])
        audit(actor, "slow_mode", room=fresh, seconds=seconds)
    return fresh


@transaction.atomic
def pin(actor: User, room: Room, message_id) -> Room:
    """Pin a message; message_id None pins the guidelines again."""
    check_moderator(actor)
    message = None if message_id is None else _message_in(room, message_id)
    fresh = _room_for_update(room)
    fresh.pinned_message = message
    fresh.save(update_fields=["pinned_message"])
    audit(actor, "pin" if message else "unpin", room=fresh, message=message)
    return fresh


# --- peers ----------------------------------------------------------------------------------------
@transaction.atomic
def repeated_report(reporter: User, room: Room, message_id, reason, note=None) -> Report | None:
    """The reporter's open report of this message in these words, if they sent it already: the
    same report again adds nothing for facilitators (a new reason or note is a new report)."""
    if isinstance(message_id, bool) or not isinstance(message_id, int) or not isinstance(note or "", str):
        return None
    return Report.objects.filter(message_id=message_id, message__room=room, reporter=reporter, reason=reason,
                                 note=(note or "").strip(), closed_at__isnull=True).first()


def report(reporter: User, room: Room, message_id, reason, note=None) -> tuple[Report, bool]:
    """(the report, whether it is new)."""
    if reason not in Report.Reason.values:
        raise ChatError("invalid_reason", f"reason must be one of: {', '.join(Report.Reason.values)}.")
    note = _check_reason(note)
    message = _message_in(room, message_id)
    if message.author_id == reporter.pk:
        raise ChatError("own_message", "You cannot report your own message.")
    already = repeated_report(reporter, room, message_id, reason, note)
    if already is not None:
        return already, False
    made = Report.objects.create(message=message, reporter=reporter, reason=reason, note=note,
                                 created_at=clock.now())
    audit(reporter, "report", target=message.author, room=room, message=message, reason=note, category=reason)
    return made, True


@transaction.atomic
def close_report(actor: User, report_id) -> Report:
    check_moderator(actor)
    if isinstance(report_id, bool) or not isinstance(report_id, int):
        raise ChatError("invalid_report_id", "report_id must be a whole number.")
    made = Report.objects.select_related("message__author", "message__room", "reporter").filter(pk=report_id).first()
    if made is None:
        raise ChatError("report_not_found", "There is no such report.")
    if made.closed_at is None:
        made.closed_at, made.closed_by = clock.now(), actor
        made.save(update_fields=["closed_at", "closed_by"])
        audit(actor, "close_report", target=made.message.author, room=made.message.room, message=made.message,
              report=made.pk)
    return made


def set_mute(user: User, other_id, muted) -> int:
    """Mute someone for yourself: someone in, or with messages in, a room you are in (the only
    people whose messages you see). Any other id is answered alike and mutes nothing, so neither the answer nor the
    muted list of a later room.state tells a peer which accounts exist."""
    _other_id(other_id, user)
    if not isinstance(muted, bool):
        raise ChatError("invalid_muted", "muted must be true or false.")
    if not muted:
        PersonalMute.objects.filter(user=user, muted_id=other_id).delete()
    elif _seen_by(user, other_id):
        PersonalMute.objects.get_or_create(user=user, muted_id=other_id)
    return other_id


def _seen_by(user: User, other_id: int) -> bool:
    rooms = Membership.objects.filter(user=user).values("room")
    return (Membership.objects.filter(user_id=other_id, room__in=rooms).exists()
            or Message.objects.filter(author_id=other_id, room__in=rooms).exists())


def muted_ids(user: User) -> list[int]:
    return list(PersonalMute.objects.filter(user=user).values_list("muted_id", flat=True))


def leave(user: User, room: Room) -> None:
    Membership.objects.filter(room=room, user=user).delete()
