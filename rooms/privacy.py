"""A person's own data: download it, delete the account, and age old messages out.

What stays after an account is deleted, and why, is written up in docs/privacy.md.
"""

from datetime import timedelta

from axes.models import AccessAttempt, AccessLog
from django.db import transaction

from .clock import clock
from .models import Membership, Message, PersonalMute, Report, Room, Sanction, User

# A space is outside the sign-up alphabet, so no one can register this name and
# inherit a deleted person's messages.
FORMER_MEMBER = "former member"


def former_member() -> User:
    """The one shared author that deleted accounts' messages are moved to."""
    user, created = User.objects.get_or_create(username=FORMER_MEMBER, defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _when(value):
    return value.isoformat() if value is not None else None


def export_user_data(user: User) -> dict:
    """Everything the person gave us or did as themselves. Crisis flags and alerts are
    facilitators' working notes and are left out (docs/privacy.md)."""
    messages = Message.objects.filter(author=user).select_related("room").order_by("created_at", "pk")
    return {
        "exported_at": _when(clock.now()),
        "account": {
            "pseudonym": user.username,
            "email": user.email,
            "country": user.country.code or "",
            "joined_at": _when(user.date_joined),
            "last_login": _when(user.last_login),
        },
        "rooms": [
            {"room": m.room.slug, "name": m.room.name, "joined_at": _when(m.joined_at)}
            for m in Membership.objects.filter(user=user).select_related("room").order_by("joined_at")
        ],
        "messages": [
            {"room": m.room.slug, "seq": m.seq, "body": m.body, "created_at": _when(m.created_at),
             "hidden_by_moderators": m.hidden_at is not None}
            for m in messages
        ],
        "reports_made": [
            {"room": r.message.room.slug, "message_seq": r.message.seq, "reason": r.reason, "note": r.note,
             "created_at": _when(r.created_at), "closed": r.closed_at is not None}
            for r in Report.objects.filter(reporter=user).select_related("message__room").order_by("created_at")
        ],
        "muted": sorted(PersonalMute.objects.filter(user=user).values_list("muted__username", flat=True)),
        "sanctions": [
            {"kind": s.kind, "room": s.room.slug if s.room else None, "created_at": _when(s.created_at),
             "until": _when(s.until), "lifted_at": _when(s.lifted_at)}
            for s in Sanction.objects.filter(user=user).select_related("room").order_by("created_at")
        ],
    }


@transaction.atomic
def delete_account(user: User) -> None:
    """Delete the account; its messages stay in their rooms under the shared former-member
    name, and alerts stay for the safety record with no link to the person."""
    from escalation.models import Alert
    from escalation.services import log
    from escalation.watchdog import forget_outbox_rows_of

    if user.username == FORMER_MEMBER:
        raise ValueError("The former-member account holds deleted people's messages.")
    sentinel = former_member()
    Message.objects.filter(author=user).update(author=sentinel)
    for alert in Alert.objects.filter(subject=user):
        log(alert, "subject_account_deleted", None)
    forget_outbox_rows_of(user)  # frames not yet expired that are about them or quote them
    # Support rooms are named after the person they were opened for.
    Room.objects.filter(support_for__subject=user).update(name="Private support (former member)")
    AccessAttempt.objects.filter(username=user.username).delete()
    AccessLog.objects.filter(username=user.username).delete()
    # Memberships, presence, sanctions, mutes and duty go with the row; alerts, reports and
    # audit entries keep their record with the person's link set to empty. Their open sockets end
    # once this commits (rooms/standing.py).
    user.delete()


def purge_old_messages(older_than_days: int, *, dry_run: bool = False, batch: int = 1000) -> int:
    """Delete messages older than the given age, except those still needed for safety:
    evidence of an unresolved alert or an open report, and a room's pinned message."""
    from escalation.models import Alert

    cutoff = clock.now() - timedelta(days=older_than_days)
    doomed = (
        Message.objects.filter(created_at__lt=cutoff)
        .exclude(pk__in=Alert.objects.filter(status__in=Alert.UNRESOLVED, message__isnull=False).values("message"))
        .exclude(pk__in=Report.objects.filter(closed_at__isnull=True).values("message"))
        .exclude(pk__in=Room.objects.filter(pinned_message__isnull=False).values("pinned_message"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if dry_run:
        return doomed.count()
    deleted = 0
    while ids := list(doomed[:batch]):
        with transaction.atomic():
            deleted += Message.objects.filter(pk__in=ids).delete()[1].get("rooms.Message", 0)
    return deleted


def purge_old_sign_in_records(older_than_days: int, *, dry_run: bool = False) -> int:
    """Sign-in records (pseudonym, IP address, browser) older than the age, and expired sessions."""
    from django.contrib.sessions.models import Session

    cutoff = clock.now() - timedelta(days=older_than_days)
    doomed = [AccessLog.objects.filter(attempt_time__lt=cutoff),
              AccessAttempt.objects.filter(attempt_time__lt=cutoff),
              Session.objects.filter(expire_date__lt=clock.now())]
    if dry_run:
        return sum(query.count() for query in doomed)
    return sum(query.delete()[0] for query in doomed)
