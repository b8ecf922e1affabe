"""Inbound processing: failures are kept and replayable, and each main path has a fixed cost."""

import tempfile
import time
from contextlib import contextmanager

import pytest
from django.db import connection

from conversations.flows import inbound
from conversations.models import Answer, Lead, Message, MessageStatus, Question, StudioSettings
from conversations.tests.conftest import text_payload

pytestmark = pytest.mark.django_db

# An hour ago: recent enough that the provider's timestamp is believed (not clamped).
RECENT = int(time.time()) - 3600


def test_a_flow_that_raises_stores_the_message_as_failed_and_answers_200(post_whatsapp):
    post_whatsapp(text_payload("Hi", message_id="wamid.hi", timestamp=RECENT))
    # The artist mistyped a question's kind in the admin: the flow can't parse the answer.
    Question.objects.filter(key="idea").update(kind="bogus")

    response = post_whatsapp(text_payload("A rose", message_id="wamid.rose", timestamp=RECENT + 1))

    assert response.status_code == 200
    assert response.json()["outcomes"] == ["failed"]
    failed = Message.objects.get(external_id="wamid.rose")
    assert failed.status == MessageStatus.FAILED
    assert "bogus" in failed.last_error
    assert not Answer.objects.exists()


def test_replaying_a_failed_message_after_the_fix_processes_it_once(post_whatsapp):
    post_whatsapp(text_payload("Hi", message_id="wamid.hi", timestamp=RECENT))
    Question.objects.filter(key="idea").update(kind="bogus")
    post_whatsapp(text_payload("A rose", message_id="wamid.rose", timestamp=RECENT + 1))
    failed = Message.objects.get(external_id="wamid.rose")
    Question.objects.filter(key="idea").update(kind="text")

    first = inbound.replay(failed.pk)
    second = inbound.replay(failed.pk)
    redelivered = post_whatsapp(
        text_payload("A rose", message_id="wamid.rose", timestamp=RECENT + 1)
    )

    assert (first.outcome, second.outcome) == ("processed", "duplicate")
    assert redelivered.json()["duplicate"] is True
    failed.refresh_from_db()
    assert (failed.status, failed.last_error, failed.lead) == (
        MessageStatus.PROCESSED,
        "",
        Lead.objects.get(),
    )
    assert list(Answer.objects.values_list("question_key", "text")) == [("idea", "A rose")]


def test_a_replay_that_fails_again_keeps_the_message_failed(post_whatsapp):
    post_whatsapp(text_payload("Hi", message_id="wamid.hi", timestamp=RECENT))
    Question.objects.filter(key="idea").update(kind="bogus")
    post_whatsapp(text_payload("A rose", message_id="wamid.rose", timestamp=RECENT + 1))
    failed = Message.objects.get(external_id="wamid.rose")

    assert inbound.replay(failed.pk).outcome == "failed"
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED


# The statements each main path sends PostgreSQL, pinned: a change here is a change in
# per-message work on the hot path and should be deliberate. Counted on the wire (libpq's trace
# of the connection), so BEGIN, COMMIT and any connection health check count too; the request
# runs in a real transaction (transaction=True), as in production. A statement's Parse, sent
# once per connection when psycopg prepares it (prepare_threshold), executes nothing and is
# not counted.


@contextmanager
def statements_on_the_wire():
    """The statements the test's connection sends while the block runs (a list, filled after)."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    sent = []
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        try:
            yield sent
        finally:
            pgconn.untrace()
            trace.seek(0)
            for line in trace.read().decode(errors="replace").splitlines():
                fields = line.split("\t")
                # A simple query, or the Execute of an extended-protocol (bound or prepared)
                # one; a statement's text may run on over more lines.
                if len(fields) >= 4 and fields[1] == "F" and fields[3] in ("Query", "Execute"):
                    sent.append(fields[4].strip()[:80] if len(fields) > 4 else fields[3])


@pytest.fixture
def warm(post_whatsapp, seeded_script):
    """Another client's consultation has started: the worker has the script cached."""
    StudioSettings.load()  # the row production has (transactional tests flush it)
    post_whatsapp(text_payload("Hi", wa_id="447700900999", message_id="wamid.warm"))


@pytest.mark.django_db(transaction=True)
def test_a_first_message_of_a_new_client_sends_at_most_ten_statements(post_whatsapp, warm):
    # BEGIN, lock (none), client, lead, message, start_qualifying + its audit, the first
    # question with its task row (one statement), COMMIT.
    with statements_on_the_wire() as sent:
        post_whatsapp(text_payload("Hi", message_id="wamid.q1", timestamp=RECENT))
    assert len(sent) == 9, sent  # the budget: at most 10
    assert not any("SAVEPOINT" in statement for statement in sent)


