"""The escalation path end to end through the sockets: the person, the room, the console."""

import json
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.core import mail

from escalation import services
from escalation.models import Alert, AlertEvent
from rooms.models import Message
from tests.helpers import PATIENCE, drain, open_socket, receive, send, types_within

pytestmark = pytest.mark.django_db(transaction=True)
db = sync_to_async


async def on_duty_console(user):
    console, connected = await open_socket("/ws/facilitator/", user)
    assert connected
    state = await receive(console, "console.state")
    await send(console, type="duty.set", on_duty=True)
    assert (await receive(console, "duty"))["on_duty"] is True
    return console, state


async def in_room(user, slug="anxiety"):
    socket, connected = await open_socket(f"/ws/rooms/{slug}/", user)
    assert connected
    await receive(socket, "room.state")
    return socket


async def say(socket, body):
    await send(socket, type="message.send", client_id=str(uuid.uuid4()), body=body)


async def test_crisis_message_offers_help_to_its_author_alone_and_alerts_the_facilitator(
    alice, bob, maple, anxiety, hotlines, escalation_settings
):
    console, _ = await on_duty_console(maple)
    a, b = await in_room(alice), await in_room(bob)

    await say(a, "I want to die tonight, I have the pills ready")
    message = (await receive(b, "message.new"))["message"]  # still delivered to the room
    assert set(message) == {"id", "seq", "client_id", "room", "author", "body", "created_at"}  # no flag

    offer = await receive(a, "support.offer")
    assert offer["level"] == "imminent"
    primary = offer["hotlines"][0]
    assert (primary["name"], primary["tel"], primary["primary"]) == ("988 Suicide & Crisis Lifeline", "988", True)
    assert any(h["sms"] == "741741" and h["sms_body"] == "HOME" for h in offer["hotlines"])
    assert "support.offer" not in await types_within(b)

    alert = (await receive(console, "alert.new"))["alert"]
    assert (alert["level"], alert["source"], alert["status"]) == ("imminent", "detector", "open")
    assert alert["subject"]["name"] == "alice" and alert["room"]["slug"] == "anxiety"
    assert {s["category"] for s in alert["signals"]} >= {"ideation", "timing"}
    assert alert["message"]["id"] == message["id"]
    assert [m["id"] for m in alert["context"]] == [message["id"]]
    assert len(mail.outbox) == 0, "someone is on duty: no out-of-band message"
    for s in (a, b, console):
        await s.disconnect()


async def test_uk_person_gets_samaritans_and_an_unlisted_country_the_fallback(make_user, anxiety, hotlines):
    from escalation.hotlines import support_offer

    assert (await db(support_offer)("crisis", "GB"))["hotlines"][0]["phone"] == "116 123"
    assert (await db(support_offer)("crisis", "AU"))["hotlines"][0]["phone"] == "13 11 14"
    assert (await db(support_offer)("crisis", "IN"))["hotlines"][0]["phone"] == "14416"
    fallback = (await db(support_offer)("crisis", "FR"))["hotlines"]
    assert [h["url"] for h in fallback] == ["https://findahelpline.com"]


async def test_ordinary_and_distress_messages_raise_nothing(alice, maple, anxiety, hotlines):
    console, _ = await on_duty_console(maple)
    a = await in_room(alice)
    await say(a, "this exam is killing me lol")
    await say(a, "I feel so hopeless about everything")
    await receive(a, "message.new")
    await receive(a, "message.new")
    assert "support.offer" not in await types_within(a)
    assert "alert.new" not in await types_within(console)
    assert await db(Alert.objects.count)() == 0
    stored = await db(lambda: list(Message.objects.values_list("risk_level", flat=True).order_by("seq")))()
    assert stored == ["none", "distress"]
    await a.disconnect()
    await console.disconnect()


