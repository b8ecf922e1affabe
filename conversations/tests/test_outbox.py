"""The outbox: queued in the caller's transaction, sent after commit, retried, never doubled.

The provider is a real HTTP server on 127.0.0.1 (pytest-httpserver) speaking the Graph API.
"""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.compat import task_enqueued
from django_tasks_db.models import DBTaskResult
from werkzeug import Response

from conversations import outbox, tasks
from conversations.channels.base import StatusUpdate
from conversations.flows.inbound import record_status_update
from conversations.models import Client, Message, MessageStatus
from conversations.tasks import attempts
from conversations.tests.conftest import PHONE_ID, run_worker

pytestmark = pytest.mark.django_db


def accepted(message_id):
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "447700900321", "wa_id": "447700900321"}],
        "messages": [{"id": message_id}],
    }


def graph_error(code, message="error"):
    return {"error": {"message": message, "type": "OAuthException", "code": code}}


MESSAGES_PATH = f"/v21.0/{PHONE_ID}/messages"


def test_a_queued_message_waits_for_commit_and_a_rollback_sends_nothing(client_in_window):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.queue_message(client_in_window, "Thanks!")
        raise RuntimeError("the flow failed")
    assert not Message.objects.outbound().exists()
    assert not DBTaskResult.objects.exists()


def test_queueing_writes_the_row_and_its_send_task_together(client_in_window):
    message = outbox.queue_message(client_in_window, "Thanks!")
    assert message.status == MessageStatus.QUEUED
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [message.pk]


def test_the_send_task_row_is_the_one_django_tasks_writes_itself(client_in_window):
    # The outbox writes the task row with its own cached INSERT (issue 13); the library's
    # enqueue is the reference it must match, column for column.
    ours = outbox.queue_message(client_in_window, "Thanks!")
    theirs = tasks.send_message.enqueue(ours.pk)
    columns = ("status", "args_kwargs", "priority", "task_path", "queue_name", "backend_name")
    columns += ("run_after", "worker_ids", "return_value", "exception_class_path", "traceback")
    ours_row, theirs_row = (
        DBTaskResult.objects.filter(args_kwargs__args=[ours.pk]).exclude(id=theirs.id).get(),
        DBTaskResult.objects.get(id=theirs.id),
    )
    assert [getattr(ours_row, c) for c in columns] == [getattr(theirs_row, c) for c in columns]
    assert ours_row.enqueued_at is not None
    assert tasks.send_message.get_result(str(ours_row.id)).status == theirs.status


def test_a_task_enqueued_receiver_is_told_of_the_send_task(client_in_window):
    announced = []

    def receiver(sender, task_result, **kwargs):
        announced.append(task_result)

    task_enqueued.connect(receiver)
    try:
        message = outbox.queue_message(client_in_window, "Thanks!")
    finally:
        task_enqueued.disconnect(receiver)
    (result,) = announced
    assert str(result.id) == str(DBTaskResult.objects.get().id)
    assert result.args == [message.pk]


def test_django_tasks_logs_the_enqueued_send_at_debug(client_in_window, caplog):
    with caplog.at_level("DEBUG", logger="django_tasks"):
        outbox.queue_message(client_in_window, "Thanks!")
    task = DBTaskResult.objects.get()
    assert any(f"Task id={task.id}" in record.getMessage() for record in caplog.records)


def test_dry_run_marks_sent_without_a_network_call(client_in_window, settings, httpserver):
    settings.OUTBOUND_DRY_RUN = True
    message = outbox.queue_message(client_in_window, "Thanks!")
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.external_id == f"dry-run-{message.pk}"
    assert len(httpserver.log) == 0


def test_a_send_posts_the_graph_api_request_and_records_the_provider_id(graph, client_in_window):
    graph.expect_oneshot_request(MESSAGES_PATH, method="POST").respond_with_json(
        accepted("wamid.OUT1")
    )
    message = outbox.queue_message(client_in_window, "Thanks — what's your idea?")

    run_worker()

    message.refresh_from_db()
    assert (message.status, message.external_id, message.attempts) == (
        MessageStatus.SENT,
        "wamid.OUT1",
        1,
    )
    request, _ = graph.log[0]
    assert request.headers["Authorization"] == "Bearer test-token"
    body = json.loads(request.data)
    assert body["to"] == "447700900321"
    assert body["text"]["body"] == "Thanks — what's your idea?"


def test_a_sent_message_is_never_sent_again(graph, client_in_window):
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_json(accepted("wamid.A"))
    message = outbox.queue_message(client_in_window, "once")
    run_worker()
    tasks.send_message.enqueue(message.pk)  # a stray duplicate task
    run_worker()
    assert len(graph.log) == 1


