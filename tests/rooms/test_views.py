import pytest
from django.urls import reverse

from rooms.models import Membership, Room, User

pytestmark = pytest.mark.django_db


def signup(client, **overrides):
    data = {"username": "newbie", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase",
            "country": "AU", "email": ""}
    data.update(overrides)
    return client.post(reverse("signup"), data)


def test_signup_with_pseudonym_password_and_country_logs_you_in(client):
    response = signup(client)
    assert response.status_code == 302 and response.url == reverse("lobby")
    user = User.objects.get(username="newbie")
    assert user.country.code == "AU" and user.email == ""
    assert client.get(reverse("lobby")).status_code == 200


@pytest.mark.parametrize("name", ["a", "x" * 33, "has space", "<script>"])
def test_signup_refuses_bad_pseudonyms(client, name):
    response = signup(client, username=name)
    assert response.status_code == 200
    assert not User.objects.filter(username=name).exists()
    assert response.context["form"].errors["username"]


def test_pseudonyms_are_unique_whatever_the_case(client, alice):
    response = signup(client, username="ALICE")
    assert "That pseudonym is taken" in " ".join(response.context["form"].errors["username"])


@pytest.mark.parametrize("name, why", [
    ("m\u0430ple", "one alphabet"),           # Cyrillic а beside the facilitator maple
    ("riv\u0435r", "one alphabet"),           # Cyrillic е
    ("mapIe", "looks too much like"),         # capital i for l
    ("\uff4d\uff41\uff50\uff4c\uff45", "looks too much like"),  # full-width letters
    ("\u041c\u0410\u0420\u0406\u0415", "looks too much like"),  # all Cyrillic capitals: МАРІЕ
    ("\u3164\u3164", "2 characters that show"),  # Hangul fillers
    ("a\u3164\u3164", "2 characters that show"),
    ("KlM", "looks too much like"),           # small L for capital i: KIM, beside kim
    ("\u0411\u041e\u0420\u0418\u0421", "looks too much like"),  # БОРИС beside борис
    ("\ufdfa" * 2, "at most 32 characters"),  # typed as 2, stored after NFKC as 36
])
def test_signup_refuses_names_that_pass_for_someone_else_or_show_nothing(client, maple, make_user, name, why):
    make_user("river")
    make_user("kim")
    make_user("\u0431\u043e\u0440\u0438\u0441")
    response = signup(client, username=name)
    assert response.status_code == 200 and not User.objects.filter(username=name).exists()
    assert why in " ".join(response.context["form"].errors["username"])


@pytest.mark.parametrize("name", ["Jos\u00e9", "\u043c\u0430\u0448\u0430", "maplewood", "\u5c0f\u6797",
                                  "\u7530\u4e2d\u3055\u3093", "\uae40\ubbfc\uc900"])  # 田中さん, 김민준
def test_signup_takes_names_in_any_one_alphabet(client, maple, name):
    assert signup(client, username=name).status_code == 302
    assert User.objects.filter(username=name).exists()


def test_every_saved_account_carries_the_key_of_its_name(maple):
    from rooms.lookalikes import keys

    user = User.objects.get(pk=maple.pk)
    assert (user.skeleton, user.skeleton_capitals) == keys("m\u0430pIe")


def test_signup_requires_a_country(client):
    response = signup(client, country="")
    assert response.context["form"].errors["country"]


def test_login_and_logout(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "x-pass-12345"})
    assert response.status_code == 302
    assert client.get(reverse("lobby")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("lobby")).status_code == 302


def test_pages_need_login(client, anxiety):
    for url in (reverse("lobby"), reverse("room", args=["anxiety"])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_lobby_groups_rooms_by_topic_with_description_guidelines_and_online(client, alice, anxiety, grief):
    client.force_login(alice)
    html = client.get(reverse("lobby")).content.decode()
    assert "Mental health" in html and "Life events" in html
    assert "Grief &amp; Loss" in html  # escaped
    assert "Be kind." in html
    assert 'data-room-count="anxiety">0<' in html


def test_room_page_shows_guidelines_and_config_without_inline_script(client, alice, anxiety):
    client.force_login(alice)
    html = client.get(reverse("room", args=["anxiety"])).content.decode()
    assert "Be kind." in html
    assert 'id="room-config" type="application/json"' in html
    assert 'aria-live="polite"' in html
    assert "<script>" not in html  # scripts are modules from /static/, so a strict CSP can apply


def test_room_names_are_escaped(client, alice):
    Room.objects.create(slug="x", name="<img src=x onerror=alert(1)>", topic="T")
    client.force_login(alice)
    html = client.get(reverse("room", args=["x"])).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_private_room_page_is_forbidden_to_non_members(client, alice, bob):
    room = Room.objects.create(slug="support-1", name="Support", topic="Private", is_private=True)
    Membership.objects.create(room=room, user=bob)
    client.force_login(alice)
    assert client.get(reverse("room", args=["support-1"])).status_code == 403
    assert b"support-1" not in client.get(reverse("lobby")).content
    client.force_login(bob)
    assert client.get(reverse("room", args=["support-1"])).status_code == 200


def test_unknown_room_is_404(client, alice):
    client.force_login(alice)
    assert client.get(reverse("room", args=["nope"])).status_code == 404


def test_a_banned_person_gets_a_clear_page_not_a_silent_room(client, alice, maple, anxiety, hotlines):
    from rooms import moderation

    moderation.ban(maple, anxiety, alice.pk, "room", "harassment")
    client.force_login(alice)
    response = client.get(reverse("room", args=["anxiety"]))
    assert response.status_code == 403
    assert b"You have been removed from this room." in response.content
    assert b"room-config" not in response.content
    assert b'href="tel:988"' in response.content  # alice is in the US: help stays one tap away


def test_pages_send_a_content_security_policy_without_inline_script(client, alice, anxiety):
    client.force_login(alice)
    for url in (reverse("lobby"), reverse("room", args=["anxiety"]), reverse("login")):
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy


def test_repeated_failed_logins_lock_the_account_for_a_while(client, alice):
    for _ in range(5):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "alice", "password": "x-pass-12345"})
    assert response.status_code in (403, 429)
    assert client.get(reverse("lobby")).status_code == 302, "still signed out: locked even with the right password"


def test_production_cookies_and_hsts(settings):
    from django.conf import settings as live

    assert live.SESSION_COOKIE_SECURE and live.CSRF_COOKIE_SECURE and live.SECURE_HSTS_SECONDS >= 31536000
    assert live.SESSION_COOKIE_HTTPONLY and not live.DEBUG