async def test_lifecycle_acknowledge_then_resolve_with_its_event_log(alice, maple, anxiety, hotlines):
    console, _ = await on_duty_console(maple)
    a = await in_room(alice)
    await say(a, "I want to kill myself")
    alert_id = (await receive(console, "alert.new"))["alert"]["id"]

    await send(console, type="alert.ack", alert_id=alert_id)
    updated = (await receive(console, "alert.updated"))["alert"]
    assert (updated["status"], updated["assignee"]["name"]) == ("acknowledged", "maple")

    await send(console, type="alert.resolve", alert_id=alert_id, outcome="connected_to_hotline", note="Called 988 together")
    resolved = (await receive(console, "alert.updated"))["alert"]
    assert (resolved["status"], resolved["outcome"], resolved["note"]) == ("resolved", "connected_to_hotline", "Called 988 together")

    events = await db(lambda: list(AlertEvent.objects.filter(alert_id=alert_id).values_list("kind", "actor__username")))()
    assert events == [("created", None), ("acknowledged", "maple"), ("resolved", "maple")]

    await send(console, type="alert.resolve", alert_id=alert_id, outcome="safe", note="")
    assert (await receive(console, "error"))["code"] == "alert_resolved"
    await send(console, type="alert.resolve", alert_id=alert_id, outcome="whatever", note="")
    assert (await receive(console, "error"))["code"] == "invalid_outcome"
    await send(console, type="alert.ack", alert_id=999999)
    assert (await receive(console, "error"))["code"] == "alert_not_found"

    again, _ = await open_socket("/ws/facilitator/", maple)
    assert (await receive(again, "console.state"))["alerts"] == []  # resolved alerts leave the queue
    for s in (a, console, again):
        await s.disconnect()


async def test_console_queue_is_ordered_by_level_then_age(alice, bob, maple, anxiety, grief, hotlines):
    a, b = await in_room(alice), await in_room(bob, "grief")
    await say(a, "I want to die")
    await receive(a, "message.new")
    await say(b, "I took 30 pills")
    await receive(b, "message.new")
    await send(a, type="help.request")
    await receive(a, "help.requested")
    console, _ = await open_socket("/ws/facilitator/", maple)
    alerts = (await receive(console, "console.state"))["alerts"]
    assert [(x["level"], x["subject"]["name"]) for x in alerts] == [("imminent", "bob"), ("crisis", "alice")]
    assert alerts[1]["source"] == "detector", "alice's help request joined her open alert"
    for s in (a, b, console):
        await s.disconnect()


async def test_routing_prefers_on_duty_facilitators_covering_the_topic(alice, make_user, anxiety, hotlines):
    from escalation.models import FacilitatorDuty

    grief_only = await db(make_user)("willow", role="facilitator")
    anxiety_cover = await db(make_user)("aspen", role="facilitator")
    off_duty = await db(make_user)("birch", role="facilitator")
    c_grief, _ = await on_duty_console(grief_only)
    c_anx, _ = await on_duty_console(anxiety_cover)
    c_off, _ = await open_socket("/ws/facilitator/", off_duty)
    await receive(c_off, "console.state")
    await db(FacilitatorDuty.objects.filter(user=grief_only).update)(topics=["Life events"])
    await db(FacilitatorDuty.objects.filter(user=anxiety_cover).update)(topics=["Mental health"])

    a = await in_room(alice)
    await say(a, "I want to die")  # crisis in a Mental health room
    assert (await receive(c_anx, "alert.new"))["alert"]["level"] == "crisis"
    assert "alert.new" not in await types_within(c_grief)
    assert "alert.new" not in await types_within(c_off)

    await say(a, "I took 30 pills")  # imminent: every on-duty facilitator, whatever they cover
    assert (await receive(c_grief, "alert.new"))["alert"]["level"] == "imminent"
    assert (await receive(c_anx, "alert.new"))["alert"]["level"] == "imminent"
    assert "alert.new" not in await types_within(c_off)
    for s in (a, c_grief, c_anx, c_off):
        await s.disconnect()


