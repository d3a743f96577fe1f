"""Alert lifecycle: raise, acknowledge, resolve, step in. Each writes first and logs the change;
callers publish what is returned only after the transaction has committed."""

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from rooms.clock import clock
from rooms.errors import ChatError
from rooms.models import Membership, Message, Room, User
from rooms.moderation import audit

from . import audience
from .detection import Level
from .models import LEVEL_RANK, Alert, AlertEvent, FacilitatorDuty

MAX_SIGNALS = 20
OUTCOMES = ["safe", "connected_to_hotline", "emergency_services", "no_response", "false_alarm", "other"]


@dataclass
class Raised:
    alert: Alert
    recipients: set[int] = field(default_factory=set)
    notify: bool = True  # False when an open alert absorbed this one without news for anyone
    new: bool = True  # False when the person's open alert in the room absorbed it


# A facilitator's hand on an alert goes in the moderation audit log too, beside hides and bans,
# where the console's audit view reads it.
AUDITED = {"acknowledged": "alert_acknowledge", "stepped_in": "alert_step_in", "resolved": "alert_resolve"}


def log(alert: Alert, kind: str, actor: User | None = None, *, at=None, **detail) -> AlertEvent:
    """`at`: when the change was decided, if that was earlier than now (the watchdog's schedule)."""
    if actor is not None and kind in AUDITED:
        audit(actor, AUDITED[kind], target=alert.subject, room=alert.room, message=alert.message, alert=alert.pk,
              **({"outcome": detail["outcome"]} if "outcome" in detail else {}))
    return AlertEvent.objects.create(alert=alert, kind=kind, actor=actor, detail=detail, created_at=at or clock.now())


def _open_alert_about(subject: User, room: Room | None, lock: bool = False) -> Alert | None:
    """The person's newest alert in this room that facilitators are still on."""
    alerts = Alert.objects.select_for_update() if lock else Alert.objects
    return alerts.filter(subject=subject, room=room, status__in=Alert.UNRESOLVED).order_by("-created_at").first()


def raise_alert(
    *,
    level: str,
    source: str,
    subject: User,
    room: Room | None = None,
    message: Message | None = None,
    reporter: User | None = None,
    signals: list[dict] | None = None,
) -> Raised:
    """Write the alert (or add to the person's open one) before anyone is told. Call in a transaction."""
    now = clock.now()
    existing = _open_alert_about(subject, room, lock=True)
    if existing is not None:
        raised_level = LEVEL_RANK[level] > existing.rank
        if raised_level:
            existing.level = level
            existing.next_notify_at = now
        if message is not None:
            existing.message = message
            # the reasons so far stay beside the new ones: "im at the bridge rn" is imminent
            # because of the "i want to die" before it
            new = signals or []
            said = {(s["category"], s["text"]) for s in new}
            existing.signals = (new + [{**s, "earlier": True} for s in existing.signals
                                       if (s["category"], s["text"]) not in said])[:MAX_SIGNALS]
        existing.save()
        log(existing, "repeated", reporter, source=source, level=level,
            message=message.pk if message else None, raised_level=raised_level)
        recipients, _ = audience.route(existing)
        return Raised(existing, recipients, notify=raised_level or existing.status == Alert.Status.OPEN, new=False)
    alert = Alert.objects.create(
        level=level, source=source, subject=subject, room=room, message=message, reporter=reporter,
        signals=signals or [], created_at=now, notify_count=1,
    )
    recipients, out_of_band = audience.route(alert)
    alert.next_notify_at = now + timedelta(seconds=resend_interval(level))
    alert.out_of_band_due = out_of_band
    alert.save()
    log(alert, "created", reporter, source=source, level=level, message=message.pk if message else None,
        recipients=sorted(recipients), out_of_band=out_of_band)
    return Raised(alert, recipients)


@dataclass(frozen=True)
class Earlier:
    """The risk a person stated before that still stands: their next messages are read beside it."""

    level: Level
    said: str = ""  # the distress message, whose reasons go with an alert its follow-up raises


