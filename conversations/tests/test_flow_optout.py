"""STOP always wins, with exactly one confirmation; START brings the client back."""

import pytest
from django.utils import timezone

from conversations import outbox
from conversations.models import Lead, Message, Status
from conversations.tests.test_flow_support import Chat

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "Stop.", "STOPALL", "unsubscribe", "opt out", "END", "quit", "cancel"]
)
def test_every_opt_out_keyword_as_the_whole_message(make_client, seeded_script, word):
    chat = Chat(make_client(), "flow")
    chat.say("hi")
    [confirmation] = chat.send(word)
    assert confirmation.payload["purpose"] == outbox.OPT_OUT_CONFIRMATION
    assert chat.lead.status == Status.OPTOUT


@pytest.mark.parametrize("text", ["I'll stop by", "don't stop", "please stop by the studio"])
def test_stop_inside_a_sentence_is_not_an_opt_out(make_client, seeded_script, text):
    chat = Chat(make_client(), "flow")
    chat.say("hi")
    chat.say(text)
    assert chat.lead.status == Status.QUALIFYING
    chat.client.refresh_from_db()
    assert chat.client.opted_out_at is None


def test_stop_through_the_webhook_is_confirmed_once_and_silences_everything(
    make_client, seeded_script
):
    chat = Chat(make_client(), "webhook")
    chat.say("hi")
    assert len(chat.send("STOP")) == 1
    assert chat.send("A rose") == []
    assert chat.send("STOP") == []
    chat.client.refresh_from_db()
    assert chat.client.is_opted_out
    # The confirmation is the one message the outbox lets through to an opted-out client.
    confirmation = Message.objects.outbound().filter(client=chat.client).last()
    assert confirmation.payload["purpose"] == outbox.OPT_OUT_CONFIRMATION


def test_start_without_stop_is_just_a_message(make_client, seeded_script):
    chat = Chat(make_client(), "flow")
    chat.say("hi")
    assert chat.say("start") == seeded_script[0].prompt  # the question, again
    assert chat.lead.status == Status.QUALIFYING


def test_an_opted_out_client_on_a_new_lead_hears_nothing_until_start(make_client, seeded_script):
    client = make_client(opted_out_at=timezone.now())
    chat = Chat(client, "flow")
    assert chat.send("hello") == []
    welcome = chat.say("START")
    assert seeded_script[0].prompt in welcome
    assert chat.lead.status == Status.QUALIFYING


def test_stop_while_waiting_on_the_artist_wins_over_the_handover(make_client, seeded_script):
    chat = Chat(make_client(), "flow")
    chat.say("hi")
    chat.say("can I talk to a human")
    assert chat.lead.status == Status.NEEDS_ARTIST_REPLY
    assert len(chat.send("STOP")) == 1
    assert chat.lead.status == Status.OPTOUT
    assert Lead.objects.filter(client=chat.client).count() == 1
