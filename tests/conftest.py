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