def earlier_risk(person_ids: set[int]) -> dict[int, Earlier]:
    """Those of these people with an alert facilitators are still on, in any room (crisis), or
    else a distress message in the last DISTRESS_CONTEXT_MINUTES (distress, the latest one)."""
    if not person_ids:
        return {}
    found = {pk: Earlier(Level.CRISIS) for pk in Alert.objects.filter(
        status__in=Alert.UNRESOLVED, subject_id__in=person_ids).order_by().values_list("subject_id", flat=True)}
    rest = person_ids - found.keys()
    if rest:
        since = clock.now() - timedelta(minutes=settings.ESCALATION["DISTRESS_CONTEXT_MINUTES"])
        latest = (Message.objects.filter(author_id__in=rest, risk_level=Level.DISTRESS.value, created_at__gte=since)
                  .order_by().values("author_id").annotate(last=Max("pk")).values("last"))  # a bad hour may hold dozens
        for author_id, body in Message.objects.filter(pk__in=latest).order_by().values_list("author_id", "body"):
            found[author_id] = Earlier(Level.DISTRESS, body)
    return found


def stands_after(before: Earlier | None, level: Level, said: str) -> Earlier | None:
    """What stands once a message at `level` is stored, as earlier_risk would then read it: its
    alert (crisis and above), else the latest distress message, else what stood before."""
    if level >= Level.CRISIS or (before is not None and before.level >= Level.CRISIS):
        return Earlier(Level.CRISIS)
    if level == Level.DISTRESS:
        return Earlier(Level.DISTRESS, said)
    return before


@transaction.atomic
def request_help(person: User, room: Room, *, asked_just_now: bool = False) -> Raised:
    """'Talk to a facilitator now' / 'I need help': a self-referral. Asked again just now (over
    the help rate) while their alert here is open, it joins that alert and tells nobody again; with
    no open alert it is a new cry for help and is raised whatever the rate."""
    if asked_just_now:
        waiting = _open_alert_about(person, room)
        if waiting is not None:
            return Raised(waiting, notify=False, new=False)
    return raise_alert(level="crisis", source=Alert.Source.SELF_REFERRAL, subject=person, room=room)


def help_answer(raised: Raised) -> str:
    """What the person reads after asking for help: only what is true. Call in the database hop."""
    if not audience.on_duty_facilitators():
        cfg = settings.ESCALATION
        reached = audience.online_facilitators() or cfg["ONCALL_EMAIL"] or cfg["WEBHOOK_URL"]
        return ("No facilitator is on duty right now" + (", so we have alerted the team" if reached else "")
                + ". If you might be in danger, please call or text one of the lines below now.")
    if raised.new or raised.notify:
        return "A facilitator has been asked to join you. You're not alone."
    return "A facilitator on duty already has your request. You're not alone."


@transaction.atomic
def report_concern(reporter: User, room: Room, message_id) -> Raised:
    """'I'm worried about this person', about one message in this room."""
    if isinstance(message_id, bool) or not isinstance(message_id, int):
        raise ChatError("invalid_message_id", "message_id must be a whole number.")
    message = Message.objects.select_related("author").filter(pk=message_id, room=room).first()
    if message is None:
        raise ChatError("message_not_found", "There is no such message in this room.")
    if message.author_id == reporter.pk:
        raise ChatError("own_message", "For yourself, use 'I need help': a facilitator will come.")
    already = _concern_already(reporter, message.author_id, message.pk)
    if already is not None:  # facilitators have this concern already: nothing new to tell them
        return Raised(already, notify=False, new=False)
    return raise_alert(level="crisis", source=Alert.Source.PEER_REPORT, subject=message.author, room=room,
                       message=message, reporter=reporter)


def _concern_already(reporter: User, subject_id: int, message_id: int) -> Alert | None:
    """The open alert this reporter's concern about this message went into, if it did."""
    event = (AlertEvent.objects.select_related("alert")
             .filter(alert__status__in=Alert.UNRESOLVED, alert__subject_id=subject_id, actor=reporter,
                     detail__source=Alert.Source.PEER_REPORT, detail__message=message_id).first())
    return event.alert if event is not None else None


def concern_already_raised(reporter: User, room: Room, message_id) -> bool:
    """Asked before counting against the concern rate: the same concern again costs nothing."""
    if isinstance(message_id, bool) or not isinstance(message_id, int):
        return False
    author_id = Message.objects.filter(pk=message_id, room=room).values_list("author_id", flat=True).first()
    return author_id is not None and _concern_already(reporter, author_id, message_id) is not None


