"""What the artist does to a lead (flows/artist.py): a transition and what the client hears."""

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from conversations import outbox, transitions
from conversations.flows import artist
from conversations.models import Message, MessageStatus, Status, StatusChange

pytestmark = pytest.mark.django_db


def test_a_resume_reasks_the_current_question_in_the_same_transaction(make_lead, seeded_script):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY)
    lead = artist.act(lead, "resume", reason="called them", actor="artist:ink")
    [reasked] = Message.objects.outbound().filter(lead=lead)
    assert lead.status == Status.QUALIFYING
    assert seeded_script[0].prompt in reasked.body
    assert DBTaskResult.objects.filter(args_kwargs__args=[reasked.pk]).count() == 1


def test_the_transition_is_audited_with_the_artists_reason_and_name(make_lead, seeded_script):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY)
    artist.act(lead, "resume", reason="called them", actor="artist:ink")
    change = StatusChange.objects.filter(lead=lead).latest("created_at", "id")
    assert (change.transition, change.reason, change.actor) == (
        "resume",
        "called them",
        "artist:ink",
    )


def test_any_other_transition_sends_the_client_nothing(make_lead, seeded_script):
    lead = make_lead(Status.QUALIFYING)
    lead = artist.act(lead, "hand_over", reason="taking over", actor="artist:ink")
    assert lead.status == Status.NEEDS_ARTIST_REPLY
    assert not Message.objects.outbound().filter(lead=lead).exists()


def test_a_refused_transition_writes_and_sends_nothing(make_lead, seeded_script):
    lead = make_lead(Status.QUALIFYING)
    changes = StatusChange.objects.count()
    with pytest.raises(transitions.TransitionNotAllowed):
        artist.act(lead, "resume", reason="", actor="artist:ink")
    assert StatusChange.objects.count() == changes
    assert not Message.objects.outbound().exists()


def test_a_resume_for_a_client_who_opted_out_sends_nothing(make_lead, seeded_script):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY)
    lead.client.opted_out_at = timezone.now()
    lead.client.save(update_fields=["opted_out_at"])
    lead = artist.act(lead, "resume", reason="", actor="artist:ink")
    assert lead.status == Status.QUALIFYING
    assert not Message.objects.outbound().exists()


def test_a_reply_is_queued_with_the_artist_as_actor(make_lead):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY)
    message = artist.reply(lead, "Yes, I can do that.", actor="artist:ink")
    assert (message.body, message.status, message.lead_id) == (
        "Yes, I can do that.",
        MessageStatus.QUEUED,
        lead.pk,
    )
    assert message.payload == {"purpose": "artist_reply", "actor": "artist:ink"}


def test_a_reply_to_a_client_who_opted_out_is_refused_and_nothing_is_queued(make_lead):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY)
    lead.client.opted_out_at = timezone.now()
    lead.client.save(update_fields=["opted_out_at"])
    with pytest.raises(outbox.OptedOut):
        artist.reply(lead, "Hello?", actor="artist:ink")
    assert not Message.objects.exists()
    assert not DBTaskResult.objects.exists()


# Issue 10: what makes sense now, and what approval tells the client.


def test_approve_queues_the_client_the_next_step_with_the_transition(make_lead):
    lead = artist.act(make_lead(Status.PENDING_APPROVAL), "approve", reason="", actor="api:ink")
    [told] = Message.objects.outbound().filter(lead=lead)
    assert (lead.status, told.payload["purpose"]) == (Status.AWAITING_DEPOSIT, "deposit_link")


def test_a_handover_offers_only_what_its_status_before_allowed(make_lead, seeded_script):
    lead = transitions.transition(make_lead(Status.QUALIFYING), "hand_over", actor="bot")
    assert artist.actions_for(lead) == ["mark_stale", "reject", "resume"]


def test_approving_a_handover_mid_consultation_is_refused_and_writes_nothing(
    make_lead, seeded_script
):
    lead = transitions.transition(make_lead(Status.QUALIFYING), "hand_over", actor="bot")
    changes = StatusChange.objects.count()
    with pytest.raises(artist.NotNow):
        artist.act(lead, "approve", reason="", actor="api:ink")
    assert StatusChange.objects.count() == changes
    assert not Message.objects.outbound().exists()


def test_a_handover_once_every_question_is_answered_can_be_approved(make_lead, seeded_script):
    lead = make_lead(Status.QUALIFYING, current_step=len(seeded_script))
    lead = transitions.transition(lead, "hand_over", actor="bot")
    assert "approve" in artist.actions_for(lead)


def test_an_act_on_a_status_the_artist_no_longer_sees_is_refused(make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    with pytest.raises(artist.NotNow):
        artist.act(
            lead, "reject", reason="", actor="artist:ink", expected_status=Status.NEEDS_FOLLOW_UP
        )
    lead.refresh_from_db()
    assert lead.status == Status.PENDING_APPROVAL
