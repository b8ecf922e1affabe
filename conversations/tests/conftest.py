"""Small fixtures shared by the conversation tests."""

import itertools
import json
import threading
import time
import uuid
from collections import deque
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bookings.tests.stripe_fake import stripe_api  # noqa: F401 (a fixture)
from conversations import transitions
from conversations.channels import whatsapp
from conversations.management.commands.db_worker import Worker as LeadbotWorker
from conversations.models import TRANSITIONS, Client, Lead, Message, MessageStatus, Question, Status
from conversations.questions import seed_default_script

_phones = itertools.count(447700900001)


def path_to(status):
    """The shortest list of transition names that takes a NEW lead to `status`."""
    queue, seen = deque([(Status.NEW, [])]), {Status.NEW}
    while queue:
        current, path = queue.popleft()
        if current == status:
            return path
        for name, (sources, target) in TRANSITIONS.items():
            targets = target if isinstance(target, tuple) else (target,)
            if current in sources and name != "resume":
                for nxt in targets:
                    if nxt not in seen:
                        seen.add(nxt)
                        queue.append((nxt, [*path, name]))
    raise AssertionError(f"{status} is unreachable from NEW")


@pytest.fixture
def make_client(db):
    def make(**fields):
        fields.setdefault("channel", "whatsapp")
        fields.setdefault("address", str(next(_phones)))
        return Client.objects.create(**fields)

    return make


@pytest.fixture
def make_lead(make_client):
    """A lead brought to `status` through real transitions (there is no other way in)."""

    def make(status=Status.NEW, client=None, **fields):
        lead = Lead.objects.create(client=client or make_client(), **fields)
        for name in path_to(status):
            lead = transitions.transition(lead, name, reason="fixture", actor="test")
        return lead

    return make


# A verbatim copy of ../shared/fixtures/whatsapp (MIT, see its LICENSE), so a clone runs alone.
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "whatsapp"


def whatsapp_fixture(filename, variant):
    """One real-shaped Cloud API body from fixtures/whatsapp."""
    return json.loads((FIXTURES / filename).read_text())[variant]


def text_payload(body, *, wa_id="447700900500", message_id=None, timestamp=None, name="Sam"):
    """A Cloud API text-message webhook body, shaped like the shared fixtures."""
    payload = whatsapp_fixture("message.json", "text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0].update({"wa_id": wa_id, "profile": {"name": name}})
    value["messages"][0].update(
        {
            "from": wa_id,
            "id": message_id or f"wamid.{uuid.uuid4().hex}",
            "timestamp": str(int(timestamp if timestamp is not None else time.time())),
            "text": {"body": body},
        }
    )
    return payload


def fresh_fixture(filename, variant, *, wa_id="447700900500", message_id=None):
    """A fixture body whose messages get new ids, the sender `wa_id` and a current timestamp."""
    payload = whatsapp_fixture(filename, variant)
    for entry in payload["entry"]:
        for change in entry["changes"]:
            value = change["value"]
            for contact in value.get("contacts", ()):
                contact["wa_id"] = wa_id
            for message in value.get("messages", ()):
                message.update(
                    {
                        "from": wa_id,
                        "id": message_id or f"wamid.{uuid.uuid4().hex}",
                        "timestamp": str(int(time.time())),
                    }
                )
    return payload


def sign_body(raw):
    return whatsapp.sign(raw, settings.WHATSAPP_APP_SECRET)


@pytest.fixture
def post_whatsapp(client):
    """POST a payload (dict or raw bytes) to the WhatsApp webhook, signed like Meta signs it."""

    def post(payload, *, signature=None, **headers):
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if signature is None:
            signature = sign_body(raw)
        if signature is not False:
            headers["HTTP_X_HUB_SIGNATURE_256"] = signature
        return client.post("/webhooks/whatsapp/", raw, content_type="application/json", **headers)

    return post


def in_process_worker(lease_seconds, worker_id="reaper"):
    """Our `db_worker`'s Worker (reconnects, re-queues lost tasks), as the command builds it."""
    return LeadbotWorker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
        lease_seconds=lease_seconds,
        reconnect_max_seconds=1,
    )


def run_worker():
    """Run every ready task the way `db_worker` does, on this connection (inside the test)."""
    worker = in_process_worker(lease_seconds=300, worker_id="test-worker")
    ran = 0
    while (task_result := DBTaskResult.objects.ready().get_locked()) is not None:
        task_result.claim(worker.worker_id)
        worker.run_task(task_result)
        ran += 1
    return ran


@pytest.fixture
def seeded_script(db):
    """The default consultation script; transactional tests flush the seeded rows, so reseed."""
    seed_default_script(Question)
    return list(Question.objects.script())


@pytest.fixture
def answer_late(httpserver):
    """A provider handler that answers only after the client gave up (a timeout).

    The late answer is let through before the test ends, so its log entry cannot leak into
    the next test that shares the server.
    """
    released = threading.Event()

    def respond_with(response):
        def handler(request):
            released.wait(5)
            return response

        return handler

    yield respond_with
    released.set()
    deadline = time.monotonic() + 5
    while not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.01)


PHONE_ID = "1122334455667"
WINDOW_ADDRESS = "447700900321"


@pytest.fixture
def graph(httpserver, settings):
    """A fake Graph API; the app talks to it over HTTP exactly as to Meta's."""
    settings.OUTBOUND_DRY_RUN = False
    settings.WHATSAPP_API_BASE = httpserver.url_for("/v21.0")
    settings.WHATSAPP_ACCESS_TOKEN = "test-token"
    settings.WHATSAPP_PHONE_NUMBER_ID = PHONE_ID
    return httpserver


@pytest.fixture
def client_in_window(make_client):
    """A client who wrote to us a minute ago, so the 24-hour window is open."""
    person = make_client(address=WINDOW_ADDRESS)
    Message.objects.create(
        client=person,
        channel="whatsapp",
        direction="in",
        external_id="wamid.in-1",
        body="hi",
        status=MessageStatus.PROCESSED,
        created_at=timezone.now() - timedelta(minutes=1),
    )
    return person
