"""Property: no signed body, however hostile, gets a 5xx, and no well-formed message is lost.

Arbitrary JSON (NaN, infinities, huge integers, NULs, lone surrogates, deep nesting) is
spliced into real-shaped fixture payloads and Twilio forms, signed, and posted to the real
views. `HYPOTHESIS_EXAMPLES` sets the example count (default 100, for `make test`).
"""

import itertools
import json
import math
import os
import time
from collections import Counter
from urllib.parse import urlencode

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from conversations.channels.sanitise import MAX_INT_DIGITS, clean_text
from conversations.models import Message, MessageStatus
from conversations.tests.conftest import fresh_fixture

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "100"))
# Every example makes unique ids and senders, so sharing the test's database is sound.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
# Statuses seen, per test, printed at the end of a run (`pytest -s`) for the long version.
SEEN = Counter()

MESSAGE_VARIANTS = [
    ("message.json", "text"),
    ("message.json", "image"),
    ("message.json", "document"),
    ("message.json", "reaction"),
    ("message.json", "current_location"),
    ("message.json", "contacts"),
    ("message.json", "order"),
    ("message.json", "reply"),
    ("message.json", "unsupported"),
    ("callback_button.json", "button"),
    ("callback_button.json", "quick_reply"),
    ("callback_selection.json", "callback"),
    ("edited_message.json", "image"),
]
SPLICE = "@@splice@@"
_senders = itertools.count(447800000000 + os.getpid() % 1000 * 1_000_000)

hostile_text = st.lists(
    st.one_of(
        st.characters(exclude_categories=()),  # surrogates included
        st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "[", "{", '"', "\\"]),
    ),
    max_size=12,
).map("".join)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | hostile_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)


