"""WhatsApp Cloud API boundary: webhook signature, payload parsing and the send client."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any

import requests

from .base import (
    ATTACHMENT_KINDS,
    CHANNEL_WHATSAPP,
    STATUSES,
    InboundMessage,
    Media,
    MessageKind,
    OutsideWindowError,
    PayloadError,
    PermanentSendError,
    SendError,
    SignatureInvalid,
    SignatureMissing,
    StatusUpdate,
    TransientSendError,
    WebhookBatch,
    normalise_address,
    transport_errors,
)
from .sanitise import plausible_time

OBJECT = "whatsapp_business_account"
SIGNATURE_PREFIX = "sha256="
MAX_TEXT = 4096
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_INTERACTIVE_BODY = 1024

# Cloud API error codes: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
OUTSIDE_WINDOW_CODE = 131047
TRANSIENT_CODES = frozenset(
    {
        1,  # API Unknown: possibly temporary
        2,  # API Service: temporary downtime or overload
        4,  # API Too Many Calls (app-level rate limit)
        80007,  # WABA rate limit
        130429,  # Cloud API throughput reached
        131000,  # "Something went wrong": Meta says try again
        131016,  # Service unavailable
        131056,  # Pair rate limit: too many messages to the same user, wait and retry
        133004,  # Server temporarily unavailable
    }
)

_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
_UNIX_SECONDS = re.compile(r"-?\d{1,20}", re.ASCII)
# Business-scoped user ids look like "US.13491208655302741918" or "US.ENT.118…"
_BSUID = re.compile(r"[A-Z]{2}\.[A-Za-z0-9.]+")
_ENVELOPE_KEYS = frozenset({"messaging_product", "metadata", "contacts", "messages", "statuses"})


# --- signature ------------------------------------------------------------------------------


def sign(raw_body: bytes, app_secret: str | bytes) -> str:
    """Return the `X-Hub-Signature-256` header value Meta would send for `raw_body`."""
    key = app_secret.encode() if isinstance(app_secret, str) else app_secret
    return SIGNATURE_PREFIX + hmac.new(key, raw_body, hashlib.sha256).hexdigest()


def verify_signature(raw_body: bytes, header: str | None, app_secret: str | bytes) -> None:
    """Check `X-Hub-Signature-256` against the raw request bytes; raise if it does not match."""
    if not app_secret:
        # an empty key would let anyone compute a valid signature
        raise ValueError("app_secret is required to verify WhatsApp webhooks")
    if header is None or not header.strip():
        raise SignatureMissing("X-Hub-Signature-256 header is missing")
    header = header.strip()
    if not header.startswith(SIGNATURE_PREFIX):
        raise SignatureInvalid("signature must start with 'sha256='")
    given = header[len(SIGNATURE_PREFIX) :]
    if not _HEX_DIGEST.fullmatch(given):
        raise SignatureInvalid("signature is not a SHA-256 hex digest")
    expected = sign(raw_body, app_secret)[len(SIGNATURE_PREFIX) :]
    if not hmac.compare_digest(expected, given.lower()):
        raise SignatureInvalid("signature does not match the body")


# --- inbound payloads -----------------------------------------------------------------------


def parse_payload(data: object, received_at: datetime | None = None) -> WebhookBatch:
    """Turn a decoded Cloud API webhook body into messages, delivery receipts and the rest.

    An unusable envelope raises PayloadError (the caller answers 400). A damaged message or
    receipt never does: it becomes a message with a `problem`, or (when it cannot even be
    identified) an `other` event saying why, and its neighbours are parsed as usual.
    """
    received_at = received_at or datetime.now(UTC)
    if not isinstance(data, dict):
        raise PayloadError(f"payload must be a JSON object, got {type(data).__name__}")
    if data.get("object") != OBJECT:
        raise PayloadError(f"'object' must be {OBJECT!r}, got {_short(data.get('object'))}")
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("'entry' must be a list")

    parsed = _Parsed(received_at)
    for e, entry in enumerate(entries):
        where_entry = f"entry[{e}]"
        if not isinstance(entry, dict):
            raise PayloadError(f"{where_entry} must be an object")
        changes = entry.get("changes")
        if not isinstance(changes, list):
            raise PayloadError(f"{where_entry}.changes must be a list")
        for c, change in enumerate(changes):
            where = f"{where_entry}.changes[{c}]"
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                raise PayloadError(f"{where}.value must be an object")
            _parse_value(change, entry.get("id"), where, parsed)

    parsed.messages.sort(key=lambda item: item[:2])
    parsed.statuses.sort(key=lambda item: item[:2])
    return WebhookBatch(
        messages=[m for _, _, m in parsed.messages],
        statuses=[s for _, _, s in parsed.statuses],
        other=parsed.other,
        size=parsed.size,
    )


class _Parsed:
    """What the entries of one body have yielded so far."""

    def __init__(self, received_at: datetime):
        self.received_at = received_at
        self.messages: list[tuple[datetime, int, InboundMessage]] = []
        self.statuses: list[tuple[datetime, int, StatusUpdate]] = []
        self.other: list[dict[str, Any]] = []
        self.size = 0


def _parse_value(change: dict[str, Any], entry_id: object, where: str, parsed: _Parsed) -> None:
    value: dict[str, Any] = change["value"]
    field = change.get("field", "")
    field = field if isinstance(field, str) else ""
    by_wa_id, by_user_id, contacts_ok = _contacts(value.get("contacts"))
    messages = _list(value, "messages", f"{where}.value")
    statuses = _list(value, "statuses", f"{where}.value")
    parsed.size += len(messages) + len(statuses)

    for i, msg in enumerate(messages):
        here = f"{where}.value.messages[{i}]"
        message = _parse_message(msg, here, by_wa_id, by_user_id, parsed.received_at)
        if isinstance(message, InboundMessage):
            parsed.messages.append((message.timestamp, len(parsed.messages), message))
        else:
            parsed.other.append(_invalid("invalid_message", message, entry_id, {"message": msg}))

    unknown_statuses = []
    for i, st in enumerate(statuses):
        here = f"{where}.value.statuses[{i}]"
        try:
            update = _parse_status(st, here, parsed.received_at)
        except PayloadError as exc:
            parsed.other.append(_invalid("invalid_status", exc.reason, entry_id, {"status": st}))
            continue
        if update is None:
            unknown_statuses.append(st)
        else:
            parsed.statuses.append((update.timestamp, len(parsed.statuses), update))

    rest = {k: v for k, v in value.items() if k not in _ENVELOPE_KEYS}
    if unknown_statuses:
        rest["statuses"] = unknown_statuses
    if not contacts_ok:
        # kept, so a malformed contacts list is seen rather than silently dropped
        rest["contacts"] = value["contacts"]
    if rest:
        if "metadata" in value:
            rest["metadata"] = value["metadata"]
        parsed.other.append({"field": field, "entry_id": entry_id, "value": rest})


def _invalid(kind: str, reason: str, entry_id: object, item: dict[str, Any]) -> dict[str, Any]:
    """An `other` event for an item that cannot be identified, so it is kept, not lost."""
    return {"field": kind, "entry_id": entry_id, "reason": reason, "value": item}


def _contacts(
    contacts: object,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], bool]:
    """Contacts by wa_id and by user_id, and whether every one of them was well-formed."""
    by_wa_id: dict[str, dict[str, Any]] = {}
    by_user_id: dict[str, dict[str, Any]] = {}
    if contacts is None:
        return by_wa_id, by_user_id, True
    if not isinstance(contacts, list):
        return by_wa_id, by_user_id, False
    well_formed = True
    for contact in contacts:
        try:
            wa_id = _text(contact, "wa_id", "contact")
            user_id = _text(contact, "user_id", "contact")
            _text(_obj(contact, "profile", "contact"), "name", "contact.profile")
        except PayloadError:
            well_formed = False
            continue
        if wa_id:
            by_wa_id[wa_id] = contact
        if user_id:
            by_user_id[user_id] = contact
    return by_wa_id, by_user_id, well_formed


def _parse_message(
    msg: object,
    where: str,
    by_wa_id: dict[str, Any],
    by_user_id: dict[str, Any],
    received_at: datetime,
) -> InboundMessage | str:
    """The message, or why it cannot be identified (no usable id or sender)."""
    if not isinstance(msg, dict):
        return f"{where} must be an object"
    try:
        external_id = _text(msg, "id", where)
        sender = _text(msg, "from", where)
        user_id = _text(msg, "from_user_id", where) or _text(msg, "user_id", where)
    except PayloadError as exc:
        return exc.reason
    if not external_id:
        return f"{where}.id is missing"
    # users with a username may withhold their phone number; then the BSUID is the address
    address = normalise_address(sender or user_id)
    if not address:
        return f"{where}.from is missing"

    fields: dict[str, Any] = {
        "channel": CHANNEL_WHATSAPP,
        "external_id": external_id,
        "address": address,
        "timestamp": received_at,
        "kind": MessageKind.UNKNOWN,
        "body": "",
        "business_user_id": user_id,
        "raw": msg,
    }
    try:
        fields["timestamp"] = plausible_time(_timestamp(msg.get("timestamp"), where), received_at)
        contact = (sender and by_wa_id.get(sender)) or (user_id and by_user_id.get(user_id)) or {}
        fields["profile_name"] = _text(_obj(contact, "profile", "contact"), "name", "contact")
        fields["business_user_id"] = user_id or _text(contact, "user_id", "contact")
        fields["context_id"] = _text(_obj(msg, "context", where), "id", f"{where}.context")
        fields.update(_content(msg, where))
    except PayloadError as exc:
        fields["problem"] = exc.reason
    return InboundMessage(**fields)


def _content(msg: dict[str, Any], where: str) -> dict[str, Any]:
    """Kind, transcript body, reply id, media and location for one message."""
    mtype = _text(msg, "type", where)
    if mtype == "text":
        return {
            "kind": MessageKind.TEXT,
            "body": _text(_obj(msg, "text", where), "body", f"{where}.text"),
        }
    if mtype == "interactive":
        interactive = _obj(msg, "interactive", where)
        here = f"{where}.interactive"
        itype = _text(interactive, "type", here)
        if itype in ("button_reply", "list_reply"):
            reply = _obj(interactive, itype, here)
            return {
                "kind": MessageKind.INTERACTIVE,
                "body": _text(reply, "title", f"{here}.{itype}"),
                "reply_id": _text(reply, "id", f"{here}.{itype}"),
            }
        if itype == "nfm_reply":  # a WhatsApp Flow was submitted
            body = _text(_obj(interactive, itype, here), "body", f"{here}.{itype}")
            return {"kind": MessageKind.INTERACTIVE, "body": body}
        # Meta sends interactive without content when it cannot decode the reply
        return {"kind": MessageKind.UNKNOWN, "body": ""}
    if mtype == "button":  # quick-reply button on a template
        button = _obj(msg, "button", where)
        return {
            "kind": MessageKind.BUTTON,
            "body": _text(button, "text", f"{where}.button"),
            "reply_id": _text(button, "payload", f"{where}.button"),
        }
    if mtype in ATTACHMENT_KINDS:
        obj = _obj(msg, mtype, where)
        here = f"{where}.{mtype}"
        media = Media(
            kind=MessageKind(mtype),
            media_id=_text(obj, "id", here),
            mime_type=_text(obj, "mime_type", here),
            url=_text(obj, "url", here),
            caption=_text(obj, "caption", here),
            filename=_text(obj, "filename", here),
        )
        return {"kind": media.kind, "body": media.caption, "media": (media,)}
    if mtype == "location":
        location = _obj(msg, "location", where)
        text = _location_text(location, f"{where}.location")
        return {"kind": MessageKind.LOCATION, "body": text, "location": dict(location)}
    if mtype == "reaction":
        reaction = _obj(msg, "reaction", where)
        # an empty or absent emoji means the reaction was removed
        return {
            "kind": MessageKind.REACTION,
            "body": _text(reaction, "emoji", f"{where}.reaction"),
            "context_id": _text(reaction, "message_id", f"{where}.reaction"),
        }
    if mtype == "contacts":
        cards = _list(msg, "contacts", where)
        texts = (_contact_text(card, f"{where}.contacts[{i}]") for i, card in enumerate(cards))
        return {"kind": MessageKind.CONTACTS, "body": "; ".join(filter(None, texts))}
    if mtype == "order":
        return {
            "kind": MessageKind.ORDER,
            "body": _text(_obj(msg, "order", where), "text", f"{where}.order"),
        }
    if mtype == "unsupported":
        return {"kind": MessageKind.UNSUPPORTED, "body": ""}
    if mtype == "system":
        return {
            "kind": MessageKind.SYSTEM,
            "body": _text(_obj(msg, "system", where), "body", f"{where}.system"),
        }
    if mtype in ("edit", "revoke"):
        # not part of the transcript yet, but point at the message they change
        original = _text(_obj(msg, mtype, where), "original_message_id", f"{where}.{mtype}")
        return {"kind": MessageKind.UNKNOWN, "body": "", "context_id": original}
    return {"kind": MessageKind.UNKNOWN, "body": ""}


def _location_text(location: dict[str, Any], where: str) -> str:
    label = ", ".join(filter(None, (_text(location, k, where) for k in ("name", "address"))))
    lat, lon = (_coordinate(location, key, where) for key in ("latitude", "longitude"))
    coords = f"({lat}, {lon})" if lat is not None and lon is not None else ""
    return " ".join(filter(None, (label, coords)))


def _coordinate(location: dict[str, Any], key: str, where: str) -> float | int | str | None:
    value = location.get(key)
    if value is None or (isinstance(value, int | float | str) and not isinstance(value, bool)):
        return value
    raise PayloadError(f"{where}.{key} must be a number, got {type(value).__name__}")


def _contact_text(card: object, where: str) -> str:
    if not isinstance(card, dict):
        raise PayloadError(f"{where} must be an object")
    name_obj = _obj(card, "name", where)
    name = _text(name_obj, "formatted_name", f"{where}.name") or _text(
        name_obj, "first_name", f"{where}.name"
    )
    phones = []
    for i, phone in enumerate(_list(card, "phones", where)):
        if not isinstance(phone, dict):
            raise PayloadError(f"{where}.phones[{i}] must be an object")
        phones.append(_text(phone, "phone", f"{where}.phones[{i}]"))
    phones_text = ", ".join(p for p in phones if p)
    if name and phones_text:
        return f"{name} ({phones_text})"
    return name or phones_text


def _parse_status(st: object, where: str, received_at: datetime) -> StatusUpdate | None:
    if not isinstance(st, dict):
        raise PayloadError(f"{where} must be an object")
    status = _text(st, "status", where)
    if status not in STATUSES:
        return None  # e.g. "played" for voice notes: kept in `other`
    external_id = _text(st, "id", where)
    if not external_id:
        raise PayloadError(f"{where}.id is missing")
    errors = _list(st, "errors", where)
    if not all(isinstance(error, dict) for error in errors):
        raise PayloadError(f"{where}.errors must be a list of objects")
    return StatusUpdate(
        channel=CHANNEL_WHATSAPP,
        external_id=external_id,
        status=status,
        timestamp=plausible_time(_timestamp(st.get("timestamp"), where), received_at),
        recipient=normalise_address(
            _text(st, "recipient_id", where) or _text(st, "recipient_user_id", where)
        ),
        errors=tuple(errors),
    )


def _timestamp(value: object, where: str) -> datetime | None:
    """Unix seconds as Meta sends them; None when the number is beyond any calendar."""
    if value is None:
        raise PayloadError(f"{where}.timestamp is missing")
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and _UNIX_SECONDS.fullmatch(value):
        seconds = int(value)
    else:
        raise PayloadError(f"{where}.timestamp must be Unix seconds, got {_short(value)}")
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _list(value: dict[str, Any], key: str, where: str) -> list[Any]:
    items = value.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise PayloadError(f"{where}.{key} must be a list")
    return items


def _obj(parent: object, key: str, where: str) -> dict[str, Any]:
    """`parent[key]` as an object ({} when absent); anything else is a PayloadError."""
    if not isinstance(parent, dict):
        raise PayloadError(f"{where} must be an object")
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where}.{key} must be an object, got {type(value).__name__}")
    return value


def _text(parent: object, key: str, where: str) -> str:
    """`parent[key]` as a string ("" when absent); anything else is a PayloadError."""
    if not isinstance(parent, dict):
        raise PayloadError(f"{where} must be an object")
    value = parent.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where}.{key} must be a string, got {type(value).__name__}")
    return value


def _str(value: object) -> str:
    return "" if value is None else str(value)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- outbound -------------------------------------------------------------------------------


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split `text` into parts of at most `limit` characters at paragraph, line or word breaks."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        # a paragraph or line break is only worth it if it keeps the part reasonably full
        for sep in ("\n\n", "\n"):
            pos = window.rfind(sep)
            if pos >= limit // 2:
                cut = pos
                break
        if cut < 0:
            cut = max(window.rfind(" "), window.rfind("\t"))
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


class WhatsAppClient:
    """Sends messages through the Cloud API; `api_base` includes the Graph version."""

    def __init__(
        self,
        api_base: str,
        access_token: str,
        phone_number_id: str,
        *,
        timeout: float = 10,
        session: requests.Session | None = None,
    ):
        self.url = f"{api_base.rstrip('/')}/{phone_number_id}/messages"
        self.timeout = timeout
        self._session = session or requests.Session()
        self._headers = {"Authorization": f"Bearer {access_token}"}

    def send_text(self, to: str, body: str) -> list[str]:
        """Send a text, split into several messages if longer than 4096 characters."""
        parts = split_text(body)
        if not parts:
            raise ValueError("cannot send an empty text message")
        ids: list[str] = []
        for part in parts:
            payload = {
                **_envelope(to),
                "type": "text",
                "text": {"preview_url": False, "body": part},
            }
            try:
                ids.append(self._post(payload))
            except SendError as exc:
                exc.sent_ids = tuple(ids)
                raise
        return ids

    def send_buttons(self, to: str, body: str, buttons: list[tuple[str, str]]) -> str:
        """Send up to three reply buttons given as (id, title) pairs; return the message id."""
        _check_buttons(body, buttons)
        payload = {
            **_envelope(to),
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": body},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": bid, "title": title}}
                        for bid, title in buttons
                    ]
                },
            },
        }
        return self._post(payload)

    def send_template(
        self,
        to: str,
        name: str,
        language: str = "en_GB",
        components: list[dict[str, Any]] | None = None,
    ) -> str:
        """Send an approved template (the only kind allowed outside the 24-hour window)."""
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if components:
            template["components"] = components
        return self._post({**_envelope(to), "type": "template", "template": template})

    def _post(self, payload: dict[str, Any]) -> str:
        with transport_errors():
            resp = self._session.post(
                self.url, json=payload, headers=self._headers, timeout=self.timeout
            )

        try:
            data = resp.json()
        except ValueError:
            data = None
        if 200 <= resp.status_code < 300:
            try:
                message_id = data["messages"][0]["id"]
            except (TypeError, KeyError, IndexError):
                message_id = None
            if not isinstance(message_id, str) or not message_id:
                raise PermanentSendError(
                    "bad_response",
                    f"HTTP {resp.status_code} without a message id: {resp.text[:200]}",
                    status=resp.status_code,
                )
            return message_id
        raise _error_for(resp.status_code, data, resp.text)


def _envelope(to: str) -> dict[str, Any]:
    # BSUIDs (users who hide their number behind a username) go in "recipient", not "to"
    key = "recipient" if _BSUID.fullmatch(to) else "to"
    return {"messaging_product": "whatsapp", "recipient_type": "individual", key: to}


def _check_buttons(body: str, buttons: list[tuple[str, str]]) -> None:
    if not body or len(body) > MAX_INTERACTIVE_BODY:
        raise ValueError(f"button message body must be 1-{MAX_INTERACTIVE_BODY} characters")
    if not 1 <= len(buttons) <= MAX_BUTTONS:
        raise ValueError(f"reply buttons: 1 to {MAX_BUTTONS} allowed, got {len(buttons)}")
    ids = [bid for bid, _ in buttons]
    titles = [title for _, title in buttons]
    for bid in ids:
        if not bid or len(bid) > MAX_BUTTON_ID or bid != bid.strip():
            raise ValueError(f"button id must be 1-{MAX_BUTTON_ID} characters, no outer spaces")
    for title in titles:
        if not title or len(title) > MAX_BUTTON_TITLE:
            raise ValueError(f"button title {title!r} must be 1-{MAX_BUTTON_TITLE} characters")
    if len(set(ids)) != len(ids) or len(set(titles)) != len(titles):
        raise ValueError("button ids and titles must be unique")


def _error_for(status: int, data: object, text: str) -> SendError:
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        error = {}
    try:
        code = int(error["code"])
    except (KeyError, TypeError, ValueError):
        code = None
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    detail = "; ".join(_str(x) for x in (error.get("message"), details) if x) or text[:200]
    tag = str(code) if code is not None else f"http_{status}"

    if code == OUTSIDE_WINDOW_CODE:
        return OutsideWindowError(tag, detail, status=status)
    if code in TRANSIENT_CODES or status == 429 or status >= 500:
        return TransientSendError(tag, detail, status=status)
    return PermanentSendError(tag, detail, status=status)
