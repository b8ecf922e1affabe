"""Provider-neutral value types and errors shared by the WhatsApp and Twilio channels."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import requests
from urllib3.exceptions import ProtocolError

CHANNEL_WHATSAPP = "whatsapp"
CHANNEL_SMS = "sms"


class MessageKind(StrEnum):
    """What an inbound message is, as the channels parse it and the flows read it."""

    TEXT = "text"
    INTERACTIVE = "interactive"  # a reply button or list row we sent, or a WhatsApp Flow
    BUTTON = "button"  # a quick-reply button on a template
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    REACTION = "reaction"
    CONTACTS = "contacts"
    ORDER = "order"
    UNSUPPORTED = "unsupported"  # a type the provider itself cannot pass on
    SYSTEM = "system"  # a provider notice, e.g. the user changed their number
    UNKNOWN = "unknown"  # an edit, a deletion or a type we do not know


# Kinds that arrive with an attachment (a Media): every one WhatsApp sends as media.
ATTACHMENT_KINDS = frozenset(
    {
        MessageKind.IMAGE,
        MessageKind.VIDEO,
        MessageKind.AUDIO,
        MessageKind.DOCUMENT,
        MessageKind.STICKER,
    }
)

# A phone number once the separators people type are gone: "+44 7700 900123" is one.
_PHONE_NUMBER = re.compile(r"\+?[0-9]+")
_PHONE_SEPARATORS = str.maketrans("", "", " \t-().")


def normalise_address(address: str) -> str:
    """A phone number as E.164 digits without the '+'; anything else (a WhatsApp business-scoped
    id, Twilio's "whatsapp:+44…") exactly as given. Every address is compared in this form."""
    compact = address.strip().translate(_PHONE_SEPARATORS)
    if _PHONE_NUMBER.fullmatch(compact):
        return compact.removeprefix("+")
    return address


STATUSES = frozenset({"sent", "delivered", "read", "failed"})


@dataclass(frozen=True, slots=True)
class Media:
    """One attachment: the provider's media id (or Twilio media SID) plus what it says about it."""

    kind: MessageKind
    media_id: str
    mime_type: str
    url: str = ""
    caption: str = ""
    filename: str = ""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a person, normalised; `raw` keeps the provider's own object."""

    channel: str
    external_id: str
    address: str  # through normalise_address(), so one person has one address
    timestamp: datetime
    kind: MessageKind
    body: str
    reply_id: str = ""
    media: tuple[Media, ...] = ()
    # dicts are unhashable, so they take part in equality but not in hash()
    location: dict[str, Any] | None = field(default=None, hash=False)
    profile_name: str = ""
    business_user_id: str = ""
    context_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # Why this message cannot be handled (a field of the wrong type, say): it is stored as
    # `failed` with this reason instead of running a flow; its neighbours go on normally.
    problem: str = ""


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A delivery receipt for a message we sent."""

    channel: str
    external_id: str
    status: str
    timestamp: datetime
    recipient: str
    errors: tuple[dict[str, Any], ...] = field(default=(), hash=False)


@dataclass(frozen=True, slots=True)
class WebhookBatch:
    """Everything one webhook body carried; `messages` are sorted oldest first."""

    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    other: list[dict[str, Any]] = field(default_factory=list)
    # how many message and receipt entries the body carried, well-formed or not
    size: int = 0


class SignatureMissing(Exception):
    """The request carried no signature header (caller answers 401)."""


class SignatureInvalid(Exception):
    """The signature is malformed or does not match (caller answers 403)."""


class PayloadError(Exception):
    """The sender's payload has the wrong shape; `reason` is safe to return in a 400."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SendError(Exception):
    """An outbound send failed. `code` is the provider's error code (or a short tag) as text."""

    def __init__(
        self,
        code: str,
        detail: str = "",
        *,
        status: int | None = None,
        sent_ids: tuple[str, ...] = (),
    ):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = str(code)
        self.detail = detail
        self.http_status = status
        # ids of the parts of a split message that went out before this failure
        self.sent_ids = sent_ids


class PermanentSendError(SendError):
    """Retrying the same request will not help."""


class TransientSendError(SendError):
    """Worth retrying later (rate limits, provider outages, network trouble)."""


class OutsideWindowError(PermanentSendError):
    """WhatsApp refused a free-form message: the 24-hour customer service window is closed."""


class MaybeSentError(TransientSendError):
    """The request reached the provider but its answer never came back: it may have gone out."""


@contextmanager
def transport_errors() -> Iterator[None]:
    """Map a failed HTTP exchange to send errors; one that may have reached the provider is
    MaybeSentError, one that never did is a plain TransientSendError."""
    try:
        yield
    except requests.ConnectTimeout as exc:
        # Never connected, so nothing was sent: safe to retry.
        raise TransientSendError("connect_timeout", str(exc)) from exc
    except requests.Timeout as exc:
        # A read timeout: the provider has the request and may have sent it. Neither provider
        # takes an idempotency key, so the outbox waits for a receipt before sending again.
        raise MaybeSentError("timeout", str(exc)) from exc
    except requests.exceptions.ChunkedEncodingError as exc:
        raise MaybeSentError("connection", str(exc)) from exc
    except requests.ConnectionError as exc:
        if exc.args and isinstance(exc.args[0], ProtocolError):
            # Dropped mid-exchange ("Connection aborted"), after the request may have arrived.
            raise MaybeSentError("connection", str(exc)) from exc
        raise TransientSendError("connection", str(exc)) from exc
    except requests.RequestException as exc:
        raise PermanentSendError("request", str(exc)) from exc
