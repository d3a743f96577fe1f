"""Reach someone outside the app: e-mail to the on-call address and an optional signed webhook."""

import hashlib
import hmac
import json
import logging
import urllib.request

from django.conf import settings
from django.core.mail import send_mail

from .models import Alert

log = logging.getLogger(__name__)


def summary(alert: Alert) -> dict:
    """What leaves the service: no message text and no pseudonym, only what on-call needs to act."""
    return {
        "alert": alert.pk,
        "level": alert.level,
        "source": alert.source,
        "room": alert.room.slug if alert.room else None,
        "created_at": alert.created_at.isoformat(),
        "notified_times": alert.notify_count,
        "console": settings.ESCALATION["CONSOLE_URL"],
    }


def sign(body: bytes) -> str:
    key = settings.ESCALATION["WEBHOOK_SECRET"].encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def send_out_of_band(alert: Alert) -> list[str]:
    """Send by every configured channel; returns the channels that went out (raises if none did)."""
    cfg = settings.ESCALATION
    facts = summary(alert)
    sent, errors = [], []
    if cfg["ONCALL_EMAIL"]:
        try:
            send_mail(
                subject=f"[peer support] {alert.level} alert #{alert.pk} needs a facilitator",
                message="An alert has not been picked up by an on-duty facilitator.\n\n"
                + "\n".join(f"{k}: {v}" for k, v in facts.items()),
                from_email=None,
                recipient_list=[cfg["ONCALL_EMAIL"]],
            )
            sent.append("email")
        except Exception as exc:  # one channel failing must not stop the other
            errors.append(f"email: {exc}")
    if cfg["WEBHOOK_URL"]:
        body = json.dumps(facts).encode()
        request = urllib.request.Request(
            cfg["WEBHOOK_URL"], data=body, method="POST",
            headers={"Content-Type": "application/json", "X-Signature": sign(body)},
        )
        try:
            with urllib.request.urlopen(request, timeout=cfg["WEBHOOK_TIMEOUT_SECONDS"]) as response:
                if response.status >= 300:
                    raise OSError(f"HTTP {response.status}")
            sent.append("webhook")
        except Exception as exc:
            errors.append(f"webhook: {exc}")
    if errors:
        log.warning("out-of-band delivery for alert %s: %s", alert.pk, "; ".join(errors))
    if not sent and (cfg["ONCALL_EMAIL"] or cfg["WEBHOOK_URL"]):
        raise OSError("; ".join(errors))
    return sent