@pytest.mark.django_db(transaction=True)
def test_a_mid_flow_answer_sends_at_most_eight_statements(post_whatsapp, warm):
    post_whatsapp(text_payload("Hi", message_id="wamid.q1", timestamp=RECENT))
    # BEGIN, lock client and lead, the message, the step UPDATE (with last_inbound_at), the
    # answer, the next question with its task row (one statement), COMMIT.
    with statements_on_the_wire() as sent:
        post_whatsapp(text_payload("A rose", message_id="wamid.q2", timestamp=RECENT + 1))
    assert len(sent) == 7, sent  # the budget: at most 8
    assert Lead.objects.get(client__address="447700900500").current_step == 1


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_sends_at_most_four_statements(post_whatsapp, warm):
    payload = text_payload("Hi", message_id="wamid.q1", timestamp=RECENT)
    post_whatsapp(payload)
    # BEGIN, the lock statement (which sees the message is stored), COMMIT.
    with statements_on_the_wire() as sent:
        assert post_whatsapp(payload).json()["duplicate"] is True
    assert len(sent) == 3, sent  # the budget: at most 4


@pytest.mark.django_db(transaction=True)
def test_a_message_after_the_connection_was_closed_reconnects(post_whatsapp, warm):
    # The hot path keeps one cursor per connection (leadbot.postgres.rows.kept_cursor).
    connection.close()
    response = post_whatsapp(text_payload("Hi", message_id="wamid.q1", timestamp=RECENT))
    assert response.json()["outcomes"] == ["processed"]


@pytest.mark.django_db(transaction=True)
def test_django_counts_the_hot_path_statements_too(post_whatsapp, warm, django_assert_num_queries):
    # Where Django logs queries, the kept cursor steps aside so every statement is seen: the
    # the same nine as on the wire.
    with django_assert_num_queries(9):
        post_whatsapp(text_payload("Hi", message_id="wamid.q1", timestamp=RECENT))


def test_a_sender_outside_the_pilot_allowlist_gets_one_polite_reply_a_day_and_no_lead(
    post_whatsapp, settings
):
    settings.PILOT_ALLOWLIST = ["+447700900001"]
    first = post_whatsapp(text_payload("Hi", wa_id="447700900999", message_id="wamid.p1"))
    post_whatsapp(text_payload("Hello?", wa_id="447700900999", message_id="wamid.p2"))

    assert first.json()["outcomes"] == ["not_allowlisted"]
    assert not Lead.objects.exists()
    assert Message.objects.inbound().filter(status=MessageStatus.IGNORED).count() == 2
    assert Message.objects.outbound().count() == 1


def test_an_allowlisted_sender_gets_the_consultation(post_whatsapp, settings):
    settings.PILOT_ALLOWLIST = ["+447700900001"]
    response = post_whatsapp(text_payload("Hi", wa_id="447700900001"))
    assert response.json()["outcomes"] == ["processed"]
    assert Lead.objects.get().status == "QUALIFYING"


def test_the_allowlist_matches_numbers_however_they_are_written(post_whatsapp, settings):
    settings.PILOT_ALLOWLIST = ["+44 7700 900001"]
    response = post_whatsapp(text_payload("Hi", wa_id="447700900001"))
    assert response.json()["outcomes"] == ["processed"]


def test_the_artists_number_is_recognised_however_it_is_written(post_whatsapp, settings):
    settings.ARTIST_PHONE = "+44 7700 900000"
    response = post_whatsapp(text_payload("note to self", wa_id="447700900000"))
    assert response.json()["outcomes"] == ["from_artist"]
    assert not Lead.objects.exists()


def test_panic_mode_stores_notifies_the_artist_holds_and_runs_no_flow(post_whatsapp, settings):
    settings.PANIC_MODE = True
    settings.ARTIST_PHONE = "+447700900000"
    post_whatsapp(text_payload("Hi", wa_id="447700900321", message_id="wamid.x1"))
    post_whatsapp(text_payload("Hello?", wa_id="447700900321", message_id="wamid.x2"))

    assert not Lead.objects.exists()
    assert Message.objects.inbound().count() == 2
    to_client = Message.objects.outbound().filter(client__address="447700900321")
    to_artist = Message.objects.outbound().filter(client__address="447700900000")
    assert (to_client.count(), to_artist.count()) == (1, 1)
    assert "Hi" in to_artist.get().body


def test_stop_is_honoured_even_in_panic_mode(post_whatsapp, settings):
    settings.PANIC_MODE = True
    post_whatsapp(text_payload("STOP", wa_id="447700900321"))
    assert Lead.objects.get().status == "OPTOUT"
    assert Message.objects.outbound().get().payload["purpose"] == "opt_out_confirmation"
