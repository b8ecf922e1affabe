"""Races on real PostgreSQL: real threads, each with its own database connection."""

import itertools

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from conversations import transitions
from conversations.channels.base import InboundMessage
from conversations.flows.inbound import record_inbound
from conversations.models import Client, Lead, Message, Status, StatusChange
from conversations.tests.threads import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def qualifying_lead():
    client = Client.objects.create(channel="whatsapp", address="447700900999")
    lead = Lead.objects.create(client=client)
    return transitions.transition(lead, "start_qualifying", reason="", actor="test")


def test_twenty_threads_advancing_the_same_step_advance_it_once():
    lead = qualifying_lead()
    for step in range(3):
        transitions.advance_step(lead.pk, step)

    results = run_at_once(20, lambda i: transitions.advance_step(lead.pk, 3))

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(1 for r in results if r.advanced) == 1
    assert sum(1 for r in results if r.reason == "step_already_advanced") == 19
    lead.refresh_from_db()
    assert lead.current_step == 4


def test_opt_out_racing_hand_over_leaves_history_matching_what_happened():
    lead = qualifying_lead()

    def work(i):
        name = "opt_out" if i % 2 == 0 else "hand_over"
        try:
            transitions.transition(lead, name, reason="race", actor=f"thread-{i}")
            return name
        except transitions.TransitionNotAllowed:
            return None

    results = run_at_once(20, work)

    assert not [r for r in results if isinstance(r, Exception)]
    succeeded = [r for r in results if r]
    lead.refresh_from_db()
    assert lead.status in {Status.OPTOUT, Status.NEEDS_ARTIST_REPLY}
    changes = list(
        StatusChange.objects.filter(lead=lead, reason="race").values_list(
            "transition", "from_status", "to_status"
        )
    )
    # Each success wrote exactly one row, and the rows chain from QUALIFYING to the final status.
    assert sorted(c[0] for c in changes) == sorted(succeeded)
    assert changes[0][1] == Status.QUALIFYING
    for earlier, later in itertools.pairwise(changes):
        assert earlier[2] == later[1]
    assert changes[-1][2] == lead.status
    # In the order they happened: hand_over then opt_out is possible; opt_out then anything not.
    assert [c[0] for c in changes] in (["opt_out"], ["hand_over"], ["hand_over", "opt_out"])


def test_two_threads_creating_the_first_open_lead_for_a_client_make_one_lead():
    client = Client.objects.create(channel="whatsapp", address="447700900998")

    def work(i):
        try:
            with transaction.atomic():
                return Lead.objects.create(client=client).pk
        except IntegrityError:
            return Lead.objects.open().get(client=client).pk

    results = run_at_once(2, work)

    assert not [r for r in results if isinstance(r, Exception)]
    assert Lead.objects.filter(client=client).count() == 1
    assert results[0] == results[1]


def test_two_first_messages_of_a_new_client_at_once_make_one_lead(seeded_script):
    sent_at = timezone.now()  # the same second, as a burst arrives

    def work(i):
        return record_inbound(
            InboundMessage(
                channel="whatsapp",
                external_id=f"wamid.first.{i}",
                address="447700900997",
                timestamp=sent_at,
                kind="text",
                body=["Hi!", "I'd love a tattoo"][i],
            )
        ).outcome

    results = run_at_once(2, work)

    assert results == ["processed", "processed"]
    lead = Lead.objects.get(client__address="447700900997")
    assert lead.status_changes.filter(transition="start_qualifying").count() == 1


def test_two_stops_at_once_send_one_confirmation(seeded_script):
    sent_at = timezone.now()
    record_inbound(InboundMessage("whatsapp", "wamid.hi", "447700900996", sent_at, "text", "Hi"))

    results = run_at_once(
        2,
        lambda i: (
            record_inbound(
                InboundMessage(
                    "whatsapp", f"wamid.stop.{i}", "447700900996", sent_at, "text", "STOP"
                )
            ).outcome
        ),
    )

    assert results == ["processed", "processed"]
    confirmations = Message.objects.outbound().filter(payload__purpose="opt_out_confirmation")
    assert confirmations.count() == 1
    assert Lead.objects.get(client__address="447700900996").status == Status.OPTOUT