def _representable(value):
    """Whether strict JSON (as the webhook parses it) can carry `value`."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return len(str(abs(value))) <= MAX_INT_DIGITS
    if isinstance(value, list):
        return all(map(_representable, value))
    if isinstance(value, dict):
        return all(map(_representable, value.values()))
    return True


# A fragment of raw JSON text to splice in, and whether a strict parser accepts it.
fragments = st.one_of(
    json_values.map(lambda v: (json.dumps(v).encode(), _representable(v))),
    st.sampled_from(
        [
            (b"NaN", False),
            (b"-Infinity", False),
            (b"1e400", False),
            (b"9" * 5000, False),
            (b"[" * 65 + b"]" * 65, False),
            (b"[" * 1000 + b"]" * 1000, False),
            (b"{" * 1000, False),
            (b'"' + b"\\u0000" * 50 + b'"', True),
            (b'"\\ud800\\udc00\\udc00"', True),
        ]
    ),
)


def _slots(node):
    """Every (container, key) inside `node`: the places a value can be replaced or added."""
    found = []
    stack = [node]
    while stack:
        container = stack.pop()
        keys = container.keys() if isinstance(container, dict) else range(len(container))
        for key in keys:
            found.append((container, key))
            if isinstance(container[key], dict | list):
                stack.append(container[key])
    return found


def _splice(payload, fragment):
    raw = json.dumps(payload).encode()
    assert raw.count(json.dumps(SPLICE).encode()) == 1
    return raw.replace(json.dumps(SPLICE).encode(), fragment)


def _batch(data, wa_id):
    """A body with three fixture messages from one sender, each with a unique id."""
    variants = data.draw(st.lists(st.sampled_from(MESSAGE_VARIANTS), min_size=3, max_size=3))
    payloads = [fresh_fixture(name, variant, wa_id=wa_id) for name, variant in variants]
    body = payloads[0]
    messages = body["entry"][0]["changes"][0]["value"]["messages"]
    for other in payloads[1:]:
        messages.extend(other["entry"][0]["changes"][0]["value"]["messages"])
    return body, messages


def _damage(data, body, container, key):
    """Replace the value at (container, key), add a hostile key beside it, or delete it.

    Returns the raw body and whether it is still strict JSON.
    """
    how = data.draw(st.sampled_from(["replace", "add_key", "delete"]))
    if how == "delete":
        del container[key]
        return json.dumps(body).encode(), True
    fragment, strict_json = data.draw(fragments)
    if how == "add_key" and isinstance(container, dict):
        container[data.draw(hostile_text)] = SPLICE
    else:
        container[key] = SPLICE
    return _splice(body, fragment), strict_json


@FUZZ
@given(data=st.data())
def test_a_damaged_message_never_gets_a_5xx_and_its_neighbours_are_stored(post_whatsapp, data):
    body, messages = _batch(data, str(next(_senders)))
    victim = data.draw(st.integers(0, len(messages) - 1))
    neighbours = [m["id"] for i, m in enumerate(messages) if i != victim]
    # the message itself may be replaced, or anything inside it
    slots = [(messages, victim), *_slots(messages[victim])]
    container, key = data.draw(st.sampled_from(slots))
    raw, strict_json = _damage(data, body, container, key)

    response = post_whatsapp(raw)

    SEEN[("whatsapp", response.status_code)] += 1
    assert response.status_code < 500, response.content
    if not strict_json:
        assert response.status_code == 400
        assert not Message.objects.filter(external_id__in=neighbours).exists()
        return
    assert response.status_code == 200, response.content
    answer = response.json()
    invalid = [i for i in answer.get("invalid", ()) if i["kind"] == "invalid_message"]
    assert len(answer["messages"]) + len(invalid) == len(messages)
    stored = Message.objects.filter(external_id__in=neighbours).exclude(status=MessageStatus.FAILED)
    assert sorted(stored.values_list("external_id", flat=True)) == sorted(neighbours)


@FUZZ
@given(data=st.data())
def test_damage_anywhere_in_a_real_body_never_gets_a_5xx(post_whatsapp, data):
    name, variant = data.draw(
        st.sampled_from(
            [
                *MESSAGE_VARIANTS,
                ("message_status.json", "failed"),
                ("message_status.json", "read"),
                ("user_marketing_preferences.json", "resume"),
                ("system.json", "phone_number_change"),
                ("system.json", "identity_change"),
            ]
        )
    )
    body = fresh_fixture(name, variant, wa_id=str(next(_senders)))
    container, key = data.draw(st.sampled_from(_slots(body)))
    raw, _ = _damage(data, body, container, key)

    response = post_whatsapp(raw)

    SEEN[("whatsapp-anywhere", response.status_code)] += 1
    assert response.status_code in (200, 400), response.content
    assert "received" in response.json()


TWILIO_TOKEN = "twilio-test-token"
TWILIO_URL = "https://leadbot.example.com/webhooks/twilio/"
form_text = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=("Cs",)), st.just("\x00")), max_size=40
)
_sids = itertools.count()


@FUZZ
@given(data=st.data())
def test_a_twilio_form_with_arbitrary_strings_never_gets_a_5xx(client, data):
    sid = f"SM{os.getpid()}x{next(_sids)}x{time.time_ns()}"
    form = {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": f"+{next(_senders)}",
        "To": "+447700900000",
        "Body": "Hi",
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME1",
        "MediaContentType0": "image/jpeg",
    }
    keys = [*form, "ButtonPayload", "ButtonText", "Latitude", "Longitude", "Label", "ProfileName"]
    for key in data.draw(st.lists(st.sampled_from(keys), unique=True, max_size=5)):
        form[key] = data.draw(form_text)
    for _ in range(data.draw(st.integers(0, 2))):
        form[data.draw(form_text)] = data.draw(form_text)
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, form)

    # Per example, not pytest-django's `settings`: each of its assignments nests one more
    # override, and after some 900 examples the settings lookup overflows the stack.
    with override_settings(
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN, TWILIO_WEBHOOK_BASE_URL="https://leadbot.example.com"
    ):
        response = client.post(
            "/webhooks/twilio/",
            urlencode(form),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE=signature,
        )

    SEEN[("twilio", response.status_code)] += 1
    assert response.status_code < 500, response.content
    sender = clean_text(form.get("From", ""))
    if form.get("MessageSid") == sid and 0 < len(sender) <= 64:
        assert response.status_code == 200
        assert Message.objects.filter(external_id=sid).exists()


@pytest.fixture(scope="module", autouse=True)
def report_statuses():
    yield
    if SEEN:
        print(f"\nfuzz examples={EXAMPLES} statuses seen: {dict(sorted(SEEN.items()))}")


# -- Stripe: a signed event whose fields hold anything -------------------------------------

STRIPE_EVENT_FIELDS = [
    ("id",),
    ("type",),
    ("created",),
    ("data",),
    ("data", "object"),
    ("data", "object", "id"),
    ("data", "object", "payment_status"),
    ("data", "object", "client_reference_id"),
    ("data", "object", "metadata"),
    ("data", "object", "metadata", "lead_id"),
    ("data", "object", "amount_total"),
    ("data", "object", "expires_at"),
]
_stripe_events = itertools.count(1)


def stripe_event():
    """A real-shaped checkout.session.completed event, a fresh event id each time."""
    n = next(_stripe_events)
    return {
        "id": f"evt_fuzz_{os.getpid()}_{n}",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": f"cs_test_fuzz_{n}",
                "object": "checkout.session",
                "payment_status": "paid",
                "status": "complete",
                "client_reference_id": str(n),
                "metadata": {"lead_id": str(n), "attempt": "1"},
                "amount_total": 15000,
                "currency": "gbp",
                "expires_at": int(time.time()) + 3600,
            }
        },
    }


@FUZZ
@given(field=st.sampled_from(STRIPE_EVENT_FIELDS), fragment=fragments)
def test_a_signed_stripe_event_with_anything_in_any_field_is_never_a_5xx(client, field, fragment):
    from bookings.tests.stripe_fake import WEBHOOK_SECRET, signed

    event = stripe_event()
    *path, last = field
    target = event
    for key in path:
        target = target[key]
    target[last] = SPLICE
    raw, header = signed(_splice(event, fragment[0]), WEBHOOK_SECRET)
    with override_settings(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET):
        response = client.post(
            "/webhooks/stripe/", raw, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
    SEEN[("stripe", response.status_code)] += 1
    assert response.status_code < 500, response.content
