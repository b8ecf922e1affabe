"""A local stand-in for Stripe's API and its webhook signatures, at the HTTP boundary.

`FakeStripe` answers POST /v1/checkout/sessions like Stripe does, honouring Idempotency-Key
(the same key returns the same session); `signed` signs an event body with Stripe's scheme,
`t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
"""

import hashlib
import hmac
import itertools
import json
import time
from urllib.parse import parse_qs

import pytest
from werkzeug import Response

WEBHOOK_SECRET = "whsec_test_leadbot"
_ids = itertools.count(1)


class FakeStripe:
    def __init__(self, httpserver):
        self.server = httpserver
        self.sessions = {}  # idempotency key -> session
        self.requests = []  # (headers, form) of every create call
        self.fail_next = 0
        httpserver.expect_request("/v1/checkout/sessions", method="POST").respond_with_handler(
            self._create
        )

    def _create(self, request):
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        self.requests.append((dict(request.headers), form))
        if self.fail_next:
            self.fail_next -= 1
            body = {"error": {"type": "api_error", "message": "Something went wrong"}}
            return Response(json.dumps(body), status=500, content_type="application/json")
        key = request.headers.get("Idempotency-Key")
        if key not in self.sessions:
            number = next(_ids)
            self.sessions[key] = {
                "id": f"cs_test_{number:06d}",
                "object": "checkout.session",
                "url": f"https://checkout.stripe.com/c/pay/cs_test_{number:06d}",
                "expires_at": int(form["expires_at"]),
                "client_reference_id": form.get("client_reference_id"),
                "metadata": {
                    "lead_id": form.get("metadata[lead_id]"),
                    "attempt": form.get("metadata[attempt]"),
                },
                "payment_status": "unpaid",
                "status": "open",
            }
        return Response(json.dumps(self.sessions[key]), status=200, content_type="application/json")

    @property
    def created(self):
        return list(self.sessions.values())


def session_event(session, kind="checkout.session.completed", *, event_id=None, paid=True):
    """A Stripe event body about one Checkout Session, shaped like Stripe's."""
    obj = {**session}
    if kind == "checkout.session.completed":
        obj.update(status="complete", payment_status="paid" if paid else "unpaid")
    elif kind == "checkout.session.expired":
        obj.update(status="expired", payment_status="unpaid")
    return {
        "id": event_id or f"evt_test_{next(_ids):06d}",
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "type": kind,
        "livemode": False,
        "data": {"object": obj},
    }


def signed(body, secret=WEBHOOK_SECRET, timestamp=None):
    """(raw bytes, Stripe-Signature header) for an event body."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    t = int(timestamp if timestamp is not None else time.time())
    digest = hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    return raw, f"t={t},v1={digest}"


@pytest.fixture
def stripe_api(httpserver, settings):
    """Stripe's API as a local fake (pytest-httpserver), with the keys that turn deposits on."""
    settings.STRIPE_SECRET_KEY = "sk_test_leadbot"
    settings.STRIPE_API_BASE = httpserver.url_for("").rstrip("/")
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return FakeStripe(httpserver)
