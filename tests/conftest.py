from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from rooms.models import FACILITATORS_GROUP, Room, User


@pytest.fixture
def make_user(db):
    def make(name, role="peer", country="US"):
        user = User.objects.create_user(username=name, password="x-pass-12345", country=country)
        if role == "facilitator":
            user.groups.add(Group.objects.get_or_create(name=FACILITATORS_GROUP)[0])
        elif role == "admin":
            user.is_staff = user.is_superuser = True
            user.save()
        return user

    return make


@pytest.fixture
def frozen(monkeypatch):
    """A clock that moves only when the test says so: frozen(seconds) moves it on."""
    from rooms.clock import clock

    now = [clock.now()]
    monkeypatch.setattr(clock, "now", lambda: now[0])

    def advance(seconds):
        now[0] += timedelta(seconds=seconds)

    return advance


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob", country="GB")


@pytest.fixture
def anxiety(db):
    return Room.objects.create(slug="anxiety", name="Anxiety", topic="Mental health", guidelines="Be kind.")


@pytest.fixture
def grief(db):
    return Room.objects.create(slug="grief", name="Grief & Loss", topic="Life events")


@pytest.fixture
def hotlines(db):
    from django.core.management import call_command

    call_command("loaddata", "hotlines", verbosity=0)


@pytest.fixture
def maple(make_user):
    """A facilitator."""
    return make_user("maple", role="facilitator")


@pytest.fixture
def escalation_settings(settings):
    """Out-of-band on, mail kept in memory, the outbox relay polling fast."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ESCALATION = {**settings.ESCALATION, "ONCALL_EMAIL": "oncall@example.org", "OUTBOX_POLL_SECONDS": 0.05}
    return settings


@pytest.fixture(scope="session", autouse=True)
def end_stray_database_sessions(django_db_setup, django_db_blocker):
    """Worker threads of async and concurrency tests keep persistent connections, which would
    stop PostgreSQL from dropping the test database at the end of the run."""
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
