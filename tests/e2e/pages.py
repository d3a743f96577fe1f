"""What browser tests do on the way to what they test."""

from playwright.sync_api import expect


def in_room(slug: str, *pages) -> None:
    """Open the room on each page and wait until its socket is connected."""
    for page in pages:
        page.goto(f"/rooms/{slug}/")
        expect(page.locator("#status")).to_have_text("Connected")