async def test_nobody_on_duty_reaches_every_online_facilitator_and_goes_out_of_band_at_once(
    alice, maple, anxiety, hotlines, escalation_settings
):
    console, state = await open_socket("/ws/facilitator/", maple)  # online but off duty
    assert (await receive(console, "console.state"))["on_duty"] is False
    a = await in_room(alice)
    await say(a, "I want to end my life")
    assert (await receive(console, "alert.new"))["alert"]["level"] == "crisis"
    # A socket handles frames in order: this answer means the send (and its mail) is done.
    await send(a, type="history.fetch", after=0)
    await receive(a, "history")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["oncall@example.org"] and "crisis alert" in sent.subject
    assert "alice" not in sent.body and "end my life" not in sent.body  # nothing private leaves
    alert = await db(Alert.objects.get)()
    assert alert.out_of_band_at is not None and not alert.out_of_band_due
    kinds = await db(lambda: list(alert.events.values_list("kind", flat=True)))()
    assert kinds == ["created", "out_of_band"]
    await a.disconnect()
    await console.disconnect()


async def test_help_request_is_a_self_referral(alice, maple, anxiety, hotlines):
    console, _ = await on_duty_console(maple)
    a = await in_room(alice)
    await send(a, type="help.request")
    assert "A facilitator has been asked to join you" in (await receive(a, "help.requested"))["text"]
    assert (await receive(a, "support.offer"))["hotlines"]
    alert = (await receive(console, "alert.new"))["alert"]
    assert (alert["source"], alert["subject"]["name"], alert["message"]) == ("self_referral", "alice", None)
    await a.disconnect()
    await console.disconnect()


async def test_a_facilitator_reading_a_room_hears_an_alert_raised_in_another(alice, bob, maple, anxiety, grief, hotlines):
    reading = await in_room(maple, "grief")  # no console open
    peer = await in_room(bob, "grief")
    a = await in_room(alice)
    await say(a, "I am going to jump off the bridge tonight")
    alert = (await receive(reading, "alert.new"))["alert"]
    assert (alert["subject"]["name"], alert["room"]["slug"], alert["level"]) == ("alice", "anxiety", "imminent")
    assert "alert.new" not in await types_within(peer, 0.5), "a peer's socket never hears alerts"
    for socket in (reading, peer, a):
        await socket.disconnect()


async def test_acknowledge_step_in_and_resolve_are_in_the_consoles_audit_log(alice, maple, anxiety, hotlines):
    console, _ = await on_duty_console(maple)
    a = await in_room(alice)
    await send(a, type="help.request")
    alert_id = (await receive(console, "alert.new"))["alert"]["id"]
    for frame in ({"type": "alert.ack"}, {"type": "alert.step_in"},
                  {"type": "alert.resolve", "outcome": "safe", "note": "talked it through"}):
        await send(console, alert_id=alert_id, **frame)
        await receive(console, "alert.updated")

    await send(console, type="audit.fetch", person="alice")
    entries = (await receive(console, "audit"))["entries"]
    assert [(e["action"], e["actor"], e["target"], e["room"]) for e in entries if e["action"].startswith("alert_")] \
        == [(action, "maple", "alice", "anxiety") for action in ("alert_resolve", "alert_step_in", "alert_acknowledge")]
    assert "talked it through" not in json.dumps(entries), "the note stays with the alert"
    await a.disconnect()
    await console.disconnect()


async def test_help_asked_with_nobody_on_duty_says_so_and_puts_the_hotline_first(alice, bob, maple, anxiety, hotlines):
    console, connected = await open_socket("/ws/facilitator/", maple)  # open, but off duty
    await receive(console, "console.state")
    a = await in_room(alice)
    await send(a, type="help.request")
    answer = (await receive(a, "help.requested"))["text"]
    assert "No facilitator is on duty right now, so we have alerted the team" in answer
    assert (await receive(a, "support.offer"))["hotlines"]
    assert (await receive(console, "alert.new"))["alert"]["source"] == "self_referral"  # still told
    await console.disconnect()

    # Nobody at all to reach (no console open, nothing out of band): the page says only what is true.
    other = await in_room(bob)
    await send(other, type="help.request")
    answer = (await receive(other, "help.requested"))["text"]
    assert "No facilitator is on duty right now. If you might be in danger" in answer
    assert "alerted" not in answer
    await a.disconnect()
    await other.disconnect()


