"""People in a real browser (Debian's Chromium) against a real Daphne process."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_two_people_see_each_others_messages_live(embedded_site, signed_in_page):
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    river = signed_in_page(base, "river", "demo-river-pass")
    sky = signed_in_page(base, "sky", "demo-sky-pass", viewport={"width": 390, "height": 844})  # a phone

    expect(river.locator("[data-room-count=anxiety]")).to_have_text("0")
    sky.goto("/rooms/anxiety/")
    expect(sky.locator("#status")).to_have_text("Connected")
    expect(river.locator("[data-room-count=anxiety]")).to_have_text("1")  # the lobby updates live

    river.click("text=Anxiety")
    expect(river.locator("#status")).to_have_text("Connected")
    expect(sky.locator("#online")).to_contain_text("river")
    expect(sky.locator("#online-count")).to_have_text("2")

    river.fill("#body", "Hi sky, rough day here <b>honestly</b>")
    river.keyboard.press("Enter")
    expect(sky.locator("#messages li").last).to_contain_text("Hi sky, rough day here <b>honestly</b>")
    expect(sky.locator("#messages li b")).to_have_count(0)  # shown as text, not markup

    sky.fill("#body", "I'm here, want to talk about it?")
    sky.click("button:has-text('Send')")
    expect(river.locator("#messages li").last).to_contain_text("I'm here, want to talk about it?")
    expect(river.locator("#messages li .author").last).to_have_text("sky")

    title = sky.title()
    river.fill("#body", '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>')
    river.keyboard.press("Enter")
    expect(sky.locator("#messages li").last).to_contain_text('<img src=x onerror=')
    expect(sky.locator("#messages li img")).to_have_count(0)
    assert sky.title() == title, "a stored message never runs as script"

    river.locator("#body").press_sequentially("typing")
    expect(sky.locator("#typing")).to_have_text("river is typing…")


def test_page_reconnects_by_itself_and_fetches_what_it_missed(embedded_site, signed_in_page, tmp_path):
    import subprocess
    import sys

    from tests.e2e.servers import ROOT, stop, wait_for_port

    port = embedded_site.start_daphne()
    base = f"http://127.0.0.1:{port}"
    sky = signed_in_page(base, "sky", "demo-sky-pass")
    sky.goto("/rooms/open-room/")
    expect(sky.locator("#status")).to_have_text("Connected")

    # The server goes away; messages are written meanwhile; the server comes back on the same port.
    stop(embedded_site.servers.pop())
    expect(sky.locator("#status")).to_contain_text("Reconnecting")
    sky.fill("#body", "sent while offline")
    sky.keyboard.press("Enter")
    expect(sky.locator("#messages li.pending")).to_have_count(1)
    embedded_site.manage("shell", "-v0", "-c", (
        "import uuid; from rooms.models import Room, User; from rooms.services import post_message; "
        "room = Room.objects.get(slug='open-room'); river = User.objects.get(username='river'); "
        "[post_message(room, river, uuid.uuid4(), f'missed {i}') for i in range(3)]"
    ))
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "chatserver.asgi:application"],
        cwd=ROOT, env=embedded_site.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    embedded_site.servers.append(process)
    wait_for_port(port, process)
    expect(sky.locator("#status")).to_have_text("Connected", timeout=20000)
    expect(sky.locator("#messages li .body")).to_have_text(
        ["missed 0", "missed 1", "missed 2", "sent while offline"]
    )
    expect(sky.locator("#messages li.pending")).to_have_count(0)
    stored = embedded_site.manage("shell", "-v0", "-c", (
        "from rooms.models import Message; print(Message.objects.filter(body='sent while offline').count())"
    ))
    assert stored.strip() == "1"


def test_older_history_loads_when_scrolling_up(embedded_site, signed_in_page):
    embedded_site.manage("shell", "-v0", "-c", (
        "import uuid; from rooms.models import Room, User; from rooms.services import post_message; "
        "room = Room.objects.get(slug='grief-and-loss'); sky = User.objects.get(username='sky'); "
        "[post_message(room, sky, uuid.uuid4(), f'memory {i}') for i in range(1, 81)]"
    ))
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    river = signed_in_page(base, "river", "demo-river-pass")
    river.goto("/rooms/grief-and-loss/")
    expect(river.locator("#status")).to_have_text("Connected")
    messages = river.locator("#messages li .body")
    expect(messages).to_have_count(50)  # the last 50
    expect(messages.first).to_have_text("memory 31")
    river.locator("#scroller").evaluate("el => el.scrollTo(0, 0)")
    expect(messages).to_have_count(80)
    expect(messages.first).to_have_text("memory 1")
    expect(messages.last).to_have_text("memory 80")


def test_a_page_whose_room_has_gone_quiet_asks_for_what_was_said_meanwhile(embedded_site, signed_in_page):
    # A socket can stay open while its process no longer hears the room (issue 20: the fan-out
    # lost Redis); the page notices the silence and asks the database. A message stored without
    # being published stands for what that page missed.
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    sky = signed_in_page(base, "sky", "demo-sky-pass")
    sky.clock.install()
    sky.goto("/rooms/anxiety/")
    expect(sky.locator("#status")).to_have_text("Connected")
    sky.fill("#body", "anyone around?")
    sky.keyboard.press("Enter")
    expect(sky.locator("#messages li").last).to_contain_text("anyone around?")
    embedded_site.manage("shell", "-c", """
import uuid
from rooms.models import Room, User
from rooms.services import post_message
post_message(Room.objects.get(slug="anxiety"), User.objects.get(username="river"), uuid.uuid4(), "yes, here")
""")
    sky.clock.run_for(30_000)
    expect(sky.locator("#messages li").last).to_contain_text("anyone around?")  # not yet: it was talking
    sky.clock.run_for(60_000)
    expect(sky.locator("#messages li").last).to_contain_text("yes, here")


def test_signing_out_in_one_tab_takes_the_conversation_off_the_other_tabs(embedded_site, signed_in_page):
    """A shared device: the room left open in another tab must not stay signed in."""
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    lobby = signed_in_page(base, "sky", "demo-sky-pass", viewport={"width": 390, "height": 844})
    room = lobby.context.new_page()
    room.goto("/rooms/anxiety/")
    expect(room.locator("#status")).to_have_text("Connected")
    room.fill("#body", "something private about my week")
    room.keyboard.press("Enter")
    expect(room.locator("#messages li").last).to_contain_text("something private")
    other = lobby.context.new_page()
    other.goto("/")

    other.click("button:has-text('Log out')")

    expect(room.locator("#notice")).to_contain_text("signed out on this device")
    expect(room.locator("#messages li")).to_have_count(0)
    expect(room.locator("#body")).to_be_disabled()
    expect(room.locator("#notice a")).to_have_attribute("href", "/login/")
    expect(lobby).to_have_url(base + "/login/?next=/")  # the lobby reloads as a signed-out visitor sees it
