"""Reads. The database is the source of truth for history and presence."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q

from . import sql
from .clock import clock
from .models import Connection, Membership, Message, Room, User, role_of


def _messages(room: Room, viewer: User):
    """Facilitators get hidden messages too, marked, so they can restore them. A peer never gets a
    hidden message, except their own held for review (hidden with no one's hand on it): they saw it
    live, marked as held, and it stays on their page after a reload."""
    found = Message.objects.filter(room=room).select_related("author", "room")
    if viewer.is_facilitator:
        return found
    return found.filter(Q(hidden_at__isnull=True) | Q(author=viewer, hidden_by__isnull=True))


def recent_messages(room: Room, limit: int, viewer: User) -> list[Message]:
    """The last `limit` messages in the room's order, then any held for review that this viewer
    may see (they have no seq yet: ranged pages and replays never hold them)."""
    found = _messages(room, viewer)
    shown = list(reversed(found.filter(seq__isnull=False).order_by("-seq")[:limit]))
    return shown + list(found.filter(seq__isnull=True).order_by("created_at", "pk"))


def messages_before(room: Room, before: int, limit: int, viewer: User) -> tuple[list[Message], bool]:
    """Up to `limit` messages with seq < before, oldest first, and whether older ones exist."""
    page = list(_messages(room, viewer).filter(seq__lt=before).order_by("-seq")[: limit + 1])
    return list(reversed(page[:limit])), len(page) > limit


def messages_after(room: Room, after: int, limit: int, viewer: User) -> tuple[list[Message], bool]:
    """Up to `limit` messages with seq > after, oldest first, and whether newer ones exist."""
    page = list(_messages(room, viewer).filter(seq__gt=after).order_by("seq")[: limit + 1])
    return page[:limit], len(page) > limit


def live_since():
    """Processes that beat since then are alive; the sockets of one silent longer stop counting."""
    return clock.now() - timedelta(seconds=3 * settings.CHAT["PRESENCE_HEARTBEAT_SECONDS"])


def _live_connections():
    return Connection.objects.filter(server__seen_at__gte=live_since())


def online_people(room: Room) -> list[dict]:
    """Who is online in the room, as author payloads ({"id", "name", "role"}), role resolved in
    the same query. Plain rows, not User instances: this runs in every handshake."""
    return [
        {"id": pk, "name": name, "role": role_of(superuser or staff, facilitator)}
        for pk, name, superuser, staff, facilitator in sql.online_rows(room.pk, live_since())
    ]


def online_count(room: Room) -> int:
    return _live_connections().filter(room=room).values("user_id").distinct().count()


def online_counts(user: User) -> dict[str, int]:
    """People online per room, for the rooms this person may see (a private room is its members')."""
    rows = (
        _live_connections()
        .filter(room__in=visible_rooms(user).order_by().values("pk"))
        .values("room__slug")
        .annotate(n=Count("user_id", distinct=True))
    )
    return {row["room__slug"]: row["n"] for row in rows}


def visible_rooms(user: User):
    """Public rooms for everyone, plus private rooms the user belongs to."""
    public = Room.objects.filter(is_private=False)
    if not user.is_authenticated:
        return public
    mine = Room.objects.filter(is_private=True, memberships__user=user)
    if user.is_facilitator:
        return public.order_by("position", "name")  # support rooms are reached from the console
    return (public | mine).distinct().order_by("position", "name")


def is_member(room: Room, user: User) -> bool:
    return Membership.objects.filter(room=room, user=user).exists()


def can_enter(room: Room, user: User) -> bool:
    """Public rooms: anyone signed in. Private (support) rooms: members and facilitators."""
    return not room.is_private or user.is_facilitator or is_member(room, user)


def live_room_ids(user: User) -> list[int]:
    """The room of each live socket of this person (a room twice for two tabs)."""
    return list(_live_connections().filter(user=user).values_list("room_id", flat=True))


def user_online_in(room: Room, user: User) -> bool:
    return _live_connections().filter(room=room, user=user).exists()


def open_reports(limit: int = 100):
    from .models import Report

    found = Report.objects.filter(closed_at__isnull=True).select_related(
        "reporter", "message__author", "message__room").order_by("created_at")
    return list(found[:limit])


def audit_entries(action: str | None = None, room: str | None = None, person: str | None = None,
                  limit: int = 100):
    """The audit log, newest first, filtered by action, room slug or person (actor or target)."""
    from django.db.models import Q

    from .models import AuditEntry

    entries = AuditEntry.objects.select_related("actor", "target", "room")
    if action:
        entries = entries.filter(action=action)
    if room:
        entries = entries.filter(room__slug=room)
    if person:
        entries = entries.filter(Q(actor__username__iexact=person) | Q(target__username__iexact=person))
    return list(entries[:limit])
