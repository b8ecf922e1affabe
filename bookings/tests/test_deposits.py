"""Deposits: the amount locked once per attempt, one Checkout Session per attempt, reused."""

from datetime import timedelta

import pytest
import stripe
from django.utils import timezone

from bookings import deposits
from bookings.models import Deposit


@pytest.fixture
def deposit(make_lead):
    lead = make_lead()
    return deposits.lock(lead.pk, amount_minor=15000, currency="GBP", rule="MEDIUM deposit tier")


def test_the_first_deposit_of_a_lead_is_attempt_one_with_its_rule(deposit):
    assert (deposit.attempt, deposit.amount_minor, deposit.currency) == (1, 15000, "GBP")
    assert deposit.rule == "MEDIUM deposit tier"
    assert deposit.status == Deposit.Status.OPEN


def test_locking_again_keeps_the_amount_already_locked(deposit):
    again = deposits.lock(deposit.lead_id, amount_minor=99900, currency="GBP", rule="other")
    assert again.pk == deposit.pk and again.amount_minor == 15000


def test_the_checkout_session_carries_the_lead_and_an_idempotency_key(stripe_api, deposit):
    fresh = deposits.ensure_link(deposit.pk, description="Deposit")
    headers, form = stripe_api.requests[0]
    assert headers["Idempotency-Key"] == f"deposit-{deposit.lead_id}-1"
    assert headers["Authorization"] == "Bearer sk_test_leadbot"
    assert form["client_reference_id"] == str(deposit.lead_id)
    assert form["metadata[lead_id]"] == str(deposit.lead_id)
    assert form["line_items[0][price_data][unit_amount]"] == "15000"
    assert form["line_items[0][price_data][currency]"] == "gbp"
    assert form["mode"] == "payment"
    assert fresh.checkout_session_id == stripe_api.created[0]["id"]
    assert fresh.url == stripe_api.created[0]["url"]
    assert fresh.expires_at > timezone.now()


def test_a_session_is_created_once_and_reused_while_unexpired(stripe_api, deposit):
    first = deposits.ensure_link(deposit.pk, description="Deposit")
    second = deposits.ensure_link(deposit.pk, description="Deposit")
    assert len(stripe_api.requests) == 1
    assert second.url == first.url


def test_a_retry_after_a_lost_answer_gets_the_same_session_back(stripe_api, deposit):
    deposits.ensure_link(deposit.pk, description="Deposit")
    # The task died after Stripe answered: our row never learnt the session.
    Deposit.objects.filter(pk=deposit.pk).update(checkout_session_id=None, url="")
    again = deposits.ensure_link(deposit.pk, description="Deposit")
    assert len(stripe_api.requests) == 2 and len(stripe_api.created) == 1
    assert again.checkout_session_id == stripe_api.created[0]["id"]


def test_stripe_failing_raises_and_records_nothing(stripe_api, deposit):
    stripe_api.fail_next = 1
    with pytest.raises(stripe.APIError):
        deposits.ensure_link(deposit.pk, description="Deposit")
    deposit.refresh_from_db()
    assert deposit.checkout_session_id is None and deposit.url == ""


def test_a_fresh_attempt_after_expiry_is_a_new_session(stripe_api, deposit):
    first = deposits.ensure_link(deposit.pk, description="Deposit")
    assert deposits.mark_expired(first)
    fresh = deposits.fresh_attempt(first)
    fresh = deposits.ensure_link(fresh.pk, description="Deposit")
    assert fresh.attempt == 2 and fresh.url != first.url
    assert stripe_api.requests[1][0]["Idempotency-Key"] == f"deposit-{deposit.lead_id}-2"


def test_approval_after_the_link_lapsed_locks_a_fresh_attempt(stripe_api, deposit):
    deposits.ensure_link(deposit.pk, description="Deposit")
    Deposit.objects.filter(pk=deposit.pk).update(expires_at=timezone.now() - timedelta(1))
    again = deposits.lock(deposit.lead_id, amount_minor=15000, currency="GBP", rule="x")
    assert again.attempt == 2
    assert Deposit.objects.get(pk=deposit.pk).status == Deposit.Status.EXPIRED


def test_a_payment_is_recorded_once_even_on_an_expired_link(deposit):
    assert deposits.mark_expired(deposit)
    assert deposits.mark_paid(deposit, via="stripe:evt_1")
    assert not deposits.mark_paid(deposit, via="stripe:evt_2")
    deposit.refresh_from_db()
    assert (deposit.status, deposit.paid_via) == (Deposit.Status.PAID, "stripe:evt_1")
    assert not deposits.mark_expired(deposit)  # a paid deposit stays paid


def test_a_session_we_never_recorded_is_found_by_its_metadata(deposit):
    metadata = {"lead_id": str(deposit.lead_id), "attempt": "1"}
    found = deposits.find_for_session("cs_test_lost", metadata)
    assert found.pk == deposit.pk and found.checkout_session_id == "cs_test_lost"
    assert deposits.find_for_session("cs_test_other", {"lead_id": "x"}) is None


@pytest.mark.parametrize(("hours", "minutes"), [(24, 24 * 60 - 5), (0.1, 35), (2, 120)])
def test_the_link_lifetime_stays_inside_what_stripe_accepts(
    stripe_api, deposit, settings, hours, minutes
):
    settings.DEPOSIT_LINK_HOURS = hours
    now = timezone.now()
    deposits.ensure_link(deposit.pk, description="Deposit", now=now)
    ((_, form),) = stripe_api.requests
    assert int(form["expires_at"]) == int((now + timedelta(minutes=minutes)).timestamp())