def resend_interval(level: str) -> int:
    return settings.ESCALATION["RESEND_SECONDS"].get(level, settings.ESCALATION["RESEND_SECONDS"]["crisis"])


def _open_alert(alert_id, facilitator: User) -> Alert:
    check_facilitator(facilitator)
    if isinstance(alert_id, bool) or not isinstance(alert_id, int):
        raise ChatError("invalid_alert", "alert_id must be a whole number.")
    alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise ChatError("alert_not_found", "There is no such alert.")
    return alert


def check_facilitator(user: User) -> None:
    if not user.is_facilitator:
        raise ChatError("not_allowed", "Only facilitators can do that.")


@transaction.atomic
def acknowledge_alert(alert_id, facilitator: User) -> Alert:
    alert = _open_alert(alert_id, facilitator)
    if alert.status == Alert.Status.RESOLVED:
        raise ChatError("alert_resolved", "That alert is already resolved.")
    if alert.status == Alert.Status.OPEN:
        alert.status = Alert.Status.ACKNOWLEDGED
        alert.acknowledged_at = clock.now()
        alert.assignee = facilitator
        alert.next_notify_at = None  # acknowledged: the watchdog stops re-sending
        alert.save()
        log(alert, "acknowledged", facilitator)
    return alert


@transaction.atomic
def resolve_alert(alert_id, facilitator: User, outcome, note) -> Alert:
    if outcome not in OUTCOMES:
        raise ChatError("invalid_outcome", f"outcome must be one of: {', '.join(OUTCOMES)}.")
    if not isinstance(note, str) or len(note) > 2000:
        raise ChatError("invalid_note", "note must be text of at most 2,000 characters.")
    alert = _open_alert(alert_id, facilitator)
    if alert.status == Alert.Status.RESOLVED:
        raise ChatError("alert_resolved", "That alert is already resolved.")
    now = clock.now()
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        log(alert, "acknowledged", facilitator)
    alert.status = Alert.Status.RESOLVED
    alert.resolved_at = now
    alert.assignee = alert.assignee or facilitator
    alert.outcome = outcome
    alert.note = note.strip()
    alert.next_notify_at = None
    alert.save()
    log(alert, "resolved", facilitator, outcome=outcome, note=alert.note)
    return alert


@transaction.atomic
def step_in(alert_id, facilitator: User) -> Alert:
    """Open (or reuse) a private support room for the person and facilitators."""
    alert = _open_alert(alert_id, facilitator)
    if alert.subject is None:
        raise ChatError("no_subject", "This alert has no person to talk to.")
    if alert.status == Alert.Status.OPEN:
        alert.status = Alert.Status.ACKNOWLEDGED
        alert.acknowledged_at = clock.now()
        alert.assignee = facilitator
        alert.next_notify_at = None
        log(alert, "acknowledged", facilitator)
    if alert.support_room is None:
        alert.support_room = Room.objects.create(
            slug=f"support-{alert.pk}-{secrets.token_hex(3)}",
            name=f"Private support with {alert.subject.username}",
            topic="Private support",
            description="A private space with a trained facilitator.",
            guidelines="This room is private: only you and our facilitators can read it.",
            is_private=True,
        )
        log(alert, "stepped_in", facilitator, room=alert.support_room.slug)
    for person in (alert.subject, facilitator):
        Membership.objects.get_or_create(room=alert.support_room, user=person)
    alert.save()
    return alert


def set_duty(facilitator: User, on_duty) -> FacilitatorDuty:
    check_facilitator(facilitator)
    if not isinstance(on_duty, bool):
        raise ChatError("invalid_duty", "on_duty must be true or false.")
    duty, _ = FacilitatorDuty.objects.get_or_create(user=facilitator)
    duty.on_duty = on_duty
    duty.last_seen_at = clock.now()
    duty.save()
    return duty


def seen(facilitator: User) -> FacilitatorDuty:
    duty, _ = FacilitatorDuty.objects.get_or_create(user=facilitator)
    duty.last_seen_at = clock.now()
    duty.save(update_fields=["last_seen_at"])
    return duty
