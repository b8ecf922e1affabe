"""Twilio SMS/MMS boundary: webhook signature, form parsing and the send client."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from .base import (
    CHANNEL_SMS,
    InboundMessage,
    Media,
    MessageKind,
    PayloadError,
    PermanentSendError,
    SendError,
    SignatureInvalid,
    SignatureMissing,
    TransientSendError,
    normalise_address,
    transport_errors,
)
from .sanitise import clean_text

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_MEDIA = 10  # Twilio attaches at most 10 media to one message


def verify_signature(
    url: str, params: Mapping[str, Any], signature: str | None, auth_token: str
) -> None:
    """Check `X-Twilio-Signature` for a form POST to `url` (the full URL Twilio called)."""
    if not auth_token:
        raise ValueError("auth_token is required to verify Twilio webhooks")
    if signature is None or not signature.strip():
        raise SignatureMissing("X-Twilio-Signature header is missing")
    # the validator reads repeated keys itself from a Django QueryDict (getlist)
    if not RequestValidator(auth_token).validate(url, params, signature.strip()):
        raise SignatureInvalid("X-Twilio-Signature does not match")


def parse_form(params: Mapping[str, Any], received_at: datetime | None = None) -> InboundMessage:
    """Turn Twilio's inbound message form into an InboundMessage stamped `received_at`.

    Every value is made storable here (a `%00` decodes to a NUL); a form without a sid or a
    sender raises PayloadError, a bad NumMedia leaves the message with a `problem`.
    """
    sid = _get(params, "MessageSid")
    sender = _get(params, "From")
    if not sid:
        raise PayloadError("MessageSid is missing")
    if not sender:
        raise PayloadError("From is missing")
    num_media_text = _get(params, "NumMedia") or "0"
    problem = ""
    if not num_media_text.isascii() or not num_media_text.isdigit():
        problem = f"NumMedia must be a number, got {num_media_text[:20]!r}"
        num_media_text = "0"

    media = []
    # a long digit string is no count at all (and int() refuses over 4,300 digits)
    num_media = int(num_media_text) if len(num_media_text) <= 3 else MAX_MEDIA
    for i in range(min(num_media, MAX_MEDIA)):
        url = _get(params, f"MediaUrl{i}")
        if not url:
            continue
        mime = _get(params, f"MediaContentType{i}")
        last_segment = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
        media.append(
            Media(
                kind=_media_kind(mime),
                media_id=last_segment if last_segment.startswith("ME") else "",
                mime_type=mime,
                url=url,
            )
        )

    body = _get(params, "Body")
    kind = media[0].kind if media else MessageKind.TEXT
    reply_id = ""
    location = None
    # WhatsApp-via-Twilio adds quick-reply and location fields to the same form
    if _get(params, "ButtonPayload"):
        kind, reply_id = MessageKind.BUTTON, _get(params, "ButtonPayload")
        body = _get(params, "ButtonText") or body
    elif _get(params, "Latitude") and _get(params, "Longitude"):
        kind = MessageKind.LOCATION
        location = {
            "latitude": _get(params, "Latitude"),
            "longitude": _get(params, "Longitude"),
            "name": _get(params, "Label"),
            "address": _get(params, "Address"),
        }
        label = ", ".join(v for v in (location["name"], location["address"]) if v)
        coords = f"({location['latitude']}, {location['longitude']})"
        body = f"{label} {coords}" if label else coords

    return InboundMessage(
        channel=CHANNEL_SMS,
        external_id=sid,
        address=normalise_address(sender),
        timestamp=_utc(received_at),
        kind=kind,
        body=body,
        reply_id=reply_id,
        media=tuple(media),
        location=location,
        profile_name=_get(params, "ProfileName"),
        context_id=_get(params, "OriginalRepliedMessageSid"),
        raw={clean_text(str(key)): _get(params, key) for key in params},
        problem=problem,
    )


def empty_twiml() -> str:
    """An empty TwiML response: acknowledge the webhook without replying inline."""
    return EMPTY_TWIML


def _get(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if isinstance(value, list | tuple):  # parse_qs-style dicts of lists
        value = value[-1] if value else None
    return "" if value is None else clean_text(str(value))


def _media_kind(mime: str) -> MessageKind:
    major = mime.split("/", 1)[0].lower()
    if major in (MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.AUDIO):
        return MessageKind(major)
    return MessageKind.DOCUMENT


def _e164(address: str) -> str:
    """The number as Twilio takes it: our digits with their '+' back; "whatsapp:+…" as is."""
    return f"+{address}" if address.isascii() and address.isdigit() else address


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class _RebasedHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to `api_base` instead of https://api.twilio.com."""

    def __init__(self, api_base: str, timeout: float):
        super().__init__(timeout=timeout)
        self.api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        rebased = self.api_base + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, rebased, *args, **kwargs)


class TwilioClient:
    """Sends SMS through Twilio's REST API with the official SDK."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        api_base: str | None = None,
        timeout: float = 10,
    ):
        if not account_sid or not auth_token:
            # the SDK would silently fall back to TWILIO_* environment variables
            raise ValueError("account_sid and auth_token are required")
        self.from_number = from_number
        http_client = (
            _RebasedHttpClient(api_base, timeout) if api_base else TwilioHttpClient(timeout=timeout)
        )
        self._client = Client(account_sid, auth_token, http_client=http_client)

    def send_sms(self, to: str, body: str) -> str:
        """Send one SMS to `to` (a normalised address or E.164) and return its Message SID."""
        try:
            with transport_errors():
                message = self._client.messages.create(
                    to=_e164(to), from_=self.from_number, body=body
                )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _error_for(exc) from exc
        except ValueError as exc:  # a 2xx whose body is not JSON
            raise PermanentSendError("bad_response", str(exc)) from exc
        if not message.sid:
            raise PermanentSendError("bad_response", "Twilio returned no Message SID")
        return str(message.sid)


def _error_for(exc: TwilioRestException | TwilioServiceException) -> SendError:
    status = exc.status
    if isinstance(exc, TwilioServiceException):
        detail = exc.detail or exc.title or ""
    else:
        detail = exc.msg or ""
    code = str(exc.code) if exc.code and exc.code != status else f"http_{status}"
    if status == 429 or status >= 500:
        return TransientSendError(code, detail, status=status)
    return PermanentSendError(code, detail, status=status)
