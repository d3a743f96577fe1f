"""What facilitators' consoles receive. Crisis flags never go anywhere else."""

from django.urls import reverse

from rooms.events import frame, message_payload
from rooms.models import Message

from .models import Alert

CONTEXT_BEFORE = 3
CONTEXT_AFTER = 2


def person(user) -> dict | None:
    return {"id": user.pk, "name": user.username} if user else None


def alert_payload(alert: Alert) -> dict:
    return {
        "id": alert.pk,
        "level": alert.level,
        "source": alert.source,
        "status": alert.status,
        "created_at": alert.created_at.isoformat(),
        "subject": person(alert.subject),
        "reporter": person(alert.reporter),
        "assignee": person(alert.assignee),
        "room": {"slug": alert.room.slug, "name": alert.room.name, "url": reverse("room", args=[alert.room.slug])}
        if alert.room else None,
        "message": message_payload(alert.message) if alert.message else None,
        "context": [message_payload(m) for m in context(alert.message)] if alert.message else [],
        "signals": alert.signals,
        "second_reader": alert.second_reader,
        "support_room": {"slug": alert.support_room.slug, "url": reverse("room", args=[alert.support_room.slug])}
        if alert.support_room else None,
        "notify_count": alert.notify_count,
        "widened": alert.widened,
        "outcome": alert.outcome,
        "note": alert.note,
    }


def context(message: Message) -> list[Message]:
    """The messages around the flagged one, oldest first, so a facilitator reads it in place."""
    around = Message.objects.filter(room_id=message.room_id, seq__isnull=False).select_related("author", "room")
    if message.seq is None:  # held for review: placed by when it was written
        before = around.filter(created_at__lte=message.created_at).exclude(pk=message.pk)
        after = around.filter(created_at__gt=message.created_at)
    else:
        before, after = around.filter(seq__lt=message.seq), around.filter(seq__gt=message.seq)
    before = list(before.order_by("-seq")[:CONTEXT_BEFORE])
    after = list(after.order_by("seq")[:CONTEXT_AFTER])
    return [*reversed(before), message, *after]


def queue_order(alert: Alert):
    """Most severe first; within a tier, what the second reader doubts after the rest; then oldest
    first. A doubted imminent alert still comes before every crisis one: a doubt is not a verdict."""
    return (-alert.rank, alert.doubted, alert.created_at)


def alert_frame(type_: str, alert: Alert) -> str:
    return frame(type_, alert=alert_payload(alert))


def open_alerts() -> list[Alert]:
    alerts = (
        Alert.objects.exclude(status=Alert.Status.RESOLVED)
        .select_related("subject", "reporter", "assignee", "room", "message__author", "message__room",
                        "support_room")
    )
    return sorted(alerts, key=queue_order)
