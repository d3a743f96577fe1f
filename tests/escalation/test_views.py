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
