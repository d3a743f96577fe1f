import threading
import uuid

import pytest
from django.db import connection

from rooms.errors import ChatError
from rooms.models import Message
from rooms.services import enter_room, post_message

pytestmark = pytest.mark.django_db(transaction=True)


def test_seq_counts_per_room_from_one(alice, anxiety, grief):
    seqs = [post_message(anxiety, alice, uuid.uuid4(), "a").message.seq for _ in range(3)]
    assert seqs == [1, 2, 3]
    assert post_message(grief, alice, uuid.uuid4(), "g").message.seq == 1


def test_concurrent_senders_get_unique_gapless_seq(make_user, anxiety):
    senders = [make_user(f"sender{i}") for i in range(6)]
    errors = []

    def send_many(user):
        try:
            for _ in range(15):
                post_message(anxiety, user, uuid.uuid4(), "hi")
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send_many, args=(u,)) for u in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = sorted(Message.objects.filter(room=anxiety).values_list("seq", flat=True))
    assert seqs == list(range(1, 91))


def test_resend_returns_the_stored_message(alice, anxiety):
    client_id = uuid.uuid4()
    first = post_message(anxiety, alice, client_id, "once")
    again = post_message(anxiety, alice, client_id, "once")
    assert first.created and not again.created
    assert again.message.pk == first.message.pk
    assert Message.objects.count() == 1
    anxiety.refresh_from_db()
    assert anxiety.last_seq == 1, "a resend consumes no seq"


def test_client_id_from_another_room_is_refused(alice, anxiety, grief):
    client_id = uuid.uuid4()
    post_message(anxiety, alice, client_id, "here")
    with pytest.raises(ChatError) as refusal:
        post_message(grief, alice, client_id, "there")
    assert refusal.value.code == "client_id_reused"


def test_same_client_id_from_two_people_is_two_messages(alice, bob, anxiety):
    client_id = uuid.uuid4()
    post_message(anxiety, alice, client_id, "a")
    post_message(anxiety, bob, client_id, "b")
    assert Message.objects.count() == 2


def test_entering_a_public_room_makes_you_a_member(alice, anxiety):
    enter_room("anxiety", alice)
    assert anxiety.memberships.filter(user=alice).exists()


def test_role_is_recorded_on_the_message(make_user, anxiety):
    facilitator = make_user("fran", role="facilitator")
    assert post_message(anxiety, facilitator, uuid.uuid4(), "hello").message.author_role == "facilitator"


def test_a_batch_spans_rooms_keeps_each_rooms_seq_and_answers_each_sender(alice, bob, anxiety, grief):
    from rooms.services import Draft, post_messages

    post_message(anxiety, alice, uuid.uuid4(), "before")
    resent = uuid.uuid4()
    first = post_message(grief, bob, resent, "already stored")
    twice = uuid.uuid4()
    results = post_messages([
        Draft(anxiety, alice, uuid.uuid4(), "a2"),
        Draft(grief, bob, resent, "already stored"),  # a resend inside a batch
        Draft(grief, alice, twice, "g2"),
        Draft(grief, alice, twice, "g2"),  # the same message twice in one batch
        Draft(anxiety, bob, uuid.uuid4(), "a3"),
        Draft(anxiety, alice, resent, "someone else's id is fine"),
    ])
    assert [(r.message.room.slug, r.message.seq, r.created) for r in results] == [
        ("anxiety", 2, True), ("grief", 1, False), ("grief", 2, True), ("grief", 2, False),
        ("anxiety", 3, True), ("anxiety", 4, True),
    ]
    assert results[1].message.pk == first.message.pk
    assert sorted(Message.objects.filter(room=grief).values_list("seq", flat=True)) == [1, 2]


def test_a_refused_draft_does_not_sink_its_batch(alice, anxiety, grief):
    from rooms.services import Draft, post_messages

    used = uuid.uuid4()
    post_message(anxiety, alice, used, "here")
    results = post_messages([Draft(grief, alice, used, "there"), Draft(grief, alice, uuid.uuid4(), "ok")])
    assert isinstance(results[0], ChatError) and results[0].code == "client_id_reused"
    assert results[1].created and results[1].message.seq == 1


def test_crisis_message_in_a_batch_is_stored_with_its_alert(alice, bob, anxiety):
    from escalation.models import Alert
    from rooms.services import Draft, post_messages

    results = post_messages([Draft(anxiety, bob, uuid.uuid4(), "hello"),
                             Draft(anxiety, alice, uuid.uuid4(), "I want to kill myself")])
    assert results[0].raised is None
    assert results[1].raised.alert.message_id == results[1].message.pk
    assert Alert.objects.get().subject == alice
