"""The artist's workspace in the admin: transcript, transitions, replies and replays."""

import io

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.urls import reverse

from conversations.models import Message, MessageStatus, Question, Status, StatusChange
from conversations.tests.artists import make_staff
from conversations.tests.conftest import text_payload


@pytest.fixture
def artist(admin_client):
    return admin_client


def test_the_lead_page_shows_the_conversation_and_the_allowed_actions(artist, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    Message.objects.create(
        client=lead.client,
        lead=lead,
        channel="whatsapp",
        direction="in",
        external_id="wamid.x",
        body="A koi on my calf please",
        status=MessageStatus.PROCESSED,
    )
    page = artist.get(reverse("admin:conversations_lead_change", args=[lead.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "A koi on my calf please" in html
    assert "Approve" in html
    assert "Mark booked" not in html


def test_approve_in_the_admin_goes_through_the_audited_transition(artist, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    response = artist.post(
        reverse("admin:conversations_lead_transition", args=[lead.pk, "approve"])
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == Status.AWAITING_DEPOSIT
    change = StatusChange.objects.filter(lead=lead).last()
    assert (change.transition, change.actor) == ("approve", "artist:admin")


def test_a_transition_not_allowed_now_changes_nothing(artist, make_lead):
    lead = make_lead(Status.QUALIFYING)
    artist.post(reverse("admin:conversations_lead_transition", args=[lead.pk, "mark_booked"]))
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFYING


def test_take_over_and_hand_back(artist, make_lead):
    lead = make_lead(Status.QUALIFYING)
    artist.post(reverse("admin:conversations_lead_transition", args=[lead.pk, "hand_over"]))
    lead.refresh_from_db()
    assert lead.status == Status.NEEDS_ARTIST_REPLY
    artist.post(reverse("admin:conversations_lead_transition", args=[lead.pk, "resume"]))
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFYING


def test_hand_back_in_the_admin_reasks_the_current_question(artist, make_lead, seeded_script):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY)
    artist.post(reverse("admin:conversations_lead_transition", args=[lead.pk, "resume"]))
    [reasked] = Message.objects.outbound().filter(lead=lead)
    assert seeded_script[0].prompt in reasked.body


def test_a_reply_from_the_admin_is_queued_in_the_outbox(artist, make_lead, client_in_window):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY, client=client_in_window)
    artist.post(
        reverse("admin:conversations_lead_reply", args=[lead.pk]),
        {"body": "Hi! Yes, I can do that. Let's chat."},
    )
    reply = Message.objects.outbound().get(lead=lead)
    assert (reply.body, reply.status, reply.payload["actor"]) == (
        "Hi! Yes, I can do that. Let's chat.",
        MessageStatus.QUEUED,
        "artist:admin",
    )


def test_a_get_on_a_transition_url_changes_nothing(artist, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    artist.get(reverse("admin:conversations_lead_transition", args=[lead.pk, "approve"]))
    lead.refresh_from_db()
    assert lead.status == Status.PENDING_APPROVAL


@pytest.mark.parametrize(
    "name",
    [
        "admin:conversations_lead_changelist",
        "admin:conversations_message_changelist",
        "admin:conversations_question_changelist",
        "admin:conversations_client_changelist",
    ],
)
def test_the_admin_lists_render(artist, make_lead, name):
    make_lead(Status.QUALIFYING)
    assert artist.get(reverse(name)).status_code == 200


def test_a_handed_over_lead_shows_the_handover_packet(artist, make_lead):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY)
    page = artist.get(reverse("admin:conversations_lead_change", args=[lead.pk]))
    html = page.content.decode()
    packet = html[html.index("Handover packet") :]
    assert "<pre" in packet[:2000]


def test_the_lead_page_is_a_workspace_not_a_form(artist, make_lead, client_in_window):
    lead = make_lead(Status.QUALIFYING, client=client_in_window)
    html = artist.get(reverse("admin:conversations_lead_change", args=[lead.pk])).content
    assert b'name="_save"' not in html
    assert b'name="body"' in html


def test_staff_without_the_change_permission_can_read_but_not_act(client, make_lead):
    viewer = User.objects.create_user("viewer", password="pw-12345", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_lead"))
    client.force_login(viewer)
    lead = make_lead(Status.PENDING_APPROVAL)

    page = client.get(reverse("admin:conversations_lead_change", args=[lead.pk]))
    client.post(reverse("admin:conversations_lead_transition", args=[lead.pk, "approve"]))

    assert page.status_code == 200
    assert b"Approve" not in page.content
    lead.refresh_from_db()
    assert lead.status == Status.PENDING_APPROVAL


def test_replay_from_the_message_list_processes_a_failed_message(artist, post_whatsapp):
    post_whatsapp(text_payload("Hi", message_id="wamid.hi", timestamp=1_700_000_000))
    Question.objects.filter(key="idea").update(kind="bogus")
    post_whatsapp(text_payload("A rose", message_id="wamid.rose", timestamp=1_700_000_001))
    Question.objects.filter(key="idea").update(kind="text")
    failed = Message.objects.get(external_id="wamid.rose")

    artist.post(
        reverse("admin:conversations_message_changelist"),
        {"action": "replay", "_selected_action": [failed.pk]},
    )

    failed.refresh_from_db()
    assert failed.status == MessageStatus.PROCESSED


# The sign-in throttle (django-axes, leadbot/settings.py).

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "the-artists-real-password-7"


def sign_in(client, password, username="ink"):
    return client.post(LOGIN, {"username": username, "password": password})


@pytest.fixture
def ink(db):
    return make_staff("ink", artist=True, password=PASSWORD)


def test_the_right_password_signs_in(client, ink):
    response = sign_in(client, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(ink.pk)


def test_five_wrong_passwords_lock_the_sign_in_even_for_the_right_password(client, ink, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert sign_in(client, "guess").status_code == 200  # the form again, with its error
    assert sign_in(client, "guess").status_code == 429

    locked = sign_in(client, PASSWORD)

    assert locked.status_code == 429
    assert "Too many failed sign-ins: this account is locked for 15 minutes" in (
        locked.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_a_success_before_the_limit_starts_the_count_again(client, ink):
    for _ in range(4):
        sign_in(client, "guess")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert sign_in(client, "guess").status_code == 200
    assert sign_in(client, PASSWORD).status_code == 302


def test_a_locked_username_does_not_lock_another_one(client, ink):
    make_staff("assistant", artist=True, password=PASSWORD)
    for _ in range(5):
        sign_in(client, "guess")
    assert sign_in(client, PASSWORD, username="assistant").status_code == 302


def test_axes_reset_lifts_the_lockout(client, ink):
    for _ in range(5):
        sign_in(client, "guess")
    call_command("axes_reset", stdout=io.StringIO())
    assert sign_in(client, PASSWORD).status_code == 302