async def test_peer_concern_reports_the_message_and_its_author(alice, bob, maple, anxiety, grief, hotlines):
    console, _ = await on_duty_console(maple)
    a, b = await in_room(alice), await in_room(bob)
    await say(a, "nobody would miss me")
    message_id = (await receive(b, "message.new"))["message"]["id"]
    await send(b, type="peer.concern", message_id=message_id)
    assert (await receive(b, "concern.received"))["message_id"] == message_id
    alert = (await receive(console, "alert.new"))["alert"]
    assert (alert["source"], alert["subject"]["name"], alert["reporter"]["name"]) == ("peer_report", "alice", "bob")
    assert "support.offer" not in await types_within(a), "a report alone does not confront the person"

    await send(a, type="peer.concern", message_id=message_id)
    assert (await receive(a, "error"))["code"] == "own_message"
    other = await db(Message.objects.create)(room=grief, seq=1, author=alice, body="elsewhere")
    await send(b, type="peer.concern", message_id=other.pk)
    assert (await receive(b, "error"))["code"] == "message_not_found"
    await send(b, type="peer.concern", message_id="12")
    assert (await receive(b, "error"))["code"] == "invalid_message_id"
    for s in (a, b, console):
        await s.disconnect()


async def test_step_in_opens_a_private_room_and_invites_the_person(alice, bob, maple, make_user, anxiety, hotlines):
    console, _ = await on_duty_console(maple)
    a = await in_room(alice)
    await say(a, "I want to die")
    alert_id = (await receive(console, "alert.new"))["alert"]["id"]
    await send(console, type="alert.step_in", alert_id=alert_id)
    updated = (await receive(console, "alert.updated"))["alert"]
    assert updated["status"] == "acknowledged"
    slug = updated["support_room"]["slug"]
    invite = await receive(a, "support.invite")
    assert invite["room"]["slug"] == slug and invite["facilitator"]["name"] == "maple"

    alice_private = await in_room(alice, slug)
    maple_private = await in_room(maple, slug)
    other_facilitator = await db(make_user)("rowan", role="facilitator")
    assert (await open_socket(f"/ws/rooms/{slug}/", other_facilitator))[1]
    _, bob_in = await open_socket(f"/ws/rooms/{slug}/", bob)
    assert not bob_in, "a private support room is closed to other peers"
    await say(maple_private, "Hi alice, I'm here. Do you feel safe right now?")
    received = (await receive(alice_private, "message.new"))["message"]
    assert received["author"]["role"] == "facilitator"
    for s in (a, console, alice_private, maple_private):
        await s.disconnect()


async def test_console_is_refused_to_peers_and_anonymous(alice, anxiety):
    assert not (await open_socket("/ws/facilitator/", alice))[1]
    assert not (await open_socket("/ws/facilitator/"))[1]


async def test_peers_cannot_act_on_alerts_even_by_calling_the_service(alice, maple, anxiety, hotlines):
    from rooms.errors import ChatError

    raised = await db(services.request_help)(alice, anxiety)
    with pytest.raises(ChatError) as refusal:
        await db(services.acknowledge_alert)(raised.alert.pk, alice)
    assert refusal.value.code == "not_allowed"


async def test_duty_survives_a_reconnect(maple, anxiety):
    console, _ = await on_duty_console(maple)
    await console.disconnect()
    again, _ = await open_socket("/ws/facilitator/", maple)
    assert (await receive(again, "console.state"))["on_duty"] is True
    await again.disconnect()


async def test_reports_reach_the_console_live_and_can_be_closed(alice, bob, maple, anxiety):
    console, state = await open_socket("/ws/facilitator/", maple)
    assert (await receive(console, "console.state"))["reports"] == []
    a, b = await in_room(alice), await in_room(bob)
    await say(a, "buy cheap pills at example.com")
    message_id = (await receive(b, "message.new"))["message"]["id"]
    await send(b, type="message.report", message_id=message_id, reason="spam", note="ad")
    report = (await receive(console, "report.new"))["report"]
    assert (report["reason"], report["reporter"]["name"], report["message"]["id"]) == ("spam", "bob", message_id)
    await send(console, type="report.close", report_id=report["id"])
    assert (await receive(console, "report.updated"))["report"]["closed"] is True
    again, _ = await open_socket("/ws/facilitator/", maple)
    assert (await receive(again, "console.state"))["reports"] == []
    for s in (a, b, console, again):
        await s.disconnect()


