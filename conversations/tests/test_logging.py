"""Logs: one JSON line per webhook outcome, transition and send, under the request's id."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.db import transaction

from conversations import outbox, tasks, transitions
from conversations.models import Message, Status
from conversations.tests.conftest import text_payload
from conversations.tests.servers import REPO
from leadbot.logs import JSONFormatter

pytestmark = pytest.mark.django_db

PHONE = "447700900777"
BODY = "A fine-line rose on my wrist, please"


@pytest.fixture
def log_lines():
    """Every record written while the test runs, through the production JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.addHandler(handler)

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)


def test_a_webhook_message_is_one_json_line_with_the_callers_request_id(
    post_whatsapp, log_lines, django_capture_on_commit_callbacks
):
    response = post_whatsapp(
        text_payload(BODY, wa_id=PHONE), HTTP_X_REQUEST_ID="req-3f2a9c1e-webhook"
    )

    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-3f2a9c1e-webhook"
    [line] = [line for line in log_lines() if line["event"] == "webhook.message"]
    message = Message.objects.inbound().get()
    assert line == {
        "timestamp": line["timestamp"],
        "level": "info",
        "logger": "conversations.webhooks",
        "event": "webhook.message",
        "request_id": "req-3f2a9c1e-webhook",
        "channel": "whatsapp",
        "outcome": "processed",
        "message_id": message.pk,
        "lead_id": message.lead_id,
    }


def test_a_batch_logs_one_line_per_message(post_whatsapp, log_lines):
    payload = text_payload("first", wa_id=PHONE)
    value = payload["entry"][0]["changes"][0]["value"]
    second = {**value["messages"][0], "id": "wamid.second", "text": {"body": "second"}}
    value["messages"].append(second)

    post_whatsapp(payload)

    outcomes = [line["outcome"] for line in log_lines() if line["event"] == "webhook.message"]
    assert sorted(outcomes) == ["processed", "processed"]


def test_info_lines_carry_neither_the_phone_number_nor_the_message(
    post_whatsapp, log_lines, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_whatsapp(text_payload(BODY, wa_id=PHONE))

    info = [json.dumps(line) for line in log_lines() if line["level"] == "info"]
    assert info  # the webhook line and the lead's first transition at least
    assert not [line for line in info if PHONE in line or "fine-line rose" in line]


def test_a_request_id_that_is_not_an_id_is_replaced_and_the_new_one_echoed(
    post_whatsapp, log_lines
):
    response = post_whatsapp(
        text_payload(BODY, wa_id=PHONE), HTTP_X_REQUEST_ID='x" level=error forged'
    )

    generated = response["X-Request-ID"]
    assert len(generated) == 32 and generated.isalnum()
    [line] = [line for line in log_lines() if line["event"] == "webhook.message"]
    assert line["request_id"] == generated


def test_a_webhook_refusal_is_logged_once_with_its_reason(post_whatsapp, log_lines):
    response = post_whatsapp(text_payload(BODY, wa_id=PHONE), signature=False)

    assert response.status_code == 401
    [line] = log_lines()  # not again by Django's request logger
    assert (line["event"], line["level"], line["status_code"]) == (
        "webhook.rejected",
        "warning",
        401,
    )
    assert line["request_id"] == response["X-Request-ID"]


def test_a_bad_json_body_is_logged_once(post_whatsapp, log_lines):
    response = post_whatsapp(b"{not json")

    assert response.status_code == 400
    lines = log_lines()
    assert [(line["event"], line["status_code"]) for line in lines] == [("webhook.rejected", 400)]
    assert lines[0]["request_id"] == response["X-Request-ID"]


def test_an_api_request_without_a_token_is_logged_once(client, db, log_lines):
    response = client.get("/api/leads/")

    assert response.status_code == 401
    [line] = log_lines()
    assert (line["logger"], line["event"], line["status_code"]) == (
        "django.request",
        "Unauthorized: /api/leads/",
        401,
    )
    assert line["request_id"] == response["X-Request-ID"]


def test_a_committed_transition_is_one_line_with_the_lead(
    make_lead, log_lines, django_capture_on_commit_callbacks
):
    lead = make_lead(Status.QUALIFYING)

    with django_capture_on_commit_callbacks(execute=True):
        transitions.transition(lead, "hand_over", reason="asked for a human", actor="bot")

    [line] = [line for line in log_lines() if line["event"] == "lead.transition"]
    assert {k: line[k] for k in ("lead_id", "transition", "from_status", "to_status")} == {
        "lead_id": lead.pk,
        "transition": "hand_over",
        "from_status": "QUALIFYING",
        "to_status": "NEEDS_ARTIST_REPLY",
    }


def test_a_transition_rolled_back_with_its_caller_is_not_logged(
    make_lead, log_lines, django_capture_on_commit_callbacks
):
    lead = make_lead(Status.QUALIFYING)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        transitions.transition(lead, "hand_over", reason="", actor="bot")
        transaction.set_rollback(True)

    assert not [line for line in log_lines() if line["event"] == "lead.transition"]


def test_a_send_is_logged_under_the_request_that_queued_it(
    post_whatsapp, log_lines, django_capture_on_commit_callbacks
):
    response = post_whatsapp(text_payload(BODY, wa_id=PHONE), HTTP_X_REQUEST_ID="req-7d1e0b55")
    reply = Message.objects.outbound().first()
    assert reply.payload["request_id"] == "req-7d1e0b55"

    tasks.deliver(reply.pk)  # in the worker, long after the request

    [line] = [line for line in log_lines() if line["event"] == "message.send"]
    assert response.status_code == 200
    assert (line["request_id"], line["lead_id"], line["message_id"], line["status"]) == (
        "req-7d1e0b55",
        reply.lead_id,
        reply.pk,
        "sent",
    )
    assert "error" not in line


def test_a_message_queued_outside_a_request_has_no_request_id(make_lead):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY)
    message = outbox.queue_message(lead.client, "Hello", lead=lead, actor="artist:ink")
    assert "request_id" not in message.payload


def test_a_forged_line_in_client_data_stays_inside_one_json_line():
    """Through the real LOGGING configuration, in a process of its own."""
    forged = '"}\n{"level": "info", "event": "webhook.message", "outcome": "processed"}'
    program = (
        "import django, logging\n"
        "django.setup()\n"
        "logging.getLogger('conversations.flows.inbound').warning('Inbound %s failed', FORGED)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"FORGED = {forged!r}\n{program}"],
        cwd=REPO,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "leadbot.settings",
            "DJANGO_DEBUG": "1",
            "LOG_FORMAT": "json",
        },
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    [line] = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert line["event"] == f"Inbound {forged} failed"
    assert line["level"] == "warning"


def test_with_debug_on_a_refusal_is_still_logged_once():
    """Django's default logging adds a DEBUG-only console handler; it must not write again."""
    program = (
        "import django\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "Client().post('/webhooks/whatsapp/', b'{}', content_type='application/json')\n"
        "Client().get('/api/leads/')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "leadbot.settings", "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len([line for line in lines if "webhook.rejected" in line]) == 1, lines
    assert len([line for line in lines if "/api/leads/" in line]) == 1, lines
    assert not [line for line in lines if "/webhooks/whatsapp/" in line], lines
