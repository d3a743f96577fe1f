import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_console_page_is_for_facilitators_only(client, alice, maple):
    assert client.get(reverse("console")).status_code == 302  # not signed in: to the login page
    client.force_login(alice)
    assert client.get(reverse("console")).status_code == 403
    assert b"Console" not in client.get(reverse("lobby")).content
    client.force_login(maple)
    page = client.get(reverse("console"))
    assert page.status_code == 200 and b'id="console-config"' in page.content
    assert b'href="/console/"' in client.get(reverse("lobby")).content


def test_room_page_has_a_help_button_and_a_hidden_support_card(client, alice, anxiety):
    client.force_login(alice)
    html = client.get(reverse("room", args=["anxiety"])).content.decode()
    assert 'id="help-btn"' in html and "I need help" in html
    assert 'id="support-card" class="support-card" hidden' in html


def test_demo_data_loads_the_hotline_directory_once(db):
    from django.core.management import call_command

    from escalation.models import Hotline

    call_command("load_demo", stdout=open("/dev/null", "w"))
    Hotline.objects.filter(country="US", is_primary=True).update(name="Edited by an admin")
    call_command("load_demo", stdout=open("/dev/null", "w"))
    assert Hotline.objects.filter(name="Edited by an admin").exists()
    assert set(Hotline.objects.values_list("country", flat=True)) == {"US", "CA", "GB", "IE", "AU", "IN", ""}


def test_the_admin_says_when_the_second_reader_is_offline_and_why(admin_client):
    from escalation import screening

    page = admin_client.get("/admin/escalation/alert/").content.decode()
    assert "The second reader is offline" in page and "No worker has ever run" in page
    screening.beat("w1")
    assert "second reader is offline" not in admin_client.get("/admin/escalation/alert/").content.decode()
    screening.beat("w1", refused="the encoder file weights.npz has sha256 abc, not the pinned def")
    page = admin_client.get("/admin/escalation/screeningworker/").content.decode()
    assert "The second reader is offline" in page and "not the pinned def" in page


def test_help_needs_no_account_and_picks_the_country_from_the_browser(client, hotlines):
    page = client.get(reverse("help"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Samaritans" in html and 'href="tel:116123"' in html
    assert 'href="tel:999"' in html and 'href="tel:112"' in html  # the emergency numbers, from libphonenumber
    assert '<option value="GB" selected>' in html


def test_help_for_a_chosen_country_and_for_one_the_directory_lacks(client, hotlines):
    australia = client.get(reverse("help"), {"country": "AU"}).content.decode()
    assert "Lifeline" in australia and 'href="tel:131114"' in australia and 'href="tel:000"' in australia
    elsewhere = client.get(reverse("help"), {"country": "ZZ"}, HTTP_ACCEPT_LANGUAGE="").content.decode()
    assert "Find A Helpline" in elsewhere and "your local emergency number" in elsewhere


def test_help_for_a_signed_in_person_uses_their_country(client, alice, hotlines):
    client.force_login(alice)  # in the US
    html = client.get(reverse("help"), HTTP_ACCEPT_LANGUAGE="fr-FR").content.decode()
    assert "988" in html and 'href="tel:911"' in html


def test_every_page_links_to_help_the_login_and_sign_up_pages_first(client, alice):
    for name in ("login", "signup", "privacy"):
        assert 'href="/help/"' in client.get(reverse(name)).content.decode(), name
    client.force_login(alice)
    assert 'href="/help/"' in client.get(reverse("lobby")).content.decode()


def test_the_lockout_page_says_when_to_try_again_and_where_help_is(client, alice):
    for _ in range(5):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    page = client.post(reverse("login"), {"username": "alice", "password": "x-pass-12345"})
    html = page.content.decode()
    assert page.status_code == 429
    assert "try again in about 15 minutes" in html and 'href="/help/"' in html
    assert 'rel="stylesheet"' in html  # the site's own page, not bare text
