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
