"""The artist's workspace in a real browser: headless Chromium, at desktop and phone width.

An Artist-group user signs in, opens the needs-you list, opens the lead waiting for them,
reads the conversation, replies and hands the lead back. The list and the lead page are
saved under docs/screenshots/ at 1280 and 390 px (the README shows them).
"""

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from conversations.models import Message, MessageStatus, Status, StatusChange
from conversations.tests.artists import make_staff
from conversations.tests.conftest import run_worker, text_payload

CHROMIUM = "/usr/bin/chromium"
# This machine's network is closed: no sandbox (root), no GPU, nothing phoning home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "a-long-test-password-1"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
SAM = "447700900500"
CONSULTATION = [
    "Hi! I'd love a tattoo 🌹",
    "A fine-line rose with a small bee beside it",
    "Inner left forearm",
    "10 x 15 cm",
    "Can I speak to a real person please?",
]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -r requirements.txt)"
)
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None,
        reason=f"Chromium is not at {CHROMIUM}; `make test` installs it (apt-get, as root)",
    ),
]


@pytest.fixture
def workspace(settings, seeded_script, post_whatsapp, make_lead, make_client):
    """A few leads in different places, one of them handed over by the bot mid-consultation."""
    settings.OUTBOUND_DRY_RUN = True
    for body in CONSULTATION:
        post_whatsapp(text_payload(body, wa_id=SAM, name="Sam Taylor"))
    with transaction.atomic():  # as in a TestCase: the worker's claim locks its task row
        run_worker()  # the bot's replies go out (dry run): sent, not queued
    others = [
        ("Priya Shah", Status.PENDING_APPROVAL, "That all sounds right, yes!"),
        ("Tom Evans", Status.QUALIFYING, "Upper arm, outer side"),
        ("Ana Costa", Status.BOOKED, "See you on the 14th!"),
        ("Leo Martin", Status.REJECTED, "Could you do it for £50?"),
    ]
    for name, status, said in others:
        lead = make_lead(status, client=make_client(display_name=name))
        Message.objects.create(
            client=lead.client,
            lead=lead,
            channel="whatsapp",
            direction="in",
            external_id=f"wamid.{name}",
            body=said,
            status=MessageStatus.PROCESSED,
            created_at=timezone.now(),
        )
    make_staff("ink", artist=True, password=PASSWORD)
    sam = Message.objects.filter(client__address=SAM).latest("created_at").lead
    assert sam.status == Status.NEEDS_ARTIST_REPLY
    return sam


@contextmanager
def chromium_page():
    """A page of headless Chromium at desktop width.

    No ORM call may run inside: with Playwright's event loop running, Django would give the
    thread another connection, one nothing closes.
    """
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport=viewport("desktop"))
        finally:
            browser.close()


def viewport(width):
    return dict(zip(("width", "height"), WIDTHS[width], strict=True))


def screenshot(page, name, width):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(viewport(width))
    page.screenshot(path=SCREENSHOTS / f"{name}-{WIDTHS[width][0]}.png", full_page=True)


def test_an_artist_replies_to_a_waiting_lead_and_hands_it_back(workspace, live_server):
    with chromium_page() as page:
        walk_through(page, live_server.url)

    reply = Message.objects.outbound().get(body__contains="happy to chat about the rose")
    assert (reply.status, reply.payload["actor"], reply.lead_id) == (
        MessageStatus.QUEUED,
        "artist:ink",
        workspace.pk,
    )
    back = StatusChange.objects.filter(lead=workspace).latest("created_at", "id")
    assert (back.transition, back.actor) == ("resume", "artist:ink")


def walk_through(page, url):
    """Sign in, open the needs-you list and Sam's lead, reply, hand back: as the artist would."""
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ink")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    # The front page is the needs-you list: Sam (handed over) first.
    page.wait_for_selector("#result_list")
    assert page.inner_text("h1") == "Your enquiries"
    rows = page.locator("#result_list tbody tr")
    assert "Sam Taylor" in rows.nth(0).inner_text()
    assert "Needs artist reply" in rows.nth(0).inner_text()
    screenshot(page, "lead-list", "desktop")
    screenshot(page, "lead-list", "phone")

    rows.nth(0).get_by_role("link", name="Sam Taylor").click()
    timeline = page.locator(".lead-timeline")
    timeline.wait_for()
    assert "A fine-line rose with a small bee beside it" in timeline.inner_text()
    assert "Can I speak to a real person please?" in timeline.inner_text()

    page.fill(
        "textarea[name=body]", "Hi Sam, it's Jo — happy to chat about the rose. Call you at 5?"
    )
    page.get_by_role("button", name="Send", exact=True).click()
    queued = page.locator(".bubble.out.status-queued", has_text="happy to chat about the rose")
    queued.wait_for()
    assert "queued" in queued.inner_text()
    screenshot(page, "lead-page", "phone")
    screenshot(page, "lead-page", "desktop")

    page.get_by_role("button", name="Hand back to the bot").click()
    page.wait_for_selector(".messagelist")
    assert "Hand back to the bot: done." in page.inner_text(".messagelist")
    assert page.inner_text(".lead-head .lead-badge") == "Qualifying"
