from datetime import timedelta

import pytest

from rooms import presence, selectors, services
from rooms.clock import clock
from rooms.models import Connection, ServerProcess


@pytest.mark.django_db
def test_sockets_of_a_silent_process_stop_counting_and_are_swept(alice, bob, anxiety, monkeypatch):
    t0 = clock.now()
    monkeypatch.setattr(clock, "now", lambda: t0)
    services.beat("dead-process")
    services.open_connection(anxiety, alice, "chan-a", "dead-process")
    services.beat(presence.SERVER_ID)
    services.open_connection(anxiety, bob, "chan-b", presence.SERVER_ID)
    assert selectors.online_count(anxiety) == 2

    # One minute later only this process has kept beating.
    later = t0 + timedelta(seconds=61)
    monkeypatch.setattr(clock, "now", lambda: later)
    presence.beat_and_sweep()
    assert [person["name"] for person in selectors.online_people(anxiety)] == ["bob"]
    assert selectors.online_counts(alice) == {"anxiety": 1}
    assert not Connection.objects.filter(channel_name="chan-a").exists()


@pytest.mark.django_db
def test_first_socket_joins_and_last_socket_leaves(alice, anxiety):
    services.beat(presence.SERVER_ID)
    assert services.open_connection(anxiety, alice, "tab-1", presence.SERVER_ID) is True
    assert services.open_connection(anxiety, alice, "tab-2", presence.SERVER_ID) is False
    assert services.close_connection("tab-1") is False
    assert services.close_connection("tab-2") is True
    assert services.close_connection("tab-2") is False


@pytest.mark.django_db
def test_handshakes_rewrite_the_heartbeat_at_most_once_an_interval(monkeypatch):
    t0 = clock.now()
    monkeypatch.setattr(clock, "now", lambda: t0)
    presence.beat_now()
    monkeypatch.setattr(clock, "now", lambda: t0 + timedelta(seconds=19))
    presence.beat_unless_fresh()  # a reconnect storm's handshakes do not each write the row
    assert ServerProcess.objects.get(id=presence.SERVER_ID).seen_at == t0
    monkeypatch.setattr(clock, "now", lambda: t0 + timedelta(seconds=20))
    presence.beat_unless_fresh()
    assert ServerProcess.objects.get(id=presence.SERVER_ID).seen_at == t0 + timedelta(seconds=20)


@pytest.mark.django_db(transaction=True)  # foreign keys checked as they would be, not at the test's end
def test_a_socket_still_gets_in_after_its_process_row_was_swept(alice, anxiety):
    presence.beat_now()
    ServerProcess.objects.all().delete()  # swept by another process while this one stalled
    presence.beat_unless_fresh()  # it beat a moment ago, so it does not know
    assert services.open_connection(anxiety, alice, "tab-1", presence.SERVER_ID) is True
    assert selectors.online_count(anxiety) == 1


@pytest.mark.django_db
def test_the_online_list_names_each_persons_role_in_name_order(alice, maple, make_user, anxiety, grief):
    root = make_user("ash", role="admin")
    services.beat(presence.SERVER_ID)
    for person in (maple, alice, root):
        services.open_connection(anxiety, person, f"tab-{person.username}", presence.SERVER_ID)
    services.open_connection(anxiety, alice, "tab-alice-2", presence.SERVER_ID)  # two tabs, one person
    services.open_connection(grief, maple, "tab-maple-grief", presence.SERVER_ID)  # another room
    assert selectors.online_people(anxiety) == [
        {"id": alice.pk, "name": "alice", "role": "peer"},
        {"id": root.pk, "name": "ash", "role": "admin"},
        {"id": maple.pk, "name": "maple", "role": "facilitator"},
    ]
