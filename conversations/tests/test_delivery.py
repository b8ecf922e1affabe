"""Delivery states that tell the truth: a claim no inbound lock can starve, and a send that
may have gone out is `unknown`, answered by its receipt or resent once after the window.

The provider is a real HTTP server on 127.0.0.1 (pytest-httpserver) speaking the Graph API.
"""

import json
import logging
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from werkzeug import Response

from conversations import outbox, tasks
from conversations.channels.base import StatusUpdate
from conversations.flows.inbound import record_status_update
from conversations.models import Message, MessageStatus
from conversations.tests.conftest import in_process_worker, run_worker
from conversations.tests.servers import database_url_for, free_port
from conversations.tests.test_outbox import MESSAGES_PATH, accepted

ADDRESS = "447700900321"


@pytest.fixture
def graph(graph, settings):
    """The fake Graph API, with a client timeout short enough to provoke read timeouts."""
    settings.OUTBOUND_TIMEOUT_SECONDS = 0.2
    return graph


@pytest.fixture
def accepts_too_late(graph):
    """Queue a provider answer that comes after our client gave up (it did take the message).

    Each answer is held until `release()`, so the single-threaded fake can serve the next one.
    At teardown every held answer is let through and logged before the server is cleared, so
    none can land in the next test's log.
    """
    held = []
    answering = []

    def queue(message_id):
        released = threading.Event()
        held.append(released)

        def handler(request):
            answering.append(message_id)
            released.wait(5)
            return Response(json.dumps(accepted(message_id)), content_type="application/json")

        graph.expect_ordered_request(MESSAGES_PATH, method="POST").respond_with_handler(handler)

    def release():
        for released in held:
            released.set()

    queue.release = release
    yield queue
    release()
    deadline = time.monotonic() + 5
    while len(graph.log) < len(answering) and time.monotonic() < deadline:
        time.sleep(0.01)


def run_the_real_worker():
    """`manage.py db_worker --batch` in this process: runs every ready task, then returns."""
    in_process_worker(lease_seconds=300, worker_id="test-real-worker").run()


def hold_in_another_connection(sql, params):
    """Run `sql` in a second, real connection and keep its transaction (and locks) open."""
    other = psycopg.connect(database_url_for(connection.settings_dict["NAME"]))
    other.execute(sql, params)
    return other


def make_retry_due(message):
    """Let the receipt window (or backoff) pass without waiting for it."""
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(next_attempt_at=now)
    DBTaskResult.objects.filter(status="READY").update(run_after=now)


def receipt(external_id, status="delivered"):
    return StatusUpdate("whatsapp", external_id, status, timezone.now(), ADDRESS)


@pytest.mark.django_db(transaction=True)
def test_a_claim_under_a_held_client_lock_sends_once(graph, client_in_window):
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_json(accepted("wamid.L"))
    message = outbox.queue_message(client_in_window, "Thanks — what's your idea?")
    inbound_in_progress = hold_in_another_connection(
        "SELECT id FROM conversations_client WHERE id = %s FOR NO KEY UPDATE",
        [client_in_window.pk],
    )
    try:
        run_the_real_worker()
    finally:
        inbound_in_progress.close()

    message.refresh_from_db()
    assert (message.status, message.external_id, message.attempts) == (
        MessageStatus.SENT,
        "wamid.L",
        1,
    )
    assert len(graph.log) == 1


@pytest.mark.django_db(transaction=True)
def test_a_send_whose_row_is_locked_tries_again_shortly_and_says_why(
    graph, client_in_window, settings, caplog
):
    settings.OUTBOX_BUSY_RETRY_SECONDS = 30
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_json(accepted("wamid.K"))
    message = outbox.queue_message(client_in_window, "hello")
    receipt_in_progress = hold_in_another_connection(
        "SELECT id FROM conversations_message WHERE id = %s FOR UPDATE", [message.pk]
    )
    try:
        with caplog.at_level(logging.INFO, logger="conversations.tasks"):
            run_the_real_worker()
    finally:
        receipt_in_progress.close()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)
    again = DBTaskResult.objects.get(status="READY")
    assert again.args_kwargs["args"] == [message.pk]
    assert again.run_after > timezone.now() + timedelta(seconds=20)
    assert f"Message {message.pk} is locked by another transaction" in caplog.text

    make_retry_due(message)
    run_the_real_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(graph.log) == 1


@pytest.mark.django_db
def test_a_read_timeout_makes_the_message_unknown_with_no_retry_yet(
    graph, client_in_window, accepts_too_late, settings
):
    accepts_too_late("wamid.late")
    message = outbox.queue_message(client_in_window, "hello")
    before = timezone.now()

    run_worker()

    message.refresh_from_db()
    assert message.status == MessageStatus.UNKNOWN
    assert message.get_status_display() == "May have been delivered"
    window = timedelta(seconds=settings.DELIVERY_RECEIPT_WINDOW_SECONDS)
    assert before + window <= message.next_attempt_at
    assert run_worker() == 0  # its one check is due after the window, not now


