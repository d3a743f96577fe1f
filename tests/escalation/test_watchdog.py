"""The watchdog on a controllable clock: re-sends, widening, out of band, restarts."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from asgiref.sync import sync_to_async
from django.core import mail

from escalation import services, watchdog
from escalation.models import Alert, FacilitatorDuty, Notification
from tests.helpers import PATIENCE, open_socket, receive, send


@pytest.fixture
def on_duty(maple):
    services.set_duty(maple, True)
    return maple


def crisis(alice, room, level="crisis"):
    from django.db import transaction

    with transaction.atomic():
        return services.raise_alert(level=level, source="detector", subject=alice, room=room).alert


@pytest.mark.django_db
def test_imminent_is_resent_every_30_seconds_until_acknowledged(alice, anxiety, on_duty, frozen):
    alert = crisis(alice, anxiety, "imminent")
    assert watchdog.tick()["resent"] == 0
    frozen(29)
    assert watchdog.tick()["resent"] == 0
    frozen(2)
    assert watchdog.tick()["resent"] == 1
    assert watchdog.tick()["resent"] == 0, "a second pass at the same moment sends nothing twice"
    note = Notification.objects.get()
    assert note.recipients == [on_duty.pk]
    assert json.loads(note.text)["alert"]["id"] == alert.pk
    services.acknowledge_alert(alert.pk, on_duty)
    frozen(300)
    assert watchdog.tick()["resent"] == 0
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_crisis_is_resent_every_120_seconds(alice, anxiety, on_duty, frozen):
    crisis(alice, anxiety)
    frozen(100)
    assert watchdog.tick()["resent"] == 0
    frozen(21)
    assert watchdog.tick()["resent"] == 1


@pytest.mark.django_db
def test_unanswered_alert_widens_to_every_facilitator_and_goes_out_of_band(
    alice, anxiety, on_duty, make_user, frozen, escalation_settings
):
    other = make_user("rowan", role="facilitator")  # off duty, no console open
    alert = crisis(alice, anxiety, "imminent")
    for _ in range(2):  # sends 2 and 3 (the first went out when it was raised) stay on duty
        frozen(31)
        watchdog.tick()
    assert Notification.objects.last().recipients == [on_duty.pk]
    assert len(mail.outbox) == 0
    frozen(31)
    done = watchdog.tick()
    assert done["widened"] == 1 and done["out_of_band"] == 1
    assert set(Notification.objects.last().recipients) == {on_duty.pk, other.pk}
    assert len(mail.outbox) == 1
    alert.refresh_from_db()
    assert alert.widened and alert.out_of_band_at
    kinds = list(alert.events.values_list("kind", flat=True))
    assert kinds == ["created", "renotified", "renotified", "widened", "renotified", "out_of_band"]
    frozen(31)
    watchdog.tick()
    assert len(mail.outbox) == 1, "out of band once, not on every re-send"


@pytest.mark.django_db
def test_a_restarted_watchdog_carries_on_from_the_database(alice, anxiety, on_duty, frozen):
    crisis(alice, anxiety, "imminent")
    frozen(31)
    watchdog.tick()
    # "restart": nothing is held in memory, so a fresh pass sees exactly the stored schedule
    import importlib

    importlib.reload(watchdog)
    assert watchdog.tick()["resent"] == 0
    frozen(31)
    assert watchdog.tick()["resent"] == 1
    assert Alert.objects.get().notify_count == 3


@pytest.mark.django_db
def test_failed_out_of_band_is_retried_on_the_next_pass(alice, anxiety, frozen, escalation_settings, monkeypatch):
    attempts = []

    def flaky(alert):
        attempts.append(alert.pk)
        if len(attempts) == 1:
            raise OSError("mail server down")
        return ["email"]

    monkeypatch.setattr(watchdog, "send_out_of_band", flaky)
    alert = crisis(alice, anxiety)  # nobody on duty: due at once
    assert watchdog.tick()["out_of_band"] == 0
    assert watchdog.tick()["out_of_band"] == 1
    assert list(alert.events.values_list("kind", flat=True)) == ["created", "out_of_band_failed", "out_of_band"]


class _Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append((self.headers["X-Signature"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.django_db
def test_webhook_is_posted_signed_to_a_local_receiver(alice, anxiety, settings):
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.received.clear()
    settings.ESCALATION = {
        **settings.ESCALATION,
        "WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/hook",
        "WEBHOOK_SECRET": "s3cret",
    }
    try:
        alert = crisis(alice, anxiety)
        assert watchdog.tick()["out_of_band"] == 1
    finally:
        server.shutdown()
    signature, body = _Receiver.received[0]
    assert signature == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    payload = json.loads(body)
    assert (payload["alert"], payload["level"], payload["room"]) == (alert.pk, "crisis", "anxiety")
    assert "alice" not in body.decode()


@pytest.mark.django_db
def test_duty_lapses_after_the_grace_period_without_a_console(alice, anxiety, maple, frozen, settings):
    from escalation.audience import on_duty_facilitators

    services.set_duty(maple, True)
    assert maple.pk in on_duty_facilitators()
    frozen(settings.ESCALATION["DUTY_GRACE_SECONDS"] + 1)
    assert on_duty_facilitators() == {}
    assert FacilitatorDuty.objects.get(user=maple).on_duty, "the choice is kept for when they return"


async def resend_reaches_an_on_duty_console(maple, alice, anxiety, frozen):
    console, _ = await open_socket("/ws/facilitator/", maple)
    await receive(console, "console.state")
    await send(console, type="duty.set", on_duty=True)
    await receive(console, "duty")
    alert = await sync_to_async(crisis)(alice, anxiety, "imminent")
    frozen(31)
    await sync_to_async(watchdog.tick)()  # as the worker process would
    resent = await receive(console, "alert.new")
    assert resent["alert"]["id"] == alert.pk and resent["alert"]["notify_count"] == 2
    await console.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_watchdog_resend_reaches_a_live_console_through_the_outbox(
    alice, anxiety, maple, hotlines, escalation_settings, frozen
):
    await resend_reaches_an_on_duty_console(maple, alice, anxiety, frozen)


@pytest.mark.django_db(transaction=True)
async def test_the_outbox_goes_on_reaching_consoles_after_the_console_that_started_it_closed(
    alice, anxiety, maple, hotlines, escalation_settings, frozen
):
    """The first console of a process starts the outbox relay; the relay outlives it."""
    first, _ = await open_socket("/ws/facilitator/", maple)
    await receive(first, "console.state")
    await first.disconnect()
    await resend_reaches_an_on_duty_console(maple, alice, anxiety, frozen)


@pytest.mark.django_db
def test_out_of_band_with_no_channel_configured_is_not_recorded_as_sent(alice, anxiety, settings, caplog, frozen):
    settings.ESCALATION = {**settings.ESCALATION, "ONCALL_EMAIL": "", "WEBHOOK_URL": ""}
    alert = crisis(alice, anxiety)  # nobody on duty: due at once

    assert watchdog.tick()["out_of_band"] == 0

    alert.refresh_from_db()
    assert alert.out_of_band_at is None and not alert.out_of_band_due
    assert list(alert.events.values_list("kind", flat=True)) == ["created", "out_of_band_unconfigured"]
    assert "no ONCALL_EMAIL or WEBHOOK_URL" in caplog.text
    for _ in range(3):  # re-sent again and again, still unanswered: recorded once
        frozen(121)
        watchdog.tick()
    kinds = list(alert.events.values_list("kind", flat=True))
    assert kinds.count("renotified") == 3 and kinds.count("out_of_band_unconfigured") == 1