def test_a_4xx_is_permanent_dead_at_once_with_no_retry(graph, client_in_window):
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        graph_error(100, "Invalid parameter"), status=400
    )
    message = outbox.queue_message(client_in_window, "hello")
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.DEAD
    assert "100" in message.last_error
    assert len(graph.log) == 1
    assert not DBTaskResult.objects.ready().exists()


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_is_retried_later_with_backoff(graph, client_in_window, status):
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        graph_error(2, "Service temporarily unavailable"), status=status
    )
    before = timezone.now()
    message = outbox.queue_message(client_in_window, "hello")
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 1
    assert before + timedelta(seconds=14) < message.next_attempt_at
    assert message.next_attempt_at < before + timedelta(seconds=31)
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.run_after == message.next_attempt_at


def test_a_timeout_waits_for_a_receipt_before_any_retry(
    graph, client_in_window, settings, answer_late
):
    late = answer_late(
        Response(json.dumps(accepted("wamid.late")), content_type="application/json")
    )
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_handler(late)
    settings.OUTBOUND_TIMEOUT_SECONDS = 0.2
    message = outbox.queue_message(client_in_window, "hello")
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.UNKNOWN
    assert "timeout" in message.last_error
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.run_after == message.next_attempt_at


def test_the_last_failed_attempt_makes_the_message_dead(graph, client_in_window):
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_json(graph_error(2), status=503)
    message = outbox.queue_message(client_in_window, "hello")
    Message.objects.filter(pk=message.pk).update(attempts=tasks.MAX_ATTEMPTS - 1)
    run_worker()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.DEAD, tasks.MAX_ATTEMPTS)


def test_a_claimed_message_is_not_claimed_again_until_its_lease_lapses(client_in_window):
    message = outbox.queue_message(client_in_window, "hello")
    assert tasks.claim(message.pk) is not None
    assert tasks.claim(message.pk) is None
    later = timezone.now() + tasks.claim_lease() + timedelta(seconds=1)
    assert tasks.claim(message.pk, now=later) is not None


def test_a_worker_killed_mid_send_leaves_the_row_for_the_sweep(graph, client_in_window):
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_json(accepted("wamid.B"))
    message = outbox.queue_message(client_in_window, "hello")
    tasks.claim(message.pk)  # the dead worker's claim; it never recorded an outcome
    DBTaskResult.objects.all().delete()

    later = timezone.now() + tasks.claim_lease() + timedelta(seconds=1)
    assert tasks.requeue_due(now=later) == [message.pk]
    Message.objects.filter(pk=message.pk).update(claimed_until=timezone.now())
    run_worker()

    # The dead worker may have sent it: no second send until the receipt window has passed.
    message.refresh_from_db()
    assert message.status == MessageStatus.UNKNOWN
    assert len(graph.log) == 0
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    run_worker()

    message.refresh_from_db()
    assert (message.status, message.external_id) == (MessageStatus.SENT, "wamid.B")


def test_outside_the_24_hour_window_a_free_form_message_is_not_sent(graph, make_client):
    quiet = make_client()
    message = outbox.queue_message(quiet, "Are you still there?")
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.DEAD
    assert "window" in message.last_error
    assert len(graph.log) == 0


def test_outside_the_window_the_template_fallback_goes_instead(graph, make_client):
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_json(accepted("wamid.T"))
    quiet = make_client()
    message = outbox.queue_message(
        quiet, "Your deposit link is ready", template={"name": "deposit_reminder"}
    )
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    body = json.loads(graph.log[0][0].data)
    assert (body["type"], body["template"]["name"]) == ("template", "deposit_reminder")


def test_a_131047_from_the_provider_is_not_retried(graph, client_in_window):
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        graph_error(131047, "Re-engagement message"), status=400
    )
    message = outbox.queue_message(client_in_window, "hello")
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.DEAD
    assert len(graph.log) == 1


def test_nothing_is_queued_for_an_opted_out_client(client_in_window):
    Client.objects.filter(pk=client_in_window.pk).update(opted_out_at=timezone.now())
    client_in_window.refresh_from_db()
    with pytest.raises(outbox.OptedOut):
        outbox.queue_message(client_in_window, "one more thing")


def test_the_opt_out_confirmation_still_goes(graph, client_in_window):
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_json(accepted("wamid.C"))
    Client.objects.filter(pk=client_in_window.pk).update(opted_out_at=timezone.now())
    client_in_window.refresh_from_db()
    message = outbox.queue_message(
        client_in_window, "You're unsubscribed.", purpose=outbox.OPT_OUT_CONFIRMATION
    )
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_message_queued_before_stop_is_never_sent_after_it(graph, client_in_window):
    message = outbox.queue_message(client_in_window, "next question")
    Client.objects.filter(pk=client_in_window.pk).update(opted_out_at=timezone.now())
    run_worker()
    message.refresh_from_db()
    assert (message.status, message.last_error) == (MessageStatus.DEAD, "client opted out")
    assert len(graph.log) == 0


