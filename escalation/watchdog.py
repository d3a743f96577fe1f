"""Re-send unacknowledged alerts, widen the audience, go out of band. State lives in the database,
so a restarted watchdog carries on where the last one stopped."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from rooms.clock import clock

from . import audience
from .models import Alert, Notification
from .outofband import send_out_of_band
from .payloads import alert_frame
from .services import log, resend_interval

logger = logging.getLogger(__name__)


def tick() -> dict:
    """One pass; returns counts of what it did."""
    done = {"resent": 0, "widened": 0, "out_of_band": 0, "outbox_expired": 0}
    for alert_id in list(
        Alert.objects.filter(status=Alert.Status.OPEN, next_notify_at__lte=clock.now()).values_list("pk", flat=True)
    ):
        done["widened"] += _resend(alert_id)
        done["resent"] += 1
    for alert_id in list(Alert.objects.filter(out_of_band_due=True).values_list("pk", flat=True)):
        done["out_of_band"] += deliver_out_of_band(alert_id)
    try:  # housekeeping last, on its own: it must never cost a pass its re-sends
        done["outbox_expired"] = expire_outbox()
    except Exception:
        logger.warning("outbox expiry failed; the next pass tries again", exc_info=True)
    return done


def expire_outbox() -> int:
    """Delete outbox rows every relay has long handed on (the relay gives up on a row after a minute)."""
    keep = timedelta(seconds=settings.ESCALATION["OUTBOX_KEEP_SECONDS"])
    return Notification.objects.filter(created_at__lt=clock.now() - keep).delete()[0]


def forget_outbox_rows_of(user) -> int:
    """On account deletion: outbox frames about the person, for them, or quoting their words as
    context of someone else's alert (every payload names a person as {"id": ..., "name": ...})."""
    named = f'"id":{user.pk},"name":'
    return Notification.objects.filter(Q(alert__subject=user) | Q(person=user) | Q(text__contains=named)).delete()[0]


@transaction.atomic
def _resend(alert_id: int) -> int:
    # Re-read under lock: another watchdog, or an acknowledgement, may have got there first.
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    now = clock.now()
    if alert.status != Alert.Status.OPEN or not alert.next_notify_at or alert.next_notify_at > now:
        return 0
    widened = 0
    alert.notify_count += 1
    if not alert.widened and alert.notify_count > settings.ESCALATION["WIDEN_AFTER"]:
        alert.widened = True
        alert.out_of_band_due = alert.out_of_band_at is None
        widened = 1
        log(alert, "widened", None, notify_count=alert.notify_count)
    recipients, out_of_band = audience.route(alert)
    if out_of_band and alert.out_of_band_at is None:
        alert.out_of_band_due = True
    alert.next_notify_at = now + timedelta(seconds=resend_interval(alert.level))
    alert.save()
    # Stamped with the moment the re-send was decided, as its schedule and its Notification are:
    # the queries in between can take a second on a loaded host.
    log(alert, "renotified", None, at=now, notify_count=alert.notify_count, recipients=sorted(recipients))
    Notification.objects.create(
        alert=alert, recipients=sorted(recipients), text=alert_frame("alert.new", alert), created_at=now
    )
    return widened


def deliver_out_of_band(alert_id: int) -> int:
    """Send a due out-of-band message once (the web process at once, the watchdog as a retry)."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        if not alert.out_of_band_due:
            return 0
        try:
            channels = send_out_of_band(alert)
        except OSError as exc:
            log(alert, "out_of_band_failed", None, error=str(exc))
            return 0  # stays due: the next tick tries again
        alert.out_of_band_due = False
        if not channels:  # nothing configured: nobody outside was told, and the record says so, once
            alert.save()
            if not alert.events.filter(kind="out_of_band_unconfigured").exists():
                logger.error("alert %s was due out of band, but no ONCALL_EMAIL or WEBHOOK_URL is set", alert.pk)
                log(alert, "out_of_band_unconfigured", None)
            return 0
        alert.out_of_band_at = clock.now()
        alert.save()
        log(alert, "out_of_band", None, channels=channels)
        return 1
