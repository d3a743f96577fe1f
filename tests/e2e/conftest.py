import pytest
from playwright.sync_api import expect

from tests.e2e.servers import RedisServer, Site


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def redis_site(tmp_path, redis_server):
    site = Site(tmp_path, redis_url=redis_server.url)
    yield site
    site.stop_all()


@pytest.fixture
def embedded_site(tmp_path):
    site = Site(tmp_path)
    yield site
    site.stop_all()


CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, and this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


# Waiting for what a person should see: a loaded CI host once needed more than Playwright's 5 s.
expect.set_options(timeout=15_000)


# Module scope: the sync API runs its own event loop, which must be gone before asyncio tests run.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def signed_in_page(browser):
    """Open a page in a fresh context, signed in through the login form."""
    contexts = []

    def open_as(base_url, username, password, viewport=None):
        context = browser.new_context(base_url=base_url, viewport=viewport or {"width": 1100, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(base_url + "/")
        return page

    yield open_as
    for context in contexts:
        context.close()
