"""Statuses without a conversation: never silent, never chatty."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import outbox
from conversations.models import CLOSED_STATUSES, Lead, Status, StudioSettings
from conversations.tests.test_flow_support import Chat

pytestmark = pytest.mark.django_db

WAITING = [
    Status.PENDING_APPROVAL,
    Status.AWAITING_DEPOSIT,
    Status.DEPOSIT_EXPIRED,
    Status.DEPOSIT_PAID,
    Status.BOOKING_LINK_SENT,
    Status.BOOKING_PENDING,  # with no slots on offer (test_booking_flow.py has the rest)
    Status.NEEDS_FOLLOW_UP,
]


@pytest.mark.parametrize("status", WAITING)
def test_one_acknowledgement_per_cooldown(make_lead, seeded_script, status):
    lead = make_lead(status)
    chat = Chat(lead.client, "flow")
    [ack] = chat.send("any news?")
    assert ack.payload["purpose"] == "acknowledgement"
    assert chat.send("hello?") == []
    assert chat.send("??") == []
    cooldown = StudioSettings.load().acknowledgement_cooldown
    Lead.objects.filter(pk=lead.pk).update(
        last_holding_reply_at=timezone.now() - cooldown - timedelta(seconds=1)
    )
    assert len(chat.send("still waiting")) == 1
    lead.refresh_from_db()
    assert lead.status == status
    assert lead.messages.inbound().count() == 4


@pytest.mark.parametrize("status", CLOSED_STATUSES)
def test_even_a_closed_lead_handed_to_the_flow_gets_an_answer(make_lead, seeded_script, status):
    lead = make_lead(status)
    assert len(Chat(lead.client, "flow").send("hello")) == 1


def test_awaiting_deposit_sends_the_pending_deposit_link_again(make_lead, seeded_script):
    lead = make_lead(Status.AWAITING_DEPOSIT)
    link = "Your deposit of £150: https://pay.example/abc"
    outbox.queue_message(lead.client, link, lead=lead, purpose="deposit_link")
    assert Chat(lead.client, "flow").say("where do I pay?") == link


def test_awaiting_deposit_without_a_link_mentions_the_deposit(make_lead, seeded_script):
    lead = make_lead(Status.AWAITING_DEPOSIT)
    Lead.objects.filter(pk=lead.pk).update(deposit_minor=20000)
    assert "£200" in Chat(lead.client, "flow").say("hi")


def test_asking_for_a_person_while_waiting_hands_over(make_lead, seeded_script):
    lead = make_lead(Status.AWAITING_DEPOSIT)
    chat = Chat(lead.client, "flow")
    chat.say("can I get a refund?")
    assert chat.lead.status == Status.NEEDS_ARTIST_REPLY
    assert chat.lead.handed_over_from() == Status.AWAITING_DEPOSIT


def test_a_number_that_is_not_a_budget_is_not_taken_as_one(make_lead, seeded_script):
    lead = make_lead(Status.NEEDS_FOLLOW_UP)
    chat = Chat(lead.client, "flow")
    chat.say("I live at 120 Baker Street")
    assert chat.lead.budget_minor is None
    chat.say("I could go up to 450")
    assert chat.lead.budget_minor == 45000
