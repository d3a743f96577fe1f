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
