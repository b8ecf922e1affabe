"""POST /webhooks/stripe/: Stripe's signed events, stored once, applied once, never a 500."""

import json

import pytest
from django.db import connection, transaction
from django.test import Client as HttpClient
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bookings.models import Deposit
from bookings.tests.stripe_fake import WEBHOOK_SECRET, session_event, signed
from conversations import transitions
from conversations.flows import artist
from conversations.models import (
    Lead,
    Message,
    Status,
    StatusChange,
    StudioSettings,
    WebhookEvent,
)
from conversations.tests.conftest import run_worker
from conversations.tests.threads import run_at_once

ARTIST = "447700900999"


@pytest.fixture
def stripe_api(stripe_api, settings):
    settings.ARTIST_PHONE = ARTIST  # the artist's notes are counted here
    return stripe_api


@pytest.fixture
def post_stripe(client):
    def post(body, *, secret=WEBHOOK_SECRET, signature=None):
        raw, header = signed(body, secret)
        headers = {} if signature is False else {"HTTP_STRIPE_SIGNATURE": signature or header}
        return client.post("/webhooks/stripe/", raw, content_type="application/json", **headers)

    return post


@pytest.fixture
def awaiting(stripe_api, make_lead):
    """A lead the artist approved, its deposit link created by the task and queued."""
    lead = make_lead(Status.PENDING_APPROVAL)
    artist.act(lead, "approve", reason="", actor="artist")
    run_worker()
    return Lead.objects.get(pk=lead.pk)


def session_of(stripe_api):
    (session,) = stripe_api.created
    return session


def to_client(lead, purpose):
    return Message.objects.outbound().filter(lead=lead, payload__purpose=purpose)


def artist_notes():
    return Message.objects.outbound().filter(client__address=ARTIST)


def test_approval_sends_one_link_with_the_policy(awaiting, stripe_api):
    (link,) = to_client(awaiting, "deposit_link")
    assert session_of(stripe_api)["url"] in link.body
    assert "non-refundable" in link.body and "£150" in link.body
    assert awaiting.status == Status.AWAITING_DEPOSIT


def test_a_paid_checkout_marks_the_deposit_paid_and_offers_slots(awaiting, stripe_api, post_stripe):
    response = post_stripe(session_event(session_of(stripe_api)))
    assert response.status_code == 200
    assert response.json()["outcome"] == "deposit_paid"
    deposit = Deposit.objects.get(lead=awaiting)
    assert deposit.status == Deposit.Status.PAID and deposit.paid_at is not None
    assert Lead.objects.get(pk=awaiting.pk).status == Status.BOOKING_PENDING
    (offer,) = to_client(awaiting, "slot_offer")
    assert "1." in offer.body and len(offer.payload["slots"]) == 4
    assert artist_notes().count() == 0  # the artist hears with the booking


def test_the_same_event_delivered_twice_has_one_effect(awaiting, stripe_api, post_stripe):
    event = session_event(session_of(stripe_api))
    first, second = post_stripe(event), post_stripe(event)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["outcome"] == "duplicate_event"
    assert WebhookEvent.objects.filter(provider="stripe").count() == 1
    assert to_client(awaiting, "slot_offer").count() == 1
    assert StatusChange.objects.filter(lead=awaiting, transition="mark_deposit_paid").count() == 1


def test_a_second_event_for_a_paid_session_changes_nothing(awaiting, stripe_api, post_stripe):
    post_stripe(session_event(session_of(stripe_api)))
    again = post_stripe(session_event(session_of(stripe_api)))  # a new event id
    assert again.json()["outcome"] == "already_paid"
    assert to_client(awaiting, "slot_offer").count() == 1


def test_paid_after_expired_for_the_same_session_still_counts(awaiting, stripe_api, post_stripe):
    session = session_of(stripe_api)
    expired = post_stripe(session_event(session, "checkout.session.expired"))
    assert expired.json()["outcome"] == "deposit_expired"
    assert Lead.objects.get(pk=awaiting.pk).status == Status.DEPOSIT_EXPIRED
    assert to_client(awaiting, "deposit_expired").count() == 1
    paid = post_stripe(session_event(session))
    assert paid.json()["outcome"] == "paid_late"
    assert Lead.objects.get(pk=awaiting.pk).status == Status.BOOKING_PENDING
    assert Deposit.objects.get(lead=awaiting).status == Deposit.Status.PAID


