"""Inbound processing: failures are kept and replayable, and each main path has a fixed cost."""

import time

import pytest

from conversations.flows import inbound
from conversations.models import Answer, Lead, Message, MessageStatus, Question
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


# The SQL statements each main path costs, pinned: a change here is a change in per-message
# work on the hot path and should be deliberate. Inside a test the request's transaction is a
# savepoint, so each count includes SAVEPOINT + RELEASE where production has BEGIN + COMMIT.
def test_query_count_first_message_of_a_new_lead(post_whatsapp, django_assert_num_queries):
    # client, message, lead created; start_qualifying audited; first question queued.
    with django_assert_num_queries(19):
        post_whatsapp(text_payload("Hi", message_id="wamid.q1", timestamp=RECENT))


def test_query_count_mid_flow_answer(post_whatsapp, django_assert_num_queries):
    post_whatsapp(text_payload("Hi", message_id="wamid.q1", timestamp=RECENT))
    # message stored, lead locked, step advanced, answer stored, next question queued.
    with django_assert_num_queries(13):
        post_whatsapp(text_payload("A rose", message_id="wamid.q2", timestamp=RECENT + 1))


def test_query_count_duplicate(post_whatsapp, django_assert_num_queries):
    payload = text_payload("Hi", message_id="wamid.q1", timestamp=RECENT)
    post_whatsapp(payload)
    # client looked up, the insert refused by the unique constraint, rolled back.
    with django_assert_num_queries(5):
        post_whatsapp(payload)


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
