"""A person's own data: the download, deleting the account, and message retention."""

import json
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db.models import Q
from django.test import Client
from django.urls import reverse

from escalation import services as escalation
from escalation.models import Alert, AlertEvent
from rooms import moderation, privacy, services
from rooms.clock import clock
from rooms.models import Membership, Message, Report, Room, User
from tests.helpers import PATIENCE, open_socket, receive

pytestmark = pytest.mark.django_db

CRISIS = "i am going to kill myself tonight, i have the pills ready"


def post(room, author, body):
    return services.post_message(room, author, uuid.uuid4(), body).message


def can_log_in(username, password) -> bool:
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_download_holds_my_messages_rooms_reports_and_mutes_but_no_crisis_flags(alice, bob, anxiety, grief):
    services.enter_room("anxiety", alice)
    services.enter_room("grief", alice)
    post(anxiety, alice, "hello all")
    post(anxiety, alice, CRISIS)
    theirs = post(anxiety, bob, "bob was here")
    moderation.report(alice, anxiety, theirs.pk, "spam", "adverts")
    moderation.set_mute(alice, bob.pk, True)

    response = signed_in(alice).get(reverse("account_export"))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="alice-data.json"'
    data = json.loads(response.content)
    assert data["account"]["pseudonym"] == "alice" and data["account"]["country"] == "US"
    assert [m["body"] for m in data["messages"]] == ["hello all", CRISIS]
    assert {r["room"] for r in data["rooms"]} == {"anxiety", "grief"}
    assert data["reports_made"][0]["reason"] == "spam" and data["muted"] == ["bob"]
    assert "bob was here" not in response.content.decode()
    assert Alert.objects.filter(subject=alice).exists()  # flagged, yet the flag is not in the file
    text = response.content.decode().lower()
    assert "risk" not in text and "alert" not in text and "imminent" not in text