def test_an_expired_event_after_the_payment_is_stored_and_changes_nothing(
    awaiting, stripe_api, post_stripe
):
    session = session_of(stripe_api)
    post_stripe(session_event(session))
    late = post_stripe(session_event(session, "checkout.session.expired"))
    assert (late.status_code, late.json()["outcome"]) == (200, "already_paid")
    assert Lead.objects.get(pk=awaiting.pk).status == Status.BOOKING_PENDING
    assert WebhookEvent.objects.filter(provider="stripe").count() == 2


def test_an_unpaid_completion_waits_for_its_payment(awaiting, stripe_api, post_stripe):
    response = post_stripe(session_event(session_of(stripe_api), paid=False))
    assert response.json()["outcome"] == "payment_not_complete"
    assert Lead.objects.get(pk=awaiting.pk).status == Status.AWAITING_DEPOSIT


def test_an_event_for_an_unknown_session_is_stored_and_answered_200(stripe_api, post_stripe, db):
    session = {"id": "cs_test_nobody", "object": "checkout.session", "metadata": {}}
    response = post_stripe(session_event(session, event_id="evt_unknown"))
    assert response.status_code == 200
    assert response.json() == {
        "received": True,
        "event": "evt_unknown",
        "outcome": "unknown_session",
    }
    stored = WebhookEvent.objects.get(provider="stripe", event_id="evt_unknown")
    assert stored.subject == "cs_test_nobody" and stored.processed_at is None


def test_another_event_type_is_stored_and_ignored(stripe_api, post_stripe, db):
    body = session_event({"id": "pi_1"}, "payment_intent.created")
    assert post_stripe(body).json()["outcome"] == "ignored_event_type"
    assert WebhookEvent.objects.filter(kind="payment_intent.created").count() == 1


def test_a_wrong_signature_is_400_and_stores_nothing(stripe_api, post_stripe, db):
    response = post_stripe(session_event({"id": "cs_x"}), secret="whsec_someone_else")
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_missing_signature_is_400(stripe_api, post_stripe, db):
    assert post_stripe(session_event({"id": "cs_x"}), signature=False).status_code == 400


