"""The REST API: read leads, their transcript and history; transition them."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conversations import admin
from conversations.flows.artist import ARTIST_TRANSITIONS
from conversations.models import Answer, Lead, Message, Question, Status, StatusChange
from conversations.tests.artists import make_staff


def client_with_token(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def api(db):
    """The artist: a staff user in the Artist group, not a superuser."""
    return client_with_token(make_staff("artist", artist=True))


@pytest.fixture
def other_staff(db):
    """A staff user without the Artist group (say, a bookkeeper with admin access)."""
    return client_with_token(make_staff("bookkeeper", artist=False))


def test_requests_without_a_token_get_401(client, make_lead):
    lead = make_lead()
    for path in ["/api/leads/", f"/api/leads/{lead.pk}/", f"/api/leads/{lead.pk}/messages/"]:
        response = client.get(path)
        assert response.status_code == 401, path
        assert "results" not in response.json()


def test_a_non_staff_token_gets_403(make_lead):
    lead = make_lead()
    user = get_user_model().objects.create_user("someone", password="pw-12345")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert client.get(f"/api/leads/{lead.pk}/").status_code == 403


def lead_endpoints(lead):
    """Every /api/ endpoint for one lead: (method, path, body)."""
    return [
        ("get", "/api/leads/", None),
        ("get", f"/api/leads/{lead.pk}/", None),
        ("get", f"/api/leads/{lead.pk}/messages/", None),
        ("get", f"/api/leads/{lead.pk}/history/", None),
        ("post", f"/api/leads/{lead.pk}/transitions/", {"transition": "approve", "reason": "x"}),
        ("post", f"/api/leads/{lead.pk}/reply/", {"body": "Hello from the bookkeeper"}),
        ("options", "/api/leads/", None),
    ]


def test_staff_outside_the_artist_group_get_403_and_no_data_on_every_endpoint(
    other_staff, make_lead
):
    lead = make_lead(Status.PENDING_APPROVAL)
    for method, path, body in lead_endpoints(lead):
        response = getattr(other_staff, method)(path, body, format="json")
        assert response.status_code == 403, (method, path)
        assert set(response.json()) == {"detail"}, (method, path)
    lead.refresh_from_db()
    assert lead.status == Status.PENDING_APPROVAL
    assert not Message.objects.outbound().exists()


def test_a_superuser_may_act_without_the_group(make_lead):
    user = get_user_model().objects.create_superuser("owner", "owner@example.com", "pw-12345")
    lead = make_lead(Status.PENDING_APPROVAL)
    response = client_with_token(user).post(
        f"/api/leads/{lead.pk}/transitions/", {"transition": "approve"}, format="json"
    )
    assert response.status_code == 200


def test_staff_with_only_view_permissions_can_read_but_not_act(make_lead):
    user = make_staff("reader", artist=False)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="conversations",
            codename__in=["view_lead", "view_answer", "view_message", "view_statuschange"],
        )
    )
    reader = client_with_token(user)
    lead = make_lead(Status.PENDING_APPROVAL)
    assert reader.get(f"/api/leads/{lead.pk}/").status_code == 200
    assert reader.get(f"/api/leads/{lead.pk}/messages/").status_code == 200
    acted = reader.post(f"/api/leads/{lead.pk}/transitions/", {"transition": "approve"})
    replied = reader.post(f"/api/leads/{lead.pk}/reply/", {"body": "Hi"})
    assert (acted.status_code, replied.status_code) == (403, 403)


def test_a_transition_without_a_token_changes_nothing(client, make_lead):
    lead = make_lead()
    response = client.post(
        f"/api/leads/{lead.pk}/transitions/",
        {"transition": "reject"},
        content_type="application/json",
    )
    assert response.status_code == 401
    lead.refresh_from_db()
    assert lead.status == Status.NEW


def test_list_is_paginated_and_filters_by_phone_and_status(api, make_lead, make_client):
    earlier = make_lead(Status.REJECTED, client=make_client(address="447700900123"))
    wanted = make_lead(Status.QUALIFYING, client=earlier.client)
    make_lead(Status.QUALIFYING)

    everything = api.get("/api/leads/").json()
    assert set(everything) == {"count", "next", "previous", "results"}
    assert everything["count"] == 3

    by_phone = api.get("/api/leads/", {"phone": "+447700900123"}).json()
    assert by_phone["count"] == 2
    both = api.get("/api/leads/", {"phone": "447700900123", "status": "QUALIFYING"}).json()
    assert [row["id"] for row in both["results"]] == [wanted.pk]


def test_an_unknown_status_filter_is_a_400(api):
    assert api.get("/api/leads/", {"status": "HACKED"}).status_code == 400


def test_detail_shows_latest_answers_current_question_and_transitions(api, make_lead):
    lead = make_lead(Status.QUALIFYING)
    Answer.objects.create(lead=lead, question_key="idea", text="a rose")
    Answer.objects.create(lead=lead, question_key="idea", text="a wolf")

    data = api.get(f"/api/leads/{lead.pk}/").json()

    assert data["id"] == lead.pk
    assert data["phone"] == lead.client.address
    assert data["channel"] == "whatsapp"
    assert data["status"] == "QUALIFYING"
    assert data["answers"] == {"idea": "a wolf"}
    assert data["current_question"]["key"] == Question.objects.script()[0].key
    assert "hand_over" in data["available_transitions"]
    assert "approve" not in data["available_transitions"]
    for field in ["current_step", "handover_reason", "created_at", "updated_at"]:
        assert field in data


def test_messages_are_the_transcript_oldest_first(api, make_lead):
    lead = make_lead()
    for i, direction in enumerate(["in", "out", "in"]):
        Message.objects.create(
            client=lead.client,
            lead=lead,
            channel="whatsapp",
            direction=direction,
            external_id=f"wamid.{i}" if direction == "in" else "",
            body=f"message {i}",
            status="processed" if direction == "in" else "sent",
        )
    rows = api.get(f"/api/leads/{lead.pk}/messages/").json()["results"]
    assert [(r["direction"], r["body"]) for r in rows] == [
        ("in", "message 0"),
        ("out", "message 1"),
        ("in", "message 2"),
    ]


def test_history_lists_status_changes_oldest_first(api, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    rows = api.get(f"/api/leads/{lead.pk}/history/").json()["results"]
    assert [(r["from_status"], r["to_status"]) for r in rows] == [
        ("NEW", "QUALIFYING"),
        ("QUALIFYING", "PENDING_APPROVAL"),
    ]


def test_an_allowed_transition_answers_200_with_the_lead(api, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    response = api.post(
        f"/api/leads/{lead.pk}/transitions/",
        {"transition": "approve", "reason": "looks great"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "AWAITING_DEPOSIT"
    change = StatusChange.objects.filter(lead=lead).last()
    assert (change.transition, change.reason, change.actor) == (
        "approve",
        "looks great",
        "api:artist",
    )


def test_a_transition_not_allowed_now_answers_409_with_the_allowed_list(api, make_lead):
    lead = make_lead(Status.QUALIFYING)
    before = StatusChange.objects.count()
    response = api.post(
        f"/api/leads/{lead.pk}/transitions/", {"transition": "mark_booked"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["status"] == "QUALIFYING"
    assert "hand_over" in response.json()["allowed"]
    assert StatusChange.objects.count() == before


def test_an_unknown_transition_name_is_a_400(api, make_lead):
    lead = make_lead()
    response = api.post(f"/api/leads/{lead.pk}/transitions/", {"transition": "nuke"}, format="json")
    assert response.status_code == 400


def test_the_openapi_schema_is_served(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/leads/{id}/transitions/" in response.content


@override_settings(DEBUG=False)
def test_the_schema_needs_authentication(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 401
    assert b"/api/leads/" not in response.content


def test_the_schema_is_not_for_a_logged_in_user_who_is_not_staff(client, db):
    client.force_login(get_user_model().objects.create_user("someone", password="pw-12345"))
    assert client.get("/api/schema/").status_code == 403


def test_a_reply_is_queued_in_the_outbox_with_the_artist_as_actor(api, make_lead):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY)
    response = api.post(
        f"/api/leads/{lead.pk}/reply/", {"body": "Hi, I can fit you in!"}, format="json"
    )
    assert response.status_code == 201
    message = Message.objects.outbound().get(lead=lead)
    assert (message.body, message.status, message.payload["actor"]) == (
        "Hi, I can fit you in!",
        "queued",
        "api:artist",
    )


def test_a_reply_to_an_opted_out_client_is_refused(api, make_lead):
    lead = make_lead(Status.OPTOUT)
    lead.client.opted_out_at = lead.created_at
    lead.client.save(update_fields=["opted_out_at"])
    response = api.post(f"/api/leads/{lead.pk}/reply/", {"body": "Hello?"}, format="json")
    assert response.status_code == 409
    assert not Message.objects.outbound().exists()


def test_detail_splits_what_the_artist_may_do_from_what_the_bot_does(api, make_lead):
    data = api.get(f"/api/leads/{make_lead(Status.QUALIFYING).pk}/").json()

    assert data["actions"] == ["give_up", "hand_over", "reject"]
    assert data["bot_transitions"] == [
        "abandon",
        "complete_qualification",
        "flag_follow_up",
        "offer_tour",
        "opt_out",
        "waitlist",
    ]
    assert sorted(data["actions"] + data["bot_transitions"]) == data["available_transitions"]


def test_a_lead_awaiting_approval_offers_approve_reject_take_over_and_mark_stale(api, make_lead):
    data = api.get(f"/api/leads/{make_lead(Status.PENDING_APPROVAL).pk}/").json()
    assert data["actions"] == ["approve", "hand_over", "mark_stale", "reject"]


def test_the_list_shows_actions_too(api, make_lead):
    make_lead(Status.NEEDS_ARTIST_REPLY)
    [row] = api.get("/api/leads/").json()["results"]
    assert "resume" in row["actions"]
    assert "resume" not in row["bot_transitions"]


def test_a_user_who_may_only_read_is_offered_no_actions(make_lead):
    user = make_staff("reader", artist=False)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="conversations",
            codename__in=["view_lead", "view_answer"],
        )
    )
    data = client_with_token(user).get(f"/api/leads/{make_lead(Status.QUALIFYING).pk}/").json()
    assert data["actions"] == []
    assert "abandon" in data["bot_transitions"]


def test_every_admin_button_is_an_artist_action():
    assert set(admin.ARTIST_ACTIONS) <= ARTIST_TRANSITIONS


def test_a_bot_only_transition_is_refused_with_403_and_a_reason(api, make_lead):
    lead = make_lead(Status.QUALIFYING)  # abandon applies to it: only the sweep may take it
    before = StatusChange.objects.count()

    response = api.post(
        f"/api/leads/{lead.pk}/transitions/", {"transition": "abandon"}, format="json"
    )

    assert response.status_code == 403
    assert "bot's own" in response.json()["detail"]
    assert response.json()["actions"] == ["give_up", "hand_over", "reject"]
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFYING
    assert StatusChange.objects.count() == before


def test_resume_through_the_api_hands_the_lead_back_to_the_bot(api, make_lead):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY)
    response = api.post(
        f"/api/leads/{lead.pk}/transitions/", {"transition": "resume"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] != Status.NEEDS_ARTIST_REPLY


def test_an_empty_reply_is_a_400_and_queues_nothing(api, make_lead):
    lead = make_lead(Status.NEEDS_ARTIST_REPLY)
    response = api.post(f"/api/leads/{lead.pk}/reply/", {"body": "   "}, format="json")
    assert response.status_code == 400
    assert not Message.objects.outbound().exists()


def test_an_unknown_lead_is_a_404_on_every_lead_endpoint(api, db):
    for method, path, body in lead_endpoints(Lead(pk=999_999))[1:-1]:
        response = getattr(api, method)(path, body, format="json")
        assert response.status_code == 404, (method, path)


def test_history_is_paginated(api, make_lead):
    data = api.get(f"/api/leads/{make_lead(Status.QUALIFYING).pk}/history/").json()
    assert set(data) == {"count", "next", "previous", "results"}
    assert data["count"] == 1


def assert_only_a_reason(response, lead):
    """A refusal's body is its reason (JSON, or YAML from the schema view), no lead data."""
    body = response.content.decode()
    assert "detail" in body, response.request
    for leaked in ["results", "paths", lead.client.address, lead.status]:
        assert leaked not in body, (response.request, leaked)


def every_endpoint(lead):
    return [
        *lead_endpoints(lead)[:-1],
        ("get", "/api/metrics/funnel/", None),
        ("get", "/api/schema/", None),
    ]


@override_settings(DEBUG=False)
def test_every_endpoint_without_credentials_gets_401_and_no_data(client, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    for method, path, body in every_endpoint(lead):
        response = getattr(client, method)(path, body or {}, content_type="application/json")
        assert response.status_code == 401, (method, path)
        assert_only_a_reason(response, lead)
    lead.refresh_from_db()
    assert lead.status == Status.PENDING_APPROVAL
    assert not Message.objects.outbound().exists()


def test_every_endpoint_refuses_a_signed_in_user_who_is_not_staff(make_lead):
    user = get_user_model().objects.create_user("someone", password="pw-12345")
    api_client = client_with_token(user)
    lead = make_lead(Status.PENDING_APPROVAL)
    for method, path, body in every_endpoint(lead):
        response = getattr(api_client, method)(path, body, format="json")
        assert response.status_code == 403, (method, path)
        assert_only_a_reason(response, lead)
