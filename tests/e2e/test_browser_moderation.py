"""Moderation in a real browser: what a facilitator does, everyone sees at once."""

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import in_room

pytestmark = pytest.mark.e2e


def test_hide_lock_and_mute_as_people_would(embedded_site, signed_in_page):
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    maple = signed_in_page(base, "maple", "demo-maple-pass")
    river = signed_in_page(base, "river", "demo-river-pass", viewport={"width": 390, "height": 844})
    sky = signed_in_page(base, "sky", "demo-sky-pass")
    in_room("depression", maple, river, sky)

    sky.fill("#body", "you are all losers")
    sky.keyboard.press("Enter")
    unkind = river.locator("#messages li", has_text="you are all losers")
    expect(unkind).to_have_count(1)

    maple.once("dialog", lambda dialog: dialog.accept("unkind"))
    row = maple.locator("#messages li", has_text="you are all losers")
    row.locator("summary").click()
    row.get_by_role("button", name="Hide").click()
    expect(unkind).to_have_count(0)  # gone from the peer's screen at once
    expect(row).to_have_class("message hidden-msg")  # the facilitator still sees it, marked

    maple.click("#lock-btn")
    expect(river.locator("#room-mode")).to_have_text("This room is read-only for now.")
    river.fill("#body", "hello?")
    river.keyboard.press("Enter")
    expect(river.locator("#form-error")).to_contain_text("read-only")
    maple.click("#lock-btn")
    expect(river.locator("#room-mode")).to_be_hidden()

    maple.fill("#body", "Let's keep it kind, everyone.")
    maple.keyboard.press("Enter")
    from_maple = river.locator("#messages li", has_text="keep it kind")
    expect(from_maple.locator(".badge")).to_have_text("Facilitator")
    from_maple.locator("summary").click()
    from_maple.get_by_role("button", name="Mute (only for me)").click()
    expect(from_maple).to_have_class("message muted-msg")
    expect(sky.locator("#messages li", has_text="keep it kind")).not_to_have_class("message muted-msg")


def test_peers_do_not_see_facilitator_tools(embedded_site, signed_in_page):
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    river = signed_in_page(base, "river", "demo-river-pass")
    river.goto("/rooms/anxiety/")
    expect(river.locator("#status")).to_have_text("Connected")
    expect(river.locator("#mod-tools")).to_be_hidden()
    expect(river.locator("#support-card")).to_be_hidden()
    expect(river.locator("#pinned")).to_have_text("Pinned: please read the room guidelines.")


def test_cancel_on_a_moderation_prompt_sanctions_nobody(embedded_site, signed_in_page):
    """A mis-tap on a phone: Cancel on the reason prompt (or on the service-wide ban's question)
    must leave the person untouched."""
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    maple = signed_in_page(base, "maple", "demo-maple-pass", viewport={"width": 390, "height": 844})
    sky = signed_in_page(base, "sky", "demo-sky-pass")
    in_room("depression", maple, sky)
    sky.fill("#body", "having a rough night")
    sky.keyboard.press("Enter")
    row = maple.locator("#messages li", has_text="having a rough night")
    expect(row).to_have_count(1)

    answers = []  # what the facilitator answers, dialog by dialog
    maple.on("dialog", lambda dialog: dialog.accept() if answers.pop(0) else dialog.dismiss())
    for button, said in [("Hide", [False]), ("Time out 10 min", [False]), ("Remove from room", [False]),
                         ("Ban from room", [False]), ("Ban from service", [False]),
                         ("Ban from service", [True, False])]:
        answers.extend(said)
        row.locator("summary").click()
        row.get_by_role("button", name=button, exact=True).click()
        assert answers == [], f"{button}: a dialog was expected and answered"
        if row.locator("details[open]").count():
            row.locator("summary").click()

    sky.fill("#body", "still here")
    sky.keyboard.press("Enter")
    expect(maple.locator("#messages li", has_text="still here")).to_have_count(1)
    expect(row).not_to_have_class("message hidden-msg")
    assert embedded_site.query("SELECT count(*) FROM rooms_sanction")[0][0] == 0
    assert embedded_site.query("SELECT count(*) FROM rooms_auditentry")[0][0] == 0


def test_a_refused_message_says_why_on_its_bubble_and_can_be_retried_or_removed(embedded_site, signed_in_page):
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    maple = signed_in_page(base, "maple", "demo-maple-pass")
    river = signed_in_page(base, "river", "demo-river-pass", viewport={"width": 390, "height": 844})
    sky = signed_in_page(base, "sky", "demo-sky-pass")
    in_room("depression", maple, river, sky)
    maple.click("#lock-btn")
    expect(river.locator("#room-mode")).to_have_text("This room is read-only for now.")

    for text in ("is anyone around tonight?", "hello?"):
        river.fill("#body", text)
        river.keyboard.press("Enter")
    first = river.locator("#messages li", has_text="is anyone around tonight?")
    expect(first.locator("time")).to_have_text("Not sent")
    expect(first.locator(".not-sent")).to_contain_text("read-only")
    second = river.locator("#messages li", has_text="hello?")
    expect(second.locator("time")).to_have_text("Not sent")
    second.get_by_role("button", name="Remove").click()
    expect(second).to_have_count(0)

    maple.click("#lock-btn")
    expect(river.locator("#room-mode")).to_be_hidden()
    first.get_by_role("button", name="Retry").click()
    expect(sky.locator("#messages li", has_text="is anyone around tonight?")).to_have_count(1)
    expect(first.locator(".not-sent")).to_have_count(0)
    expect(river.locator("#messages li", has_text="is anyone around tonight?")).to_have_count(1)
    expect(sky.locator("#messages li", has_text="hello?")).to_have_count(0)