async def test_console_audit_log_filters_by_action_room_and_person(alice, bob, maple, anxiety, grief):
    m1, m2 = await in_room(maple), await in_room(maple, "grief")
    await send(m1, type="mod.timeout", user_id=alice.pk, seconds=60, reason="calm")
    await receive(m1, "mod.done")
    await send(m2, type="mod.lock", locked=True)
    await receive(m2, "room.updated")
    await send(m1, type="mod.kick", user_id=bob.pk)
    await receive(m1, "mod.done")
    console, _ = await open_socket("/ws/facilitator/", maple)
    await receive(console, "console.state")
    await send(console, type="audit.fetch")
    everything = (await receive(console, "audit"))["entries"]
    assert [e["action"] for e in everything] == ["kick", "lock", "timeout"]  # newest first
    await send(console, type="audit.fetch", room="grief")
    assert [e["action"] for e in (await receive(console, "audit"))["entries"]] == ["lock"]
    await send(console, type="audit.fetch", person="alice")
    only = (await receive(console, "audit"))["entries"]
    assert [(e["action"], e["actor"], e["target"], e["reason"]) for e in only] == [("timeout", "maple", "alice", "calm")]
    await send(console, type="audit.fetch", action="kick")
    assert [e["target"] for e in (await receive(console, "audit"))["entries"]] == ["bob"]
    for s in (m1, m2, console):
        await s.disconnect()


async def test_a_room_can_hold_imminent_messages_until_a_facilitator_restores_them(
    alice, bob, maple, anxiety, hotlines, escalation_settings
):
    from rooms.models import AuditEntry, Room

    await db(Room.objects.filter(pk=anxiety.pk).update)(hold_imminent=True)
    console, _ = await on_duty_console(maple)
    a, b, m = await in_room(alice), await in_room(bob), await in_room(maple)

    await say(a, "I am going to jump off the bridge tonight")
    got = {}
    while len(got) < 2:  # the card and the author's own copy, in either order
        frame = json.loads(await a.receive_from(timeout=PATIENCE))
        if frame["type"] in ("support.offer", "message.new"):
            got[frame["type"]] = frame
    own = got["message.new"]["message"]
    assert own["hidden"] is True and own["seq"] is None  # the author sees it, held, outside the room's order
    seen_by_facilitator = (await receive(m, "message.new"))["message"]
    assert seen_by_facilitator["id"] == own["id"] and seen_by_facilitator["hidden"] is True
    assert (await receive(console, "alert.new"))["alert"]["level"] == "imminent"
    assert "message.new" not in await types_within(b, 0.5)  # peers: nothing yet
    await send(b, type="history.fetch", before=100)
    assert (await receive(b, "history"))["messages"] == []
    assert await db(lambda: AuditEntry.objects.filter(action="hold", message_id=own["id"]).exists())()

    # After a reload the author still has it, marked as held; a peer still has nothing.
    for person, expected in ((alice, [(own["id"], True)]), (bob, [])):
        again, _ = await open_socket("/ws/rooms/anxiety/", person)
        history = (await receive(again, "room.state"))["history"]
        assert [(m["id"], m.get("hidden")) for m in history] == expected
        await send(again, type="history.fetch", before=100)  # pages hold the room's order only
        assert (await receive(again, "history"))["messages"] == []
        await again.disconnect()

    # A calm message in the same room is not held, and takes seq 1: no gap tells a peer that
    # something was held, nor (with the typing just before) whose it was.
    await say(a, "thanks for being here")
    calm = (await receive(b, "message.new"))["message"]
    assert (calm["body"], calm["seq"]) == ("thanks for being here", 1)

    await send(m, type="mod.restore", message_id=own["id"])
    restored = (await receive(b, "message.new"))["message"]  # new to peers, at the next seq
    assert (restored["id"], restored["seq"]) == (own["id"], 2) and "hidden" not in restored
    swapped = [f["message"] for f in await drain(a, 1.0) if f["type"] == "message.new"]
    assert [(x["id"], x["seq"]) for x in swapped if x["id"] == own["id"]] == [(own["id"], 2)]
    again, _ = await open_socket("/ws/rooms/anxiety/", bob)
    assert [x["seq"] for x in (await receive(again, "room.state"))["history"]] == [1, 2]
    for socket in (a, b, m, console, again):
        await socket.disconnect()