def test_sms_goes_through_twilio(httpserver, settings, make_client):
    settings.OUTBOUND_DRY_RUN = False
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "twilio-token"
    settings.TWILIO_FROM_NUMBER = "+447700900000"
    settings.TWILIO_API_BASE = httpserver.url_for("")
    httpserver.expect_request(
        f"/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Messages.json", method="POST"
    ).respond_with_json(
        {"sid": "SM" + "1" * 32, "status": "queued", "to": "+447700900777", "body": "hi"},
        status=201,
    )
    person = make_client(channel="sms", address="+447700900777")
    message = outbox.queue_message(person, "hi")
    run_worker()
    message.refresh_from_db()
    assert (message.status, message.external_id) == (MessageStatus.SENT, "SM" + "1" * 32)


def test_flush_outbox_reenqueues_due_messages(client_in_window):
    message = outbox.queue_message(client_in_window, "hello")
    DBTaskResult.objects.all().delete()  # the task was lost with its worker
    long_ago = timezone.now() - tasks.claim_lease() - timedelta(seconds=1)
    Message.objects.filter(pk=message.pk).update(updated_at=long_ago)
    call_command("flush_outbox", stdout=io.StringIO())
    assert DBTaskResult.objects.get().args_kwargs["args"] == [message.pk]


def test_flush_outbox_leaves_fresh_messages_to_their_own_task(client_in_window):
    outbox.queue_message(client_in_window, "hello")
    call_command("flush_outbox", stdout=io.StringIO())
    assert DBTaskResult.objects.count() == 1


def test_a_long_text_that_fails_half_way_resumes_where_it_stopped(graph, client_in_window):
    first, second = "a" * 4000, "b" * 100
    graph.expect_ordered_request(MESSAGES_PATH, method="POST").respond_with_json(
        accepted("wamid.P1")
    )
    graph.expect_ordered_request(MESSAGES_PATH, method="POST").respond_with_json(
        graph_error(2), status=503
    )
    graph.expect_ordered_request(MESSAGES_PATH, method="POST").respond_with_json(
        accepted("wamid.P2")
    )
    message = outbox.queue_message(client_in_window, first + "\n\n" + second)

    run_worker()
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    DBTaskResult.objects.all().delete()
    tasks.deliver(message.pk)

    bodies = [json.loads(request.data)["text"]["body"] for request, _ in graph.log]
    assert bodies == [first, second, second]
    message.refresh_from_db()
    assert (message.status, message.payload["sent_parts"]) == (
        MessageStatus.SENT,
        ["wamid.P1", "wamid.P2"],
    )


def test_a_receipt_that_beat_the_send_record_is_applied_when_it_lands(graph, client_in_window):
    graph.expect_request(MESSAGES_PATH, method="POST").respond_with_json(accepted("wamid.R"))
    message = outbox.queue_message(client_in_window, "hello")
    record_status_update(
        StatusUpdate("whatsapp", "wamid.R", "delivered", timezone.now(), "447700900321")
    )
    run_worker()
    message.refresh_from_db()
    assert (message.external_id, message.status) == ("wamid.R", MessageStatus.DELIVERED)


def test_artist_notes_carry_the_approved_template_when_one_is_set(settings):
    settings.ARTIST_PHONE = "+447700900000"
    settings.ARTIST_NOTIFICATION_TEMPLATE = "artist_note"
    note = outbox.queue_artist_note("Lead #4 needs you")
    template = note.payload["template"]
    assert template["name"] == "artist_note"
    assert template["components"][0]["parameters"][0]["text"] == "Lead #4 needs you"


def test_the_lead_records_when_something_last_went_out(client_in_window, settings, make_lead):
    settings.OUTBOUND_DRY_RUN = True
    lead = make_lead(client=client_in_window)
    outbox.queue_message(client_in_window, "Thanks!", lead=lead)
    lead.refresh_from_db()
    assert lead.last_outbound_at is None  # queued is not sent
    run_worker()
    lead.refresh_from_db()
    assert lead.last_outbound_at == Message.objects.outbound().get().sent_at


def test_a_request_we_built_wrong_is_dead_at_once(graph, client_in_window):
    # Four buttons break the Cloud API's limit of three: the client refuses before any request.
    message = outbox.queue_message(
        client_in_window, "Pick one", buttons=[("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")]
    )
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.DEAD
    assert message.last_error.startswith("ValueError")
    assert len(graph.log) == 0
    assert not DBTaskResult.objects.ready().exists()


def test_a_worker_whose_claim_lapsed_does_not_overwrite_the_next_workers_outcome(
    client_in_window, settings
):
    settings.OUTBOUND_DRY_RUN = True
    message = outbox.queue_message(client_in_window, "hello")
    slow = tasks.claim(message.pk)
    later = timezone.now() + tasks.claim_lease() + timedelta(seconds=1)
    fast = tasks.claim(message.pk, now=later)

    attempts.record(fast, status=MessageStatus.SENT, external_id="wamid.fast")
    assert attempts.record(slow, status=MessageStatus.SENT, external_id="wamid.slow") == 0

    message.refresh_from_db()
    assert message.external_id == "wamid.fast"
