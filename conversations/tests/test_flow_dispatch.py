"""One routing of an inbound message: the intent is read once, and asking for a person hands
over from every status that can be handed over, and from nowhere else."""

import pytest

from conversations.channels.base import MessageKind
from conversations.flows.turn import MEDIA_KINDS, SILENT_KINDS, TEXT_KINDS, UNREADABLE_KINDS
from conversations.models import HANDOVER_SOURCES, Status
from conversations.tests.test_flow_support import MODES, Chat

pytestmark = pytest.mark.django_db

ASK_FOR_A_PERSON = "can I talk to a real person please"


@pytest.mark.parametrize("mode", MODES)
def test_asking_for_a_person_in_the_first_message_starts_the_consultation_and_hands_over(
    make_client, seeded_script, mode
):
    chat = Chat(make_client(), mode)
    reply = chat.say(ASK_FOR_A_PERSON)
    assert chat.lead.status == Status.NEEDS_ARTIST_REPLY
    assert chat.lead.handed_over_from() == Status.QUALIFYING
    assert "artist" in reply
    assert seeded_script[0].prompt not in reply


@pytest.mark.parametrize("status", [Status.ABANDONED, Status.STALE])
def test_asking_for_a_person_on_a_dormant_lead_restarts_it_and_hands_over(
    make_lead, seeded_script, status
):
    lead = make_lead(status)
    chat = Chat(lead.client, "flow")
    chat.say(ASK_FOR_A_PERSON)
    assert chat.lead.pk == lead.pk
    assert chat.lead.status == Status.NEEDS_ARTIST_REPLY
    assert chat.lead.handed_over_from() == Status.QUALIFYING


@pytest.mark.parametrize("status", HANDOVER_SOURCES)
def test_asking_for_a_person_hands_over_from_every_handover_source(
    make_lead, seeded_script, status
):
    lead = make_lead(status)
    chat = Chat(lead.client, "flow")
    [reply] = chat.send(ASK_FOR_A_PERSON)
    assert reply.payload["purpose"] == "handover"
    assert chat.lead.status == Status.NEEDS_ARTIST_REPLY
    assert chat.lead.handed_over_from() == status


@pytest.mark.parametrize("status", [Status.NEEDS_ARTIST_REPLY, Status.DEPOSIT_EXPIRED])
def test_asking_for_a_person_where_no_handover_applies_gets_the_usual_reply(
    make_lead, seeded_script, status
):
    lead = make_lead(status)
    chat = Chat(lead.client, "flow")
    [reply] = chat.send(ASK_FOR_A_PERSON)
    assert reply.payload["purpose"] in ("holding", "acknowledgement")
    assert chat.lead.status == status


def test_every_message_kind_is_read_exactly_one_way():
    kinds = [TEXT_KINDS, MEDIA_KINDS, SILENT_KINDS, UNREADABLE_KINDS]
    assert sorted(kind for group in kinds for kind in group) == sorted(MessageKind)
