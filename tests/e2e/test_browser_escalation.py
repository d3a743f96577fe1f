"""A crisis in a real browser: the card for the person, nothing for the room, the console live."""

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import in_room

pytestmark = pytest.mark.e2e


def test_crisis_card_console_alert_acknowledge_and_step_in(embedded_site, signed_in_page):
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    maple = signed_in_page(base, "maple", "demo-maple-pass")
    maple.goto("/console/")
    expect(maple.locator("#status")).to_have_text("Connected")
    maple.check("#duty")
    expect(maple.locator("#duty-label")).to_have_text("On duty")

    river = signed_in_page(base, "river", "demo-river-pass", viewport={"width": 390, "height": 844})
    sky = signed_in_page(base, "sky", "demo-sky-pass")
    in_room("anxiety", river, sky)

    river.fill("#body", "honestly I want to die, I can't do this anymore")
    river.keyboard.press("Enter")

    card = river.locator("#support-card")
    expect(card).to_be_visible()
    expect(card).to_contain_text("You're not alone")
    call = card.locator("a.call").first
    expect(call).to_have_attribute("href", "tel:988")
    expect(card.locator("a[href^='sms:741741']")).to_have_count(1)

    expect(sky.locator("#messages li").last).to_contain_text("I want to die")  # still delivered
    expect(sky.locator("#support-card")).to_be_hidden()

    alert = maple.locator("#alerts li.alert").first
    expect(alert).to_contain_text("CRISIS")
    expect(alert).to_contain_text("river")
    expect(alert.locator(".signal").first).to_contain_text("ideation")
    alert.get_by_role("button", name="Acknowledge").click()
    expect(alert.locator(".state")).to_contain_text("acknowledged by maple")

    alert.get_by_role("button", name="Step in").click()
    maple.wait_for_url("**/rooms/support-*/")
    expect(river.locator("#invite")).to_contain_text("maple, a facilitator, would like to talk")
    river.locator("#invite a").click()
    river.wait_for_url("**/rooms/support-*/")
    expect(river.locator("#status")).to_have_text("Connected")
    expect(maple.locator("#status")).to_have_text("Connected")
    maple.fill("#body", "Hi river, I'm here with you. Are you safe right now?")
    maple.keyboard.press("Enter")
    expect(river.locator("#messages li").last).to_contain_text("Are you safe right now?")
    expect(river.locator("#messages li .badge").last).to_have_text("Facilitator")


def test_i_need_help_button_alerts_the_console(embedded_site, signed_in_page):
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    maple = signed_in_page(base, "maple", "demo-maple-pass")
    maple.goto("/console/")
    expect(maple.locator("#status")).to_have_text("Connected")
    sky = signed_in_page(base, "sky", "demo-sky-pass")
    sky.goto("/rooms/grief-and-loss/")
    expect(sky.locator("#status")).to_have_text("Connected")
    sky.click("#help-btn")  # nobody on duty yet: sky is told so, and the hotline comes first
    expect(sky.locator("#notice")).to_contain_text("No facilitator is on duty right now")
    maple.check("#duty")
    expect(maple.locator("#duty-label")).to_have_text("On duty")
    sky.click("#talk-btn")
    expect(sky.locator("#notice")).to_contain_text("A facilitator on duty already has your request")
    expect(sky.locator("#support-card")).to_contain_text("Samaritans")  # sky is in the UK
    expect(maple.locator("#alerts li.alert").first).to_contain_text("Asked for help")


def test_a_goodbye_after_a_distress_message_reaches_the_console_with_both_reasons(embedded_site, signed_in_page):
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    maple = signed_in_page(base, "maple", "demo-maple-pass")
    maple.goto("/console/")
    expect(maple.locator("#status")).to_have_text("Connected")
    river = signed_in_page(base, "river", "demo-river-pass", viewport={"width": 390, "height": 844})
    river.goto("/rooms/anxiety/")
    expect(river.locator("#status")).to_have_text("Connected")

    river.fill("#body", "i feel so hopeless")
    river.keyboard.press("Enter")
    expect(river.locator("#messages li").last).to_contain_text("i feel so hopeless")
    river.fill("#body", "i've said my goodbyes")
    river.keyboard.press("Enter")

    expect(river.locator("#support-card")).to_be_visible()
    alert = maple.locator("#alerts li.alert").first
    expect(alert).to_contain_text("IMMINENT")
    expect(alert.locator(".signal").first).to_contain_text("farewell")
    expect(alert.locator(".signal.earlier")).to_contain_text("said earlier, hopelessness")