def test_download_needs_a_login(client):
    response = client.get(reverse("account_export"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_deleting_needs_the_password(alice):
    client = signed_in(alice)
    response = client.post(reverse("account"), {"password": "wrong"})
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    assert User.objects.filter(username="alice").exists()


def test_deleting_anonymises_messages_keeps_alerts_and_signs_out(alice, bob, maple, anxiety, hotlines):
    services.enter_room("anxiety", alice)
    post(anxiety, alice, "hello all")
    flagged = post(anxiety, alice, CRISIS)
    post(anxiety, bob, "welcome alice")
    alert = Alert.objects.get(subject=alice)
    escalation.step_in(alert.pk, maple)
    client = signed_in(alice)

    response = client.post(reverse("account"), {"password": "x-pass-12345"})

    assert response.status_code == 200 and "Your account is deleted" in response.content.decode()
    assert not User.objects.filter(username="alice").exists()
    assert not Membership.objects.filter(user_id=alice.pk).exists()
    # The room's history is whole: same seqs, same words, the author now a former member.
    kept = list(Message.objects.filter(room=anxiety).order_by("seq").values_list("seq", "author__username", "body"))
    assert kept == [(1, "former member", "hello all"), (2, "former member", CRISIS), (3, "bob", "welcome alice")]
    # The alert stays for the safety record, with no link to the person.
    alert.refresh_from_db()
    assert alert.subject is None and alert.message_id == flagged.pk and alert.level == "imminent"
    assert AlertEvent.objects.filter(alert=alert, kind="subject_account_deleted").exists()
    assert "alice" not in alert.support_room.name
    # Signed out here and unable to sign in again.
    assert client.get(reverse("lobby")).status_code == 302
    assert not can_log_in("alice", "x-pass-12345") and can_log_in("bob", "x-pass-12345")


def test_nobody_can_sign_up_as_the_former_member_or_delete_it(client, alice, anxiety):
    privacy.delete_account(alice)
    response = client.post(reverse("signup"), {"username": privacy.FORMER_MEMBER, "password1": "a-long-pass-phrase",
                                               "password2": "a-long-pass-phrase", "country": "US"})
    assert response.context["form"].errors["username"]
    with pytest.raises(ValueError):
        privacy.delete_account(privacy.former_member())
    assert not can_log_in(privacy.FORMER_MEMBER, "")


@pytest.mark.django_db(transaction=True)
async def test_deleting_closes_the_persons_open_room_sockets(alice, anxiety):
    socket, connected = await open_socket("/ws/rooms/anxiety/", alice)
    assert connected
    await receive(socket, "room.state")

    await sync_to_async(lambda: signed_in(alice).post(reverse("account"), {"password": "x-pass-12345"}))()

    frame = await receive(socket, "session.ended")
    assert frame["text"] == "This account has been deleted."
    assert await socket.receive_output(timeout=PATIENCE) == {"type": "websocket.close", "code": 4401}


@pytest.mark.django_db(transaction=True)
async def test_deleting_closes_the_facilitators_open_console(maple):
    socket, connected = await open_socket("/ws/facilitator/", maple)
    assert connected
    await receive(socket, "console.state")

    await sync_to_async(lambda: signed_in(maple).post(reverse("account"), {"password": "x-pass-12345"}))()

    frame = await receive(socket, "session.ended")
    assert frame["text"] == "This account has been deleted."
    closed = await socket.receive_output(timeout=PATIENCE)
    assert closed == {"type": "websocket.close", "code": 4401}
    assert not await sync_to_async(User.objects.filter(username="maple").exists)()


def _age(message, days):
    Message.objects.filter(pk=message.pk).update(created_at=clock.now() - timedelta(days=days))


def test_retention_deletes_old_messages_but_keeps_what_safety_still_needs(alice, bob, maple, anxiety):
    old_plain = post(anxiety, bob, "an old message")
    old_flagged = post(anxiety, alice, CRISIS)  # its alert is still open
    old_reported = post(anxiety, bob, "old and reported")
    old_pinned = post(anxiety, maple, "old pinned notice")
    recent = post(anxiety, bob, "a recent message")
    moderation.report(alice, anxiety, old_reported.pk, "harassment")
    moderation.pin(maple, anxiety, old_pinned.pk)
    for message in (old_plain, old_flagged, old_reported, old_pinned):
        _age(message, 400)
    _age(recent, 10)

    assert privacy.purge_old_messages(365, dry_run=True) == 1
    assert Message.objects.count() == 5
    call_command("purge_old_messages", "--days", "365", stdout=open("/dev/null", "w"))

    left = set(Message.objects.values_list("body", flat=True))
    assert left == {CRISIS, "old and reported", "old pinned notice", "a recent message"}

    # Once the alert is resolved and the report closed, they age out like the rest.
    alert = Alert.objects.get(subject=alice)
    escalation.resolve_alert(alert.pk, maple, "safe", "talked it through")
    moderation.close_report(maple, Report.objects.get().pk)
    assert privacy.purge_old_messages(365) == 2
    assert set(Message.objects.values_list("body", flat=True)) == {"old pinned notice", "a recent message"}
    alert.refresh_from_db()
    assert alert.message is None and alert.level == "imminent"  # the record stays


def test_retention_refuses_a_nonsense_age():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("purge_old_messages", "--days", "0")


def test_account_and_privacy_pages_render(client, alice):
    assert "How we handle your data" in client.get(reverse("privacy")).content.decode()
    page = signed_in(alice).get(reverse("account")).content.decode()
    assert "Download my data" in page and "Delete my account" in page


def test_outbox_frames_with_peoples_words_expire_once_every_relay_has_handed_them_on(alice, maple, anxiety, frozen):
    from escalation.models import Notification
    from escalation.watchdog import tick

    post(anxiety, alice, CRISIS)
    alert = Alert.objects.get(subject=alice)
    frame = '{"type":"alert.new","alert":{"message":{"body":"' + CRISIS + '"}}}'
    first = Notification.objects.create(alert=alert, recipients=[maple.pk], text=frame, created_at=clock.now())
    frozen(300)
    second = Notification.objects.create(alert=alert, recipients=[maple.pk], text=frame, created_at=clock.now())

    frozen(301)  # the first is past the ten minutes, the second not
    assert tick()["outbox_expired"] == 1
    assert list(Notification.objects.filter(pk__in=[first.pk, second.pk])) == [second]
    frozen(300)
    tick()
    assert not Notification.objects.filter(pk=second.pk).exists()


def test_deleting_removes_outbox_frames_about_the_person_and_those_that_quote_them(alice, bob, maple, anxiety):
    from escalation.models import Notification
    from escalation.payloads import alert_frame

    post(anxiety, alice, "i keep thinking about it")
    post(anxiety, bob, CRISIS)  # bob's alert shows alice's message as context
    post(anxiety, alice, CRISIS)
    theirs, bobs = Alert.objects.get(subject=alice), Alert.objects.get(subject=bob)
    for alert in (theirs, bobs):
        Notification.objects.create(alert=alert, recipients=[maple.pk], text=alert_frame("alert.new", alert),
                                    created_at=clock.now())
    Notification.objects.create(alert=theirs, person=alice, text='{"type":"support.offer"}', created_at=clock.now())
    unrelated = Room.objects.create(slug="grief", name="alice")  # a room that shares her name is no quote of her
    post(unrelated, bob, CRISIS)
    elsewhere = Alert.objects.get(subject=bob, room=unrelated)
    kept = Notification.objects.create(alert=elsewhere, recipients=[maple.pk],
                                       text=alert_frame("alert.new", elsewhere), created_at=clock.now())
    assert f'"id":{alice.pk},"name":"alice"' in Notification.objects.get(alert=bobs).text

    privacy.delete_account(alice)

    assert list(Notification.objects.all()) == [kept]
    assert f'"id":{alice.pk},' not in kept.text


def test_retention_deletes_old_sign_in_records_and_expired_sessions(alice):
    from axes.models import AccessAttempt, AccessLog
    from django.contrib.sessions.models import Session

    signed_in(alice)  # a live session
    long_ago = clock.now() - timedelta(days=400)
    old = AccessLog.objects.create(username="alice", ip_address="192.0.2.1", user_agent="phone")
    AccessLog.objects.create(username="alice", ip_address="192.0.2.1", user_agent="phone")
    AccessAttempt.objects.create(username="alice", ip_address="192.0.2.9", user_agent="x",
                                 failures_since_start=1, get_data="", post_data="")
    AccessLog.objects.filter(pk=old.pk).update(attempt_time=long_ago)  # both stamp the time they are made
    AccessAttempt.objects.update(attempt_time=long_ago)
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=long_ago)

    call_command("purge_old_messages", "--days", "365", stdout=open("/dev/null", "w"))

    assert not AccessLog.objects.filter(attempt_time__lt=clock.now() - timedelta(days=365)).exists()
    assert AccessLog.objects.filter(user_agent="phone").count() == 1 and not AccessAttempt.objects.exists()
    assert Session.objects.count() == 1 and Session.objects.get().expire_date > clock.now()


def test_deletion_reaches_every_table_docs_privacy_lists(alice, bob, maple, anxiety, hotlines):
    """docs/privacy.md's table, row by row: what is deleted goes, what stays keeps no link to her."""
    from escalation.models import ConsoleConnection, FacilitatorDuty
    from rooms.models import AuditEntry, Connection, PersonalMute, ServerProcess

    services.enter_room("anxiety", alice)
    theirs = post(anxiety, bob, "bob's words")
    moderation.report(alice, anxiety, theirs.pk, "spam", "adverts")
    moderation.set_mute(alice, bob.pk, True)
    moderation.time_out(maple, anxiety, alice.pk, 60, "a pause")
    server = ServerProcess.objects.create(id="p1", seen_at=clock.now())
    Connection.objects.create(channel_name="c1", room=anxiety, user=alice, server=server)
    ConsoleConnection.objects.create(channel_name="c2", user=alice, server=server)
    FacilitatorDuty.objects.create(user=alice, on_duty=False)
    audited = set(AuditEntry.objects.filter(target=alice).values_list("pk", flat=True))
    audited |= set(AuditEntry.objects.filter(actor=alice).values_list("pk", flat=True))
    assert audited

    alice_id = alice.pk  # the row's pk is gone with it
    privacy.delete_account(alice)

    for model in (Membership, PersonalMute, Connection, ConsoleConnection, FacilitatorDuty):
        assert not model.objects.filter(user_id=alice_id).exists(), model.__name__
    assert not Report.objects.filter(reporter_id=alice_id).exists()
    assert Report.objects.get().reporter is None  # the report stays for facilitators, without her
    kept = AuditEntry.objects.filter(pk__in=audited)
    assert kept.count() == len(audited)
    assert not kept.filter(Q(actor_id=alice_id) | Q(target_id=alice_id)).exists()