async def test_what_someone_says_while_their_alert_is_open_is_read_beside_it(alice, bob, maple, anxiety, grief, hotlines):
    console, _ = await on_duty_console(maple)
    a, b = await in_room(alice), await in_room(bob)
    await say(b, "im at the bridge rn")  # nobody is worried about bob: a place, nothing more
    await receive(b, "message.new")
    await say(a, "I want to kill myself")
    first = (await receive(console, "alert.new"))["alert"]
    assert (first["level"], first["subject"]["name"]) == ("crisis", "alice")
    assert (await receive(a, "support.offer"))["level"] == "crisis"

    await say(a, "im at the bridge rn")
    raised = (await receive(console, "alert.new"))["alert"]
    assert (raised["id"], raised["level"]) == (first["id"], "imminent")
    reasons = {(s["category"], s["text"], s.get("earlier", False)) for s in raised["signals"]}  # both messages'
    assert ("method", "im at the bridge", False) in reasons
    assert ("ideation", True) in {(category, earlier) for category, _, earlier in reasons}
    assert (await receive(a, "support.offer"))["level"] == "imminent"
    elsewhere = await in_room(alice, "grief")  # the risk is the person's, not the room's
    await say(elsewhere, "my mind is made up")
    other = (await receive(console, "alert.new"))["alert"]
    assert (other["room"]["slug"], other["level"]) == ("grief", "imminent")
    await elsewhere.disconnect()

    for alert in (first, other):
        await send(console, type="alert.resolve", alert_id=alert["id"], outcome="safe", note="Walked home, called her sister")
        await receive(console, "alert.updated")
    await say(a, "standing on the bridge rn")  # the alerts are closed: read alone again
    assert (await receive(a, "message.new"))["message"]["body"] == "standing on the bridge rn"
    assert "alert.new" not in await types_within(console)
    stored = await db(lambda: list(Message.objects.order_by("id").values_list("author__username", "risk_level")))()
    assert stored == [("bob", "none"), ("alice", "crisis"), ("alice", "imminent"), ("alice", "imminent"), ("alice", "none")]
    for s in (a, b, console):
        await s.disconnect()


async def test_a_goodbye_soon_after_a_distress_message_is_read_as_a_goodbye_note(
    alice, bob, maple, anxiety, grief, hotlines, monkeypatch
):
    from datetime import timedelta

    from rooms.clock import clock

    now = [clock.now()]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    console, _ = await on_duty_console(maple)
    a, b = await in_room(alice), await in_room(bob)
    await say(b, "i've said my goodbyes")  # bob said nothing worrying before: a goodbye, nothing more
    await receive(b, "message.new")
    await say(a, "i can't do this anymore")  # distress: no alert, no offer
    await receive(a, "message.new")
    await receive(b, "message.new")
    assert "alert.new" not in await types_within(console)

    now[0] += timedelta(minutes=20)
    elsewhere = await in_room(alice, "grief")  # what she said is hers, in any room
    await say(elsewhere, "i've said my goodbyes")
    alert = (await receive(console, "alert.new"))["alert"]
    assert (alert["level"], alert["room"]["slug"], alert["subject"]["name"]) == ("imminent", "grief", "alice")
    reasons = {(s["category"], s.get("earlier", False)) for s in alert["signals"]}
    assert {("farewell", False), ("hopelessness", True)} <= reasons  # the earlier message is part of why
    assert (await receive(elsewhere, "support.offer"))["level"] == "imminent"
    await send(console, type="alert.resolve", alert_id=alert["id"], outcome="safe", note="Talked it through")
    await receive(console, "alert.updated")

    await say(b, "everything is so hopeless")
    await receive(b, "message.new")
    now[0] += timedelta(minutes=31)  # long enough ago: read alone again
    await say(b, "goodbye everyone")
    await receive(b, "message.new")
    assert "alert.new" not in await types_within(console)
    for s in (a, b, elsewhere, console):
        await s.disconnect()
