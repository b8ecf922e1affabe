"""The lead page: a conversation, the actions of now, approval and replies (an Artist user)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations import transitions
from conversations.models import (
    Answer,
    Message,
    MessageStatus,
    Status,
    StatusChange,
    StudioSettings,
)
from conversations.tests.artists import make_staff
from conversations.tests.conftest import run_worker


@pytest.fixture
def artist(client, db):
    client.force_login(make_staff("ink", artist=True))
    return client


def page(artist, lead):
    return artist.get(reverse("admin:conversations_lead_change", args=[lead.pk]))


def act(artist, lead, name, **data):
    return artist.post(
        reverse("admin:conversations_lead_transition", args=[lead.pk, name]), data, follow=True
    )


def offered(response):
    return [name for name, _, _ in response.context["actions"]]


def handed_over_from(make_lead, status):
    lead = make_lead(status)
    return transitions.transition(lead, "hand_over", reason="client asked", actor="bot")


def flash(response):
    return [str(m) for m in response.context["messages"]]


# -- what the page shows -------------------------------------------------------------------


def test_the_timeline_shows_both_sides_and_the_status_changes_with_reason_and_actor(
    artist, make_lead
):
    lead = make_lead(Status.PENDING_APPROVAL)
    Message.objects.create(
        client=lead.client,
        lead=lead,
        channel="whatsapp",
        direction="in",
        external_id="wamid.koi",
        body="A koi on my calf please",
        status=MessageStatus.PROCESSED,
    )
    Message.objects.create(
        client=lead.client,
        lead=lead,
        channel="whatsapp",
        direction="out",
        body="Lovely, thanks!",
        status=MessageStatus.DELIVERED,
        payload={"actor": "bot"},
    )
    entries = page(artist, lead).context["timeline"]
    sides = [(e.side, e.body) for e in entries if e.side != "event"]
    assert sides == [("in", "A koi on my calf please"), ("out", "Lovely, thanks!")]
    assert [e.ticks for e in entries if e.side == "out"] == ["✓✓"]
    events = [(e.state, e.by, e.error) for e in entries if e.side == "event"]
    assert ("complete qualification", "Test", "fixture") in events


def test_answers_come_in_script_order_with_the_parsed_value_beside_the_raw_text(
    artist, make_lead, seeded_script
):
    lead = make_lead(Status.PENDING_APPROVAL)
    Answer.objects.create(lead=lead, question_key="budget", text="six hundred quid")
    Answer.objects.create(lead=lead, question_key="idea", text="A koi")
    rows = page(artist, lead).context["answers"]
    assert [(r.label, r.raw) for r in rows] == [("Idea", "A koi"), ("Budget", "six hundred quid")]
    assert rows[1].parsed == "£600"


def test_a_lead_waiting_for_approval_offers_approve_reject_take_over_and_set_aside(
    artist, make_lead
):
    assert offered(page(artist, make_lead(Status.PENDING_APPROVAL))) == [
        "approve",
        "reject",
        "hand_over",
        "mark_stale",
    ]


def test_a_lead_handed_over_mid_consultation_offers_no_approval_or_booking(
    artist, make_lead, seeded_script
):
    lead = handed_over_from(make_lead, Status.QUALIFYING)
    assert offered(page(artist, lead)) == ["reject", "resume", "mark_stale"]


def test_a_lead_handed_over_after_the_consultation_can_be_approved(artist, make_lead):
    lead = handed_over_from(make_lead, Status.PENDING_APPROVAL)
    assert offered(page(artist, lead)) == ["approve", "reject", "resume", "mark_stale"]


def test_a_staff_user_who_may_only_read_sees_no_actions_and_no_reply_box(client, make_lead):
    from django.contrib.auth.models import Permission, User

    viewer = User.objects.create_user("viewer", password="pw-12345", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_lead"))
    client.force_login(viewer)
    response = page(client, make_lead(Status.PENDING_APPROVAL))
    assert response.context["actions"] == []
    assert b'name="body"' not in response.content


# -- the actions -----------------------------------------------------------------------------


def test_approve_moves_the_lead_and_tells_the_client_the_next_step(artist, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    response = act(artist, lead, "approve", expected_status=Status.PENDING_APPROVAL)
    lead.refresh_from_db()
    assert lead.status == Status.AWAITING_DEPOSIT
    [told] = Message.objects.outbound().filter(lead=lead)
    assert (told.status, told.payload["purpose"]) == (MessageStatus.QUEUED, "deposit_link")
    assert "deposit" in told.body
    assert flash(response) == ["Approve: done."]


def test_approve_tells_the_client_in_the_artists_own_words(artist, make_lead):
    StudioSettings.objects.update_or_create(
        pk=1, defaults={"approval_message": "Yes! Let's do it."}
    )
    lead = make_lead(Status.NEEDS_FOLLOW_UP)
    act(artist, lead, "approve")
    [told] = Message.objects.outbound().filter(lead=lead)
    assert told.body.startswith("Yes! Let's do it. To secure your session, please pay")


def test_an_action_on_a_lead_someone_else_moved_says_so_and_changes_nothing(artist, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    transitions.transition(lead, "reject", reason="not for me", actor="api:jo")  # meanwhile
    changes = StatusChange.objects.count()

    response = act(artist, lead, "approve", expected_status=Status.PENDING_APPROVAL)

    lead.refresh_from_db()
    assert lead.status == Status.REJECTED
    assert StatusChange.objects.count() == changes
    assert not Message.objects.outbound().exists()
    [error] = flash(response)
    assert "the lead is rejected now" in error and "Nothing was changed" in error


def test_a_move_that_still_allows_the_action_is_refused_too(artist, make_lead):
    # Handed over after the artist opened the page: approve still applies, but not to what
    # they saw.
    lead = make_lead(Status.PENDING_APPROVAL)
    transitions.transition(lead, "hand_over", reason="client asked", actor="bot")
    act(artist, lead, "approve", expected_status=Status.PENDING_APPROVAL)
    lead.refresh_from_db()
    assert lead.status == Status.NEEDS_ARTIST_REPLY


def test_approving_a_lead_handed_over_mid_consultation_is_refused(artist, make_lead, seeded_script):
    lead = handed_over_from(make_lead, Status.QUALIFYING)
    response = act(artist, lead, "approve")
    lead.refresh_from_db()
    assert lead.status == Status.NEEDS_ARTIST_REPLY
    assert not Message.objects.outbound().exists()
    assert "Nothing was changed" in flash(response)[0]


def test_reject_needs_a_reason_and_keeps_it_in_the_history(artist, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    act(artist, lead, "reject")
    lead.refresh_from_db()
    assert lead.status == Status.PENDING_APPROVAL

    act(artist, lead, "reject", reason="Not my style")
    lead.refresh_from_db()
    change = StatusChange.objects.filter(lead=lead).latest("created_at", "id")
    assert (lead.status, change.reason, change.actor) == (
        Status.REJECTED,
        "Not my style",
        "artist:ink",
    )


def test_take_over_records_the_artists_handover(artist, make_lead):
    lead = make_lead(Status.QUALIFYING)
    act(artist, lead, "hand_over")
    lead.refresh_from_db()
    assert (lead.status, lead.handover_reason) == (
        Status.NEEDS_ARTIST_REPLY,
        "Take over from the bot in the admin",
    )


def test_hand_back_returns_the_lead_to_where_it_was_and_reasks(artist, make_lead, seeded_script):
    lead = handed_over_from(make_lead, Status.QUALIFYING)
    act(artist, lead, "resume")
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFYING
    [reasked] = Message.objects.outbound().filter(lead=lead)
    assert seeded_script[0].prompt in reasked.body


# -- replies ---------------------------------------------------------------------------------


def reply(artist, lead, body, **extra):
    return artist.post(
        reverse("admin:conversations_lead_reply", args=[lead.pk]),
        {"body": body, **extra},
        follow=True,
    )


def test_a_reply_in_the_window_is_queued_then_shows_as_sent(
    artist, make_lead, client_in_window, settings
):
    settings.OUTBOUND_DRY_RUN = True
    lead = make_lead(Status.NEEDS_ARTIST_REPLY, client=client_in_window)
    response = reply(artist, lead, "Hi! Yes, I can do that.")
    [queued] = [e for e in response.context["timeline"] if e.body == "Hi! Yes, I can do that."]
    assert (queued.state, queued.by) == ("queued", "ink")

    run_worker()

    [sent] = [e for e in page(artist, lead).context["timeline"] if e.side == "out"]
    assert sent.state == "sent"


def test_outside_the_window_the_page_says_so_and_a_free_text_reply_is_refused(artist, make_lead):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY)  # never wrote: no window
    shown = page(artist, lead)
    assert "free text won't reach them" in shown.context["window_notice"]
    assert b'name="body"' not in shown.content  # no template is set up either

    response = reply(artist, lead, "Hello?")

    assert not Message.objects.outbound().exists()
    assert "nothing was sent" in flash(response)[0]


def test_outside_the_window_the_approved_template_carries_the_reply(
    artist, make_lead, make_client, settings
):
    settings.REMINDER_TEMPLATE = "leadbot_reminder"
    person = make_client()
    Message.objects.create(
        client=person,
        channel="whatsapp",
        direction="in",
        external_id="wamid.old",
        body="hi",
        status=MessageStatus.PROCESSED,
        created_at=timezone.now() - timedelta(days=2),
    )
    lead = make_lead(Status.NEEDS_ARTIST_REPLY, client=person)
    assert b"Send as template" in page(artist, lead).content

    reply(artist, lead, "Still keen?", as_template="on")

    [sent] = Message.objects.outbound().filter(lead=lead)
    assert sent.payload["template"]["name"] == "leadbot_reminder"
    assert sent.payload["template"]["components"][0]["parameters"][0]["text"] == "Still keen?"


def test_a_reply_to_a_client_who_opted_out_is_refused(artist, make_lead, client_in_window):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY, client=client_in_window)
    client_in_window.opted_out_at = timezone.now()
    client_in_window.save(update_fields=["opted_out_at"])
    response = reply(artist, lead, "Hello?")
    assert not Message.objects.outbound().exists()
    assert flash(response) == ["This client opted out, so nothing was sent."]