def test_the_console_shows_the_second_readers_word_and_when_it_is_offline(embedded_site, signed_in_page):
    from tests.e2e.test_screening import MISSED_BY_THE_LEXICON, WORKER_ENV, start_worker

    embedded_site.env.update(WORKER_ENV)
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    maple = signed_in_page(base, "maple", "demo-maple-pass")
    maple.goto("/console/")
    expect(maple.locator("#status")).to_have_text("Connected")
    banner = maple.locator("#second-reader-offline")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("The second reader is offline: only the lexicon is reading messages")
    maple.check("#duty")

    worker = start_worker(embedded_site, "console-test")
    expect(banner).to_be_hidden()  # the console hears of it without a reload

    river = signed_in_page(base, "river", "demo-river-pass", viewport={"width": 390, "height": 844})
    river.goto("/rooms/anxiety/")
    expect(river.locator("#status")).to_have_text("Connected")
    river.fill("#body", MISSED_BY_THE_LEXICON)
    river.keyboard.press("Enter")
    expect(river.locator("#support-card")).to_be_visible()  # the card, a moment later
    alert = maple.locator("#alerts li.alert").first
    expect(alert.locator(".source")).to_have_text("Second reader")
    expect(alert.locator(".second-reader")).to_contain_text("raised this to")
    expect(alert.locator(".second-reader")).to_contain_text("the lexicon read none")
    expect(alert.locator(".second-reader")).to_contain_text("crisis-or-worse score")

    worker.kill()
    expect(banner).to_be_visible(timeout=20_000)
    expect(banner).to_contain_text("Last seen")


def test_a_held_message_leaves_no_trace_for_peers_until_it_is_restored(embedded_site, signed_in_page):
    embedded_site.manage("shell", "-v0", "-c",
                         "from rooms.models import Room; Room.objects.filter(slug='anxiety').update(hold_imminent=True)")
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    river = signed_in_page(base, "river", "demo-river-pass", viewport={"width": 390, "height": 844})
    sky = signed_in_page(base, "sky", "demo-sky-pass")
    maple = signed_in_page(base, "maple", "demo-maple-pass")
    in_room("anxiety", river, sky, maple)

    river.fill("#body", "I am going to jump off the bridge tonight")
    river.keyboard.press("Enter")
    own = river.locator("#messages li", has_text="jump off the bridge")
    expect(own.locator(".held-note")).to_contain_text("Only you and the facilitators")
    expect(own).to_have_class("message mine held-mine")  # their own words, calmly: not styled as censored
    assert "[hidden]" not in own.locator(".body").evaluate("e => getComputedStyle(e, '::before').content")
    held = maple.locator("#messages li", has_text="jump off the bridge")
    expect(held).to_have_class("message hidden-msg")
    sky.fill("#body", "evening all")
    sky.keyboard.press("Enter")
    expect(river.locator("#messages li", has_text="evening all")).to_have_count(1)
    expect(sky.locator("#messages li")).to_have_count(1)  # nothing of river's, and no gap to fill
    assert sky.locator("#messages li").first.get_attribute("data-seq") == "1"

    held.locator("summary").click()
    held.get_by_role("button", name="Restore").click()
    expect(sky.locator("#messages li").last).to_contain_text("jump off the bridge")
    assert sky.locator("#messages li").last.get_attribute("data-seq") == "2"
    expect(own).to_have_count(1)  # the held copy swapped for the restored one, not doubled
    expect(own.locator(".held-note")).to_have_count(0)
    expect(river.locator("#messages li").last).to_contain_text("jump off the bridge")


def test_help_is_one_tap_from_the_login_page_on_a_phone(embedded_site, browser):
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    context = browser.new_context(base_url=base, viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    page.goto("/login/")
    page.get_by_role("link", name="Need help now?").click()
    expect(page).to_have_url(base + "/help/")
    expect(page.locator("a[href='tel:116123']")).to_be_visible()  # Samaritans, from the browser's en-GB
    expect(page.locator(".emergency a[href='tel:999']")).to_be_visible()
    page.select_option("#country", "AU")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("a[href='tel:131114']")).to_be_visible()
    context.close()


def test_a_facilitator_reading_a_room_sees_an_imminent_alert_from_another(embedded_site, signed_in_page):
    base = f"http://127.0.0.1:{embedded_site.start_daphne()}"
    maple = signed_in_page(base, "maple", "demo-maple-pass")
    river = signed_in_page(base, "river", "demo-river-pass")
    in_room("anxiety", maple)
    in_room("grief-and-loss", river)
    river.fill("#body", "I am going to jump off the bridge tonight")
    river.keyboard.press("Enter")
    banner = maple.locator("#alert-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("IMMINENT alert: river in Grief")
    expect(banner.locator("a")).to_have_attribute("href", "/console/")
    expect(maple).to_have_title("(!) imminent alert · Anxiety · Peer Support Rooms")
    expect(river.locator("#alert-banner")).to_be_hidden()
