"""Provider webhooks: verify, parse, hand each message to `record_inbound`, answer the provider.

A payload problem is always a 4xx with a JSON reason; only an unreachable database is a 503,
so the provider retries later and nothing is lost.
"""

import hmac
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from bookings.deposits import checkout
from conversations.channels import sanitise, twilio, whatsapp
from conversations.channels.base import PayloadError, SignatureInvalid, SignatureMissing
from conversations.flows.deposits import record_stripe_event
from conversations.flows.inbound import (
    DATABASE_DOWN,
    Outcome,
    record_inbound,
    record_other_event,
    record_status_update,
)
from leadbot.logs import get_logger

log = get_logger(__name__)


def _error(status, reason):
    """A refusal, logged once here with its reason (so Django does not log it again)."""
    log.warning("webhook.rejected", status_code=status, reason=reason)
    response = JsonResponse({"received": False, "error": reason}, status=status)
    response._has_been_logged = True
    return response


def _log_outcomes(channel, results):
    """One line per message: its outcome and lead; the error only above INFO (it may quote)."""
    for result in results:
        fields = {
            "channel": channel,
            "outcome": result.outcome,
            "message_id": result.message_id,
            "lead_id": result.lead_id,
        }
        if result.error:
            log.warning("webhook.message", **fields, error=result.error)
        else:
            log.info("webhook.message", **fields)


def webhook(view):
    """Shared guards: body size, signature and payload errors, and a database outage."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request):
        limit = settings.WEBHOOK_MAX_BODY_BYTES
        try:
            declared = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            return _error(400, "bad Content-Length")
        if declared > limit:
            return _error(413, "body larger than 1 MiB")
        try:
            raw = request.body
        except RequestDataTooBig:
            return _error(413, "body larger than 1 MiB")
        if len(raw) > limit:
            return _error(413, "body larger than 1 MiB")
        try:
            return view(request, raw)
        except SignatureMissing as exc:
            return _error(401, str(exc))
        except SignatureInvalid as exc:
            return _error(403, str(exc))
        except PayloadError as exc:
            return _error(400, exc.reason)
        except DATABASE_DOWN:
            log.error("webhook.database_unreachable", status_code=503, exc_info=True)
            response = JsonResponse(
                {"received": False, "error": "database unavailable, retry later"}, status=503
            )
            response["Retry-After"] = "30"
            response._has_been_logged = True
            return response

    return wrapped


def _summary(results, other=()):
    outcomes = [result.outcome for result in results]
    body = {"received": True, "messages": [r.external_id for r in results], "outcomes": outcomes}
    invalid = [
        {"kind": event["field"], "reason": event["reason"]}
        for event in other
        if event["field"] in ("invalid_message", "invalid_status")
    ]
    if invalid:
        body["invalid"] = invalid
    if results and all(o == Outcome.DUPLICATE for o in outcomes):
        body["duplicate"] = True
    if Outcome.OUT_OF_ORDER in outcomes:
        body["out_of_order"] = [r.external_id for r in results if r.outcome == Outcome.OUT_OF_ORDER]
    return body


@require_http_methods(["GET", "POST"])
@webhook
def whatsapp_webhook(request, raw):
    if request.method == "GET":
        return _verify_subscription(request)
    whatsapp.verify_signature(
        raw, request.headers.get("X-Hub-Signature-256"), settings.WHATSAPP_APP_SECRET
    )
    data = sanitise.parse_json(raw, max_depth=settings.WEBHOOK_MAX_JSON_DEPTH)
    batch = whatsapp.parse_payload(data, received_at=timezone.now())
    limit = settings.WEBHOOK_MAX_BATCH_MESSAGES
    if batch.size > limit:
        # Refused whole: a body this big could outlast the worker's timeout halfway through.
        return _error(413, f"{batch.size} messages and receipts in one body; at most {limit}")
    # Each message commits on its own, so a damaged one never holds back its neighbours and
    # a redelivery after a crash finds the committed ones as duplicates.
    results = [record_inbound(message) for message in batch.messages]
    _log_outcomes("whatsapp", results)
    for update in batch.statuses:
        record_status_update(update)
    for event in batch.other:
        record_other_event("whatsapp", event)
    return JsonResponse(_summary(results, batch.other))


def _verify_subscription(request):
    # Meta sends hub.mode, hub.verify_token and hub.challenge, dots included.
    mode = request.GET.get("hub.mode")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if mode == "subscribe" and challenge and _same(token, settings.WHATSAPP_VERIFY_TOKEN):
        return HttpResponse(challenge, content_type="text/plain")
    return HttpResponse("verification failed", status=403, content_type="text/plain")


def _same(given, expected):
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@require_http_methods(["POST"])
@webhook
def twilio_webhook(request, raw):
    if not settings.TWILIO_AUTH_TOKEN:
        return _error(403, "SMS webhooks are not configured (TWILIO_AUTH_TOKEN)")
    # request.body was read by the guard; Django parses the form from that wording.
    params = request.POST
    twilio.verify_signature(
        _public_url(request),
        params,
        request.headers.get("X-Twilio-Signature"),
        settings.TWILIO_AUTH_TOKEN,
    )
    result = record_inbound(twilio.parse_form(params.dict(), received_at=timezone.now()))
    _log_outcomes("sms", [result])
    return HttpResponse(twilio.empty_twiml(), content_type="text/xml")


def _public_url(request):
    """The URL Twilio signed: behind a proxy, the configured public base plus our path."""
    if settings.TWILIO_WEBHOOK_BASE_URL:
        return settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/") + request.get_full_path()
    return request.build_absolute_uri()


@require_http_methods(["POST"])
@webhook
def stripe_webhook(request, raw):
    """Stripe's events: the signature over the raw body, then one transaction per event."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        return _error(403, "Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)")
    try:
        # First the same strict parse as WhatsApp's (bounded depth, no NaN, no NUL): Stripe's
        # own parser recurses without a bound, and a signed body is not yet a storable one.
        data = sanitise.parse_json(raw)
        checkout.construct_event(raw, request.headers.get("Stripe-Signature"))
        event = stripe_event(data)
    except checkout.SignatureVerificationError:
        return _error(400, "missing or wrong Stripe-Signature")
    except PayloadError as error:
        return _error(400, f"not a Stripe event: {error}")
    except ValueError:
        return _error(400, "not a Stripe event")
    # Duplicates, unknown sessions and events out of order are stored and answered 200 with
    # the reason: Stripe would otherwise retry them for days.
    outcome = record_stripe_event(event)
    return JsonResponse({"received": True, "event": event["id"], "outcome": outcome})


def stripe_event(data):
    """The parsed body as a Stripe event: an id, a type and a data object; else PayloadError."""
    if not isinstance(data, dict):
        raise PayloadError("the body is not an object")
    if not isinstance(data.get("id"), str) or not 0 < len(data["id"]) <= 255:
        raise PayloadError("the event has no usable id")
    if not isinstance(data.get("type"), str):
        raise PayloadError("the event has no type")
    if not isinstance(data.get("data"), dict) or not isinstance(data["data"].get("object"), dict):
        raise PayloadError("the event has no data object")
    session = data["data"]["object"]
    if not isinstance(session.get("id", ""), str):
        raise PayloadError("the data object's id is not a string")
    if not isinstance(session.get("metadata") or {}, dict):
        raise PayloadError("the data object's metadata is not an object")
    return data