def test_a_signed_body_that_is_not_json_is_400(stripe_api, client, db):
    raw, header = signed(b"not json at all")
    response = client.post(
        "/webhooks/stripe/", raw, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400


def test_without_a_webhook_secret_stripe_is_refused(settings, post_stripe, db):
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert post_stripe(session_event({"id": "cs_x"})).status_code == 403


def test_money_from_an_opted_out_client_is_told_to_the_artist(awaiting, stripe_api, post_stripe):
    transitions.transition(awaiting, "opt_out", reason="STOP", actor="client")
    awaiting.client.__class__.objects.filter(pk=awaiting.client_id).update(
        opted_out_at=timezone.now()
    )
    response = post_stripe(session_event(session_of(stripe_api)))
    assert response.json()["outcome"] == "paid_while_opted_out"
    assert Deposit.objects.get(lead=awaiting).status == Deposit.Status.PAID
    assert Lead.objects.get(pk=awaiting.pk).status == Status.OPTOUT
    (note,) = artist_notes()
    assert "opted out" in note.body


def test_the_link_task_retries_when_stripe_fails(stripe_api, make_lead):
    stripe_api.fail_next = 1
    lead = make_lead(Status.PENDING_APPROVAL)
    artist.act(lead, "approve", reason="", actor="artist")
    run_worker()  # the first try fails and schedules a retry later
    assert not to_client(lead, "deposit_link").exists()
    retry = DBTaskResult.objects.filter(task_path__endswith="send_deposit_link").latest(
        "enqueued_at"
    )
    assert retry.run_after > timezone.now()
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_worker()
    assert to_client(lead, "deposit_link").count() == 1
    assert len(stripe_api.created) == 1


def test_without_stripe_keys_the_client_gets_bank_details(settings, make_lead):
    settings.STRIPE_SECRET_KEY = ""
    StudioSettings.objects.update_or_create(
        pk=1, defaults={"deposit_bank_details": "Sort code 12-34-56, account 12345678"}
    )
    lead = make_lead(Status.PENDING_APPROVAL)
    artist.act(lead, "approve", reason="", actor="artist")
    (message,) = to_client(lead, "deposit_link")
    assert "12-34-56" in message.body and "non-refundable" in message.body
    artist.act(Lead.objects.get(pk=lead.pk), "mark_deposit_paid", reason="", actor="artist")
    assert Deposit.objects.get(lead=lead).status == Deposit.Status.PAID
    assert Lead.objects.get(pk=lead.pk).status == Status.BOOKING_PENDING
    assert to_client(lead, "slot_offer").count() == 1


def test_the_event_is_kept_verbatim(awaiting, stripe_api, post_stripe):
    body = session_event(session_of(stripe_api), event_id="evt_kept")
    post_stripe(body)
    stored = WebhookEvent.objects.get(event_id="evt_kept")
    assert stored.payload == json.loads(json.dumps(body))
    assert stored.processed_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_same_payment_delivered_by_eight_threads_at_once_has_one_effect(stripe_api, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    artist.act(lead, "approve", reason="", actor="artist")
    with transaction.atomic():  # the worker claims its tasks inside a transaction
        run_worker()
    raw, _ = signed(session_event(session_of(stripe_api)))
    # Half deliver one event, half another event id for the same session.
    paid_again, _ = signed(session_event(session_of(stripe_api)))

    def deliver(i):
        body = raw if i % 2 == 0 else paid_again
        _, signature = signed(body)
        response = HttpClient().post(
            "/webhooks/stripe/",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
        )
        return (response.status_code, response.json()["outcome"])

    outcomes = run_at_once(8, deliver)
    assert {status for status, _ in outcomes} == {200}
    assert sorted(outcome for _, outcome in outcomes).count("deposit_paid") == 1
    assert WebhookEvent.objects.filter(provider="stripe").count() == 2
    assert to_client(lead, "slot_offer").count() == 1
    assert StatusChange.objects.filter(lead=lead, transition="mark_deposit_paid").count() == 1
    assert Lead.objects.get(pk=lead.pk).status == Status.BOOKING_PENDING


def test_money_received_while_the_artist_has_the_lead_moves_it_on_and_tells_them(
    awaiting, stripe_api, post_stripe
):
    artist.act(awaiting, "hand_over", reason="client asked a question", actor="artist")
    response = post_stripe(session_event(session_of(stripe_api)))
    assert response.json()["outcome"] == "deposit_paid"
    assert Lead.objects.get(pk=awaiting.pk).status == Status.BOOKING_PENDING
    (note,) = artist_notes()
    assert "paid the £150 deposit" in note.body


def test_money_received_for_a_stale_lead_brings_it_back_to_reconfirm(
    awaiting, stripe_api, post_stripe, seeded_script
):
    expired = post_stripe(session_event(session_of(stripe_api), "checkout.session.expired"))
    assert expired.json()["outcome"] == "deposit_expired"
    transitions.transition(awaiting, "mark_stale", reason="quiet", actor="sweep_stale")
    response = post_stripe(session_event(session_of(stripe_api)))
    assert response.json()["outcome"] == "paid_while_away"
    assert Lead.objects.get(pk=awaiting.pk).status == Status.QUALIFYING
    (summary,) = to_client(awaiting, "summary")
    assert "deposit is in" in summary.body and "Reply YES" in summary.body
    assert artist_notes().count() == 1
    assert Deposit.objects.get(lead=awaiting).status == Deposit.Status.PAID


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_answers_503_so_stripe_retries(settings, client):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    raw, header = signed(session_event({"id": "cs_test_later"}))
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there: the database is "down"
    try:
        response = client.post(
            "/webhooks/stripe/", raw, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
