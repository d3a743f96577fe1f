"""Who hears about an alert: on-duty facilitators first, everyone when nobody is there."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from rooms.clock import clock
from rooms.models import FACILITATORS_GROUP
from rooms.selectors import live_since

from .models import Alert, ConsoleConnection, FacilitatorDuty


def facilitators():
    """People who hold the role now: a console opened before a demotion does not count."""
    people = get_user_model().objects.filter(is_active=True)
    return people.filter(Q(groups__name=FACILITATORS_GROUP) | Q(is_staff=True) | Q(is_superuser=True))


def all_facilitators() -> set[int]:
    return set(facilitators().values_list("pk", flat=True))


def online_facilitators() -> set[int]:
    live = ConsoleConnection.objects.filter(server__seen_at__gte=live_since(), user__in=facilitators())
    return set(live.values_list("user_id", flat=True))


def on_duty_facilitators() -> dict[int, list[str]]:
    """user id -> topics covered (empty: all). Duty lapses once gone longer than the grace time."""
    grace = timedelta(seconds=settings.ESCALATION["DUTY_GRACE_SECONDS"])
    online = online_facilitators()
    duties = FacilitatorDuty.objects.filter(on_duty=True, user__in=facilitators())
    return {
        d.user_id: d.topics
        for d in duties
        if d.user_id in online or (d.last_seen_at and d.last_seen_at >= clock.now() - grace)
    }


def route(alert: Alert) -> tuple[set[int], bool]:
    """(facilitator ids to notify, whether to go out of band now)."""
    if alert.widened:
        return all_facilitators(), True
    on_duty = on_duty_facilitators()
    if on_duty:
        topic = alert.room.topic if alert.room else None
        covering = {uid for uid, topics in on_duty.items() if not topics or topic in topics}
        if alert.level == "imminent" or not covering:
            return set(on_duty), False
        return covering, False
    # Nobody on duty: every facilitator who has a console open, and someone out of band at once.
    return online_facilitators() or all_facilitators(), True
