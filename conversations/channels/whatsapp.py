"""WhatsApp Cloud API boundary: webhook signature, payload parsing and the send client."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any

import requests

from .base import (
    CHANNEL_WHATSAPP,
    STATUSES,
    InboundMessage,
    Media,
    OutsideWindowError,
    PayloadError,
    PermanentSendError,
    SendError,
    SignatureInvalid,
    SignatureMissing,
    StatusUpdate,
    TransientSendError,
    WebhookBatch,
    transport_errors,
)

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

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
_UNIX_SECONDS = re.compile(r"\d{1,12}", re.ASCII)
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


def parse_payload(data: object) -> WebhookBatch:
    """Turn a decoded Cloud API webhook body into messages, delivery receipts and the rest."""
    if not isinstance(data, dict):
        raise PayloadError(f"payload must be a JSON object, got {type(data).__name__}")
    if data.get("object") != OBJECT:
        raise PayloadError(f"'object' must be {OBJECT!r}, got {_short(data.get('object'))}")
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("'entry' must be a list")

    messages: list[tuple[datetime, int, InboundMessage]] = []
    statuses: list[tuple[datetime, int, StatusUpdate]] = []
    other: list[dict] = []
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
            _parse_value(change, entry.get("id"), where, messages, statuses, other)

    messages.sort(key=lambda item: item[:2])
    statuses.sort(key=lambda item: item[:2])
    return WebhookBatch(
        messages=[m for _, _, m in messages],
        statuses=[s for _, _, s in statuses],
        other=other,
    )


def _parse_value(
    change: dict,
    entry_id: object,
    where: str,
    messages: list[tuple[datetime, int, InboundMessage]],
    statuses: list[tuple[datetime, int, StatusUpdate]],
    other: list[dict],
) -> None:
    value: dict = change["value"]
    field = change.get("field", "")
    by_wa_id: dict[str, dict] = {}
    by_user_id: dict[str, dict] = {}
    for contact in value.get("contacts") or ():
        if isinstance(contact, dict):
            if contact.get("wa_id"):
                by_wa_id[str(contact["wa_id"])] = contact
            if contact.get("user_id"):
                by_user_id[str(contact["user_id"])] = contact

    for i, msg in enumerate(_list(value, "messages", f"{where}.value")):
        parsed = _parse_message(msg, f"{where}.value.messages[{i}]", by_wa_id, by_user_id)
        messages.append((parsed.timestamp, len(messages), parsed))

    unknown_statuses = []
    for i, st in enumerate(_list(value, "statuses", f"{where}.value")):
        parsed = _parse_status(st, f"{where}.value.statuses[{i}]")
        if parsed is None:
            unknown_statuses.append(st)
        else:
            statuses.append((parsed.timestamp, len(statuses), parsed))

    rest = {k: v for k, v in value.items() if k not in _ENVELOPE_KEYS}
    if unknown_statuses:
        rest["statuses"] = unknown_statuses
    if rest:
        if "metadata" in value:
            rest["metadata"] = value["metadata"]
        other.append({"field": field, "entry_id": entry_id, "value": rest})


def _parse_message(msg: object, where: str, by_wa_id: dict, by_user_id: dict) -> InboundMessage:
    if not isinstance(msg, dict):
        raise PayloadError(f"{where} must be an object")
    external_id = msg.get("id")
    if not isinstance(external_id, str) or not external_id:
        raise PayloadError(f"{where}.id is missing")
    sender = msg.get("from")
    user_id = msg.get("from_user_id") or msg.get("user_id") or ""
    if sender is not None and not isinstance(sender, str):
        raise PayloadError(f"{where}.from must be a string")
    if not isinstance(user_id, str):
        raise PayloadError(f"{where}.from_user_id must be a string")
    # users with a username may withhold their phone number; then the BSUID is the address
    address = sender or user_id
    if not address:
        raise PayloadError(f"{where}.from is missing")
    if "timestamp" not in msg:
        raise PayloadError(f"{where}.timestamp is missing")
    timestamp = _timestamp(msg["timestamp"], where)

    contact = (sender and by_wa_id.get(sender)) or (user_id and by_user_id.get(user_id)) or {}
    profile = contact.get("profile")
    profile_name = profile.get("name", "") if isinstance(profile, dict) else ""
    context = _obj(msg, "context")

    fields: dict[str, Any] = {
        "channel": CHANNEL_WHATSAPP,
        "external_id": external_id,
        "address": address,
        "timestamp": timestamp,
        "profile_name": _str(profile_name),
        "business_user_id": _str(user_id or contact.get("user_id")),
        "context_id": _str(context.get("id")),
        "raw": msg,
    }
    fields.update(_content(msg))
    return InboundMessage(**fields)


def _content(msg: dict) -> dict[str, Any]:
    """Kind, transcript body, reply id, media and location for one message."""
    mtype = msg.get("type")
    if mtype == "text":
        return {"kind": "text", "body": _str(_obj(msg, "text").get("body"))}
    if mtype == "interactive":
        interactive = _obj(msg, "interactive")
        itype = interactive.get("type")
        if itype in ("button_reply", "list_reply"):
            reply = _obj(interactive, itype)
            return {
                "kind": "interactive",
                "body": _str(reply.get("title")),
                "reply_id": _str(reply.get("id")),
            }
        if itype == "nfm_reply":  # a WhatsApp Flow was submitted
            return {"kind": "interactive", "body": _str(_obj(interactive, itype).get("body"))}
        # Meta sends interactive without content when it cannot decode the reply
        return {"kind": "unknown", "body": ""}
    if mtype == "button":  # quick-reply button on a template
        button = _obj(msg, "button")
        return {
            "kind": "button",
            "body": _str(button.get("text")),
            "reply_id": _str(button.get("payload")),
        }
    if mtype in MEDIA_KINDS:
        obj = _obj(msg, mtype)
        media = Media(
            kind=mtype,
            media_id=_str(obj.get("id")),
            mime_type=_str(obj.get("mime_type")),
            url=_str(obj.get("url")),
            caption=_str(obj.get("caption")),
            filename=_str(obj.get("filename")),
        )
        return {"kind": mtype, "body": media.caption, "media": (media,)}
    if mtype == "location":
        location = _obj(msg, "location")
        return {"kind": "location", "body": _location_text(location), "location": dict(location)}
    if mtype == "reaction":
        reaction = _obj(msg, "reaction")
        # an empty or absent emoji means the reaction was removed
        return {
            "kind": "reaction",
            "body": _str(reaction.get("emoji")),
            "context_id": _str(reaction.get("message_id")),
        }
    if mtype == "contacts":
        cards = msg.get("contacts") if isinstance(msg.get("contacts"), list) else []
        return {"kind": "contacts", "body": "; ".join(filter(None, map(_contact_text, cards)))}
    if mtype == "order":
        return {"kind": "order", "body": _str(_obj(msg, "order").get("text"))}
    if mtype == "unsupported":
        return {"kind": "unsupported", "body": ""}
    if mtype == "system":
        return {"kind": "system", "body": _str(_obj(msg, "system").get("body"))}
    if mtype in ("edit", "revoke"):
        # not part of the transcript yet, but point at the message they change
        original = _obj(msg, mtype).get("original_message_id")
        return {"kind": "unknown", "body": "", "context_id": _str(original)}
    return {"kind": "unknown", "body": ""}


def _location_text(location: dict) -> str:
    label = ", ".join(_str(location.get(k)) for k in ("name", "address") if location.get(k))
    lat, lon = location.get("latitude"), location.get("longitude")
    coords = f"({lat}, {lon})" if lat is not None and lon is not None else ""
    return " ".join(filter(None, (label, coords)))


def _contact_text(card: object) -> str:
    if not isinstance(card, dict):
        return ""
    name = _obj(card, "name").get("formatted_name") or _obj(card, "name").get("first_name")
    phones = [p.get("phone") for p in card.get("phones") or () if isinstance(p, dict)]
    phones_text = ", ".join(_str(p) for p in phones if p)
    if name and phones_text:
        return f"{name} ({phones_text})"
    return _str(name) or phones_text


def _parse_status(st: object, where: str) -> StatusUpdate | None:
    if not isinstance(st, dict):
        raise PayloadError(f"{where} must be an object")
    if st.get("status") not in STATUSES:
        return None  # e.g. "played" for voice notes: kept in `other`
    external_id = st.get("id")
    if not isinstance(external_id, str) or not external_id:
        raise PayloadError(f"{where}.id is missing")
    if "timestamp" not in st:
        raise PayloadError(f"{where}.timestamp is missing")
    errors = st.get("errors") if isinstance(st.get("errors"), list) else []
    return StatusUpdate(
        channel=CHANNEL_WHATSAPP,
        external_id=external_id,
        status=st["status"],
        timestamp=_timestamp(st["timestamp"], where),
        recipient=_str(st.get("recipient_id") or st.get("recipient_user_id")),
        errors=tuple(e for e in errors if isinstance(e, dict)),
    )


def _timestamp(value: object, where: str) -> datetime:
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and _UNIX_SECONDS.fullmatch(value):
        seconds = int(value)
    else:
        raise PayloadError(f"{where}.timestamp must be Unix seconds, got {_short(value)}")
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"{where}.timestamp is out of range: {_short(value)}") from None


def _list(value: dict, key: str, where: str) -> list:
    items = value.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise PayloadError(f"{where}.{key} must be a list")
    return items


def _obj(parent: dict, key: str) -> dict:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


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
        components: list[dict] | None = None,
    ) -> str:
        """Send an approved template (the only kind allowed outside the 24-hour window)."""
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if components:
            template["components"] = components
        return self._post({**_envelope(to), "type": "template", "template": template})

    def _post(self, payload: dict) -> str:
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


def _envelope(to: str) -> dict:
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