@pytest.mark.django_db
def test_a_receipt_after_a_read_timeout_makes_it_delivered_and_nothing_is_resent(
    graph, client_in_window, accepts_too_late
):
    accepts_too_late("wamid.late")
    message = outbox.queue_message(client_in_window, "hello")
    run_worker()
    accepts_too_late.release()

    record_status_update(receipt("wamid.late", "delivered"))

    message.refresh_from_db()
    assert (message.status, message.external_id) == (MessageStatus.DELIVERED, "wamid.late")
    make_retry_due(message)
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert len(graph.log) == 1


@pytest.mark.django_db
def test_no_receipt_within_the_window_means_exactly_one_more_attempt(
    graph, client_in_window, accepts_too_late
):
    accepts_too_late("wamid.late")
    graph.expect_ordered_request(MESSAGES_PATH, method="POST").respond_with_json(
        accepted("wamid.again")
    )
    message = outbox.queue_message(client_in_window, "hello")
    run_worker()
    accepts_too_late.release()

    make_retry_due(message)
    run_worker()
    tasks.send_message.enqueue(message.pk)  # a stray duplicate task
    run_worker()

    message.refresh_from_db()
    assert (message.status, message.external_id) == (MessageStatus.SENT, "wamid.again")
    assert len(graph.log) == 2


@pytest.mark.django_db
def test_a_message_that_may_have_gone_out_is_resent_at_most_once(
    graph, client_in_window, accepts_too_late
):
    accepts_too_late("wamid.late1")
    message = outbox.queue_message(client_in_window, "hello")
    run_worker()
    accepts_too_late.release()
    accepts_too_late("wamid.late2")
    make_retry_due(message)
    run_worker()

    message.refresh_from_db()
    assert (message.status, message.next_attempt_at) == (MessageStatus.UNKNOWN, None)
    assert "not sent again" in message.last_error
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert tasks.requeue_due(now=timezone.now() + timedelta(days=1)) == []


@pytest.mark.django_db
def test_a_refused_connection_is_retried_with_backoff_not_unknown(
    graph, client_in_window, settings
):
    settings.WHATSAPP_API_BASE = f"http://127.0.0.1:{free_port()}/v21.0"
    message = outbox.queue_message(client_in_window, "hello")
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.last_error.startswith("connection")


@pytest.mark.django_db
def test_a_refusal_by_the_provider_is_dead(graph, client_in_window):
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        {"error": {"message": "Invalid parameter", "code": 100}}, status=400
    )
    message = outbox.queue_message(client_in_window, "hello")
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.DEAD


@pytest.mark.django_db
def test_a_send_whose_worker_died_is_unknown_not_sent_again_at_once(graph, client_in_window):
    message = outbox.queue_message(client_in_window, "hello")
    tasks.claim(message.pk)  # the dead worker's attempt: no outcome was recorded
    Message.objects.filter(pk=message.pk).update(claimed_until=timezone.now())  # its lease lapsed
    checked_at = timezone.now()

    assert tasks.deliver(message.pk) == MessageStatus.UNKNOWN

    message.refresh_from_db()
    assert message.status == MessageStatus.UNKNOWN
    assert "never recorded" in message.last_error
    assert message.attempts == 1
    assert len(graph.log) == 0
    assert message.next_attempt_at >= checked_at + tasks.receipt_window()


@pytest.mark.django_db
def test_a_second_task_for_a_row_in_flight_comes_back_when_the_claim_lapses(client_in_window):
    message = outbox.queue_message(client_in_window, "hello")
    held = tasks.claim(message.pk)
    DBTaskResult.objects.all().delete()

    assert tasks.deliver(message.pk) == "in_flight"

    again = DBTaskResult.objects.get(status="READY")
    assert again.run_after > held.claimed_until


@pytest.mark.django_db
def test_a_receipt_answers_a_send_whose_worker_died_before_recording_it(graph, client_in_window):
    message = outbox.queue_message(client_in_window, "hello")
    tasks.claim(message.pk)  # the worker sent it and died before recording the id

    record_status_update(receipt("wamid.orphan", "sent"))

    message.refresh_from_db()
    assert (message.status, message.external_id, message.claimed_until) == (
        MessageStatus.SENT,
        "wamid.orphan",
        None,
    )
    assert not Message.objects.due(timezone.now() + timedelta(hours=1)).exists()


@pytest.mark.django_db
def test_a_receipt_for_someone_else_does_not_answer_an_unknown_send(
    graph, client_in_window, accepts_too_late
):
    accepts_too_late("wamid.late")
    message = outbox.queue_message(client_in_window, "hello")
    run_worker()

    record_status_update(
        StatusUpdate("whatsapp", "wamid.other", "delivered", timezone.now(), "447700900999")
    )

    message.refresh_from_db()
    assert (message.status, message.external_id) == (MessageStatus.UNKNOWN, "")


@pytest.mark.django_db
def test_the_admin_shows_an_unknown_send_as_may_have_been_delivered(admin_client, make_client):
    person = make_client()
    Message.objects.create(
        client=person,
        channel="whatsapp",
        direction="out",
        body="hello",
        status=MessageStatus.UNKNOWN,
    )
    page = admin_client.get("/admin/conversations/message/")
    assert page.status_code == 200
    assert "May have been delivered" in page.content.decode()
