"""Stripe Checkout, the HTTP boundary: create a deposit's session, read a signed event.

The official `stripe` library talks to `settings.STRIPE_API_BASE` (tests point it at a local
fake). Nothing here touches the database: callers hold no lock while these run.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import stripe
from django.conf import settings

__all__ = [
    "CheckoutSession",
    "SignatureVerificationError",
    "construct_event",
    "create_session",
    "is_configured",
]

SignatureVerificationError = stripe.SignatureVerificationError


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    expires_at: datetime


def is_configured():
    """Card payments need a secret key; without one the artist takes deposits by hand."""
    return bool(settings.STRIPE_SECRET_KEY)


def _client():
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def create_session(*, lead_id, attempt, amount_minor, currency, description, expires_at):
    """One Checkout Session per lead and attempt: the idempotency key makes a retry the same one.

    Raises stripe.StripeError subclasses on failure (the caller's task retries).
    """
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": amount_minor,
                    "product_data": {"name": description},
                },
            }
        ],
        "client_reference_id": str(lead_id),
        "metadata": {"lead_id": str(lead_id), "attempt": str(attempt)},
        "payment_intent_data": {"metadata": {"lead_id": str(lead_id), "attempt": str(attempt)}},
        "expires_at": int(expires_at.timestamp()),
    }
    if settings.STRIPE_CHECKOUT_SUCCESS_URL:
        params["success_url"] = settings.STRIPE_CHECKOUT_SUCCESS_URL
    session = _client().v1.checkout.sessions.create(
        params, options={"idempotency_key": idempotency_key(lead_id, attempt)}
    )
    return CheckoutSession(
        id=session.id,
        url=session.url,
        expires_at=datetime.fromtimestamp(session.expires_at, tz=UTC),
    )


def idempotency_key(lead_id, attempt):
    return f"deposit-{lead_id}-{attempt}"


def construct_event(raw, signature):
    """The verified event; raises SignatureVerificationError (bad or missing) or ValueError."""
    return stripe.Webhook.construct_event(raw, signature or "", settings.STRIPE_WEBHOOK_SECRET)
