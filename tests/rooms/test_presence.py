from datetime import timedelta

import pytest

from rooms import presence, selectors, services
from rooms.clock import clock
from rooms.models import Connection


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
    assert selectors.online_counts() == {"anxiety": 1}
    assert not Connection.objects.filter(channel_name="chan-a").exists()


@pytest.mark.django_db
def test_first_socket_joins_and_last_socket_leaves(alice, anxiety):
    services.beat(presence.SERVER_ID)
    assert services.open_connection(anxiety, alice, "tab-1", presence.SERVER_ID) is True
    assert services.open_connection(anxiety, alice, "tab-2", presence.SERVER_ID) is False
    assert services.close_connection("tab-1") is False
    assert services.close_connection("tab-2") is True
    assert services.close_connection("tab-2") is False
