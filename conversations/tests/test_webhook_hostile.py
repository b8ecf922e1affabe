"""Correctly signed but hostile WhatsApp bodies: never a 500, nothing lost (issue 7, 4-6).

Each test is a repro from the drills, posted through the real signed view.
"""

import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.models import Lead, Message, MessageStatus, WebhookEvent
from conversations.tests.conftest import fresh_fixture, text_payload

pytestmark = pytest.mark.django_db


def _value(payload):
    return payload["entry"][0]["changes"][0]["value"]


def _message(payload):
    return _value(payload)["messages"][0]


def batch_of(*payloads):
    """One body carrying the messages of several single-message payloads, in order."""
    first = payloads[0]
    for other in payloads[1:]:
        _value(first)["messages"].extend(_value(other)["messages"])
    return first


# -- NUL characters (PostgreSQL stores none: DataError) ------------------------------------


@pytest.mark.parametrize(
    ("variant", "damage", "stored"),
    [
        ("text", lambda m: m.update(id="wamid.\x00nul"), lambda m: m.external_id == "wamid.nul"),
        (
            "text",
            lambda m: m.update({"from": "4477009\x0000500"}),
            lambda m: m.client.address == "447700900500",
        ),
        (
            "text",
            lambda m: m.update(from_user_id="US.\x001"),
            lambda m: m.client.business_user_id == "US.1",
        ),
        (
            "text",
            lambda m: m.update(context={"id": "wamid.\x00ctx"}),
            lambda m: m.payload["context_id"] == "wamid.ctx",
        ),
        (
            "image",
            lambda m: m["image"].update(id="6546\x003453", mime_type="image/\x00jpeg"),
            lambda m: m.payload["media"][0]["media_id"] == "65463453",
        ),
        (
            "reaction",
            lambda m: m["reaction"].update(message_id="wamid.\x00r", emoji="\x00😮"),
            lambda m: (m.body, m.payload["context_id"]) == ("😮", "wamid.r"),
        ),
        (
            "text",
            lambda m: m.update({"unknown\x00key": {"deep\x00er": ["\x00"]}}),
            lambda m: m.payload["raw"]["unknownkey"] == {"deeper": [""]},
        ),
    ],
    ids=["id", "from", "from_user_id", "context.id", "media", "reaction", "unknown_key"],
)
def test_a_nul_anywhere_in_a_message_is_dropped_and_the_message_stored(
    post_whatsapp, variant, damage, stored
):
    payload = fresh_fixture("message.json", variant)
    damage(_message(payload))

    response = post_whatsapp(payload)

    assert response.status_code == 200
    message = Message.objects.inbound().get()
    assert message.status != MessageStatus.FAILED
    assert stored(message)


def test_a_nul_in_a_receipt_error_and_an_unknown_value_key_is_dropped(post_whatsapp):
    payload = fresh_fixture("message_status.json", "failed")
    _value(payload)["statuses"][0]["errors"][0]["title"] = "part of an\x00 experiment"
    _value(payload)["odd\x00key"] = "x\x00"

    assert post_whatsapp(payload).status_code == 200

    receipt = WebhookEvent.objects.get(kind="status")
    assert receipt.payload["errors"][0]["title"] == "part of an experiment"
    other = WebhookEvent.objects.exclude(kind="status").get()
    assert other.payload["value"]["oddkey"] == "x"


# -- lone surrogates (cannot be encoded as UTF-8 for PostgreSQL) ---------------------------


def test_a_lone_surrogate_becomes_a_replacement_character(post_whatsapp):
    payload = text_payload("x\ud800y")
    _message(payload)["extra"] = {"k\udfff": "\ud83d"}
    raw = json.dumps(payload).encode()  # Meta's escaped form: "x\ud800y"
    assert b"\\ud800" in raw

    response = post_whatsapp(raw)

    assert response.status_code == 200
    message = Message.objects.inbound().get()
    assert message.body == "x\ufffdy"
    assert message.payload["raw"]["extra"] == {"k\ufffd": "\ufffd"}


def test_a_surrogate_pair_is_kept_as_the_character_it_encodes(post_whatsapp):
    raw = json.dumps(text_payload("a rose \U0001f339")).encode()
    assert post_whatsapp(raw).status_code == 200
    assert Message.objects.inbound().get().body == "a rose \U0001f339"


# -- numbers JSON does not have ---------------------------------------------------------------


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400"])
def test_nan_infinity_or_an_overflowing_number_anywhere_is_400_with_a_reason(post_whatsapp, number):
    raw = json.dumps(text_payload("hi")).encode().replace(b'"text"}', b'"text", "n": N}', 1)
    raw = raw.replace(b"N}", number + b"}", 1)

    response = post_whatsapp(raw)

    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]
    assert not Message.objects.exists()


def test_an_integer_of_thousands_of_digits_is_400_with_a_reason(post_whatsapp):
    raw = json.dumps(text_payload("hi")).encode().replace(b'"text"}', b'"text", "n": N}', 1)
    raw = raw.replace(b"N}", b"9" * 5000 + b"}", 1)

    response = post_whatsapp(raw)

    assert response.status_code == 400
    assert "digits" in response.json()["error"]


# -- nesting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [65, 500, 950, 100_000])
def test_a_body_nested_too_deep_is_400_before_it_is_parsed(post_whatsapp, depth):
    raw = json.dumps(text_payload("hi")).encode()
    raw = raw.replace(b'"type": "text"', b'"type": "text", "deep": ' + b"[" * depth + b"]" * depth)

    response = post_whatsapp(raw)

    assert response.status_code == 400
    assert "nested deeper than 64" in response.json()["error"]
    assert not Message.objects.exists()


def test_a_body_that_only_opens_too_deep_is_400_too(post_whatsapp):
    # Unclosed, so not JSON either: the depth is what it is refused for, before parsing.
    response = post_whatsapp(b'{"entry": ' + b"[" * 64)

    assert response.status_code == 400
    assert "nested deeper than 64" in response.json()["error"]


def test_brackets_inside_strings_do_not_count_as_nesting(post_whatsapp):
    response = post_whatsapp(text_payload("[" * 1000 + '\\"{' * 100))
    assert response.status_code == 200
    assert Message.objects.inbound().get().body.startswith("[[[")


# -- wrong types: the message is kept as failed, its neighbours go on ------------------------


def test_a_batch_of_good_bad_good_stores_both_goods_and_the_bad_one_as_failed(post_whatsapp):
    first = text_payload("Hi", message_id="wamid.good1")
    bad = text_payload("x", message_id="wamid.bad")
    _message(bad)["text"] = {"body": ["not", "a", "string"]}
    second = text_payload("A rose", message_id="wamid.good2", timestamp=time.time() + 1)
    payload = batch_of(first, bad, second)

    response = post_whatsapp(payload)

    assert response.status_code == 200
    outcomes = dict(zip(response.json()["messages"], response.json()["outcomes"], strict=True))
    assert outcomes == {
        "wamid.good1": "processed",
        "wamid.bad": "failed",
        "wamid.good2": "processed",
    }
    failed = Message.objects.get(external_id="wamid.bad")
    assert failed.status == MessageStatus.FAILED
    assert "text.body must be a string, got list" in failed.last_error
    assert failed.payload["raw"]["text"] == {"body": ["not", "a", "string"]}
    goods = Message.objects.filter(external_id__in=["wamid.good1", "wamid.good2"])
    assert set(goods.values_list("status", flat=True)) == {MessageStatus.PROCESSED}


def test_the_redelivered_good_bad_good_batch_is_200_and_all_duplicates(post_whatsapp):
    bad = text_payload("x", message_id="wamid.bad")
    _message(bad)["text"] = {"body": ["not", "a", "string"]}
    payload = batch_of(text_payload("Hi", message_id="wamid.good1"), bad)
    post_whatsapp(payload)
    before = Message.objects.count()

    response = post_whatsapp(payload)

    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert Message.objects.count() == before


def test_a_status_given_as_a_list_is_kept_as_invalid_and_its_neighbour_applied(post_whatsapp):
    payload = fresh_fixture("message_status.json", "read")
    statuses = _value(payload)["statuses"]
    statuses.insert(0, {**statuses[0], "id": "wamid.other", "status": ["read"]})

    response = post_whatsapp(payload)

    assert response.status_code == 200
    assert response.json()["invalid"][0]["kind"] == "invalid_status"
    assert WebhookEvent.objects.filter(kind="status").count() == 1
    assert WebhookEvent.objects.get(kind="invalid_status").payload["value"]["status"]["status"] == [
        "read"
    ]


def test_a_receipt_id_longer_than_the_column_is_kept_as_invalid(post_whatsapp):
    payload = fresh_fixture("message_status.json", "read")
    _value(payload)["statuses"][0]["id"] = "wamid." + "x" * 300

    response = post_whatsapp(payload)

    assert response.status_code == 200
    assert not WebhookEvent.objects.filter(kind="status").exists()
    assert "receipt id longer" in WebhookEvent.objects.get(kind="invalid_status").payload["reason"]


def test_contacts_given_as_a_number_still_stores_the_message_and_keeps_the_contacts(
    post_whatsapp,
):
    payload = text_payload("Hi")
    _value(payload)["contacts"] = 7

    response = post_whatsapp(payload)

    assert response.json()["outcomes"] == ["processed"]
    assert WebhookEvent.objects.get().payload["value"]["contacts"] == 7


def test_phones_given_as_a_number_in_a_contact_card_stores_the_message_as_failed(post_whatsapp):
    payload = fresh_fixture("message.json", "contacts")
    _message(payload)["contacts"][0]["phones"] = 5

    response = post_whatsapp(payload)

    assert response.json()["outcomes"] == ["failed"]
    assert "phones must be a list" in Message.objects.inbound().get().last_error


def test_a_reply_id_longer_than_the_column_stores_the_message_as_failed(post_whatsapp):
    payload = fresh_fixture("callback_button.json", "button")
    _message(payload)["interactive"]["button_reply"]["id"] = "p" * 300

    response = post_whatsapp(payload)

    assert response.json()["outcomes"] == ["failed"]
    assert "reply id longer than 256" in Message.objects.inbound().get().last_error


# -- timestamps ------------------------------------------------------------------------------


def test_a_year_5138_timestamp_is_clamped_and_the_next_message_is_answered(post_whatsapp):
    future = text_payload("Hi", message_id="wamid.future")
    _message(future)["timestamp"] = "99999999999"
    before = timezone.now().replace(microsecond=0)
    post_whatsapp(future)
    stored = Message.objects.get(external_id="wamid.future")

    response = post_whatsapp(text_payload("A fine-line rose", message_id="wamid.next"))

    assert before <= stored.provider_timestamp <= timezone.now()
    assert stored.payload["raw"]["timestamp"] == "99999999999"
    assert response.json()["outcomes"] == ["processed"]
    assert Lead.objects.get().answers.get(question_key="idea").text == "A fine-line rose"


def test_a_year_1_timestamp_is_clamped_and_its_admin_page_opens(post_whatsapp, admin_client):
    ancient = text_payload("Hi", message_id="wamid.ancient")
    _message(ancient)["timestamp"] = -62135596800
    post_whatsapp(ancient)
    stored = Message.objects.get(external_id="wamid.ancient")

    page = admin_client.get(reverse("admin:conversations_message_change", args=[stored.pk]))
    listing = admin_client.get(reverse("admin:conversations_message_changelist"))

    assert timezone.now() - stored.provider_timestamp < timedelta(minutes=1)
    assert stored.payload["raw"]["timestamp"] == -62135596800
    assert (page.status_code, listing.status_code) == (200, 200)


# -- batch size ------------------------------------------------------------------------------


def test_a_batch_over_the_default_limit_of_100_is_413_and_stores_nothing(post_whatsapp):
    payload = batch_of(*[text_payload(f"m{i}") for i in range(101)])

    response = post_whatsapp(payload)

    assert response.status_code == 413
    assert "at most 100" in response.json()["error"]
    assert not Message.objects.exists()


def test_a_batch_at_the_limit_is_processed(post_whatsapp, settings):
    settings.WEBHOOK_MAX_BATCH_MESSAGES = 3
    payload = batch_of(*[text_payload(f"m{i}") for i in range(3)])
    assert post_whatsapp(payload).status_code == 200
    assert Message.objects.inbound().count() == 3


def test_receipts_count_towards_the_batch_limit(post_whatsapp, settings):
    settings.WEBHOOK_MAX_BATCH_MESSAGES = 3
    payload = fresh_fixture("message_status.json", "read")
    _value(payload)["statuses"] *= 4
    assert post_whatsapp(payload).status_code == 413


def test_a_redelivery_after_a_half_processed_batch_finishes_the_rest(post_whatsapp):
    messages = [text_payload(f"m{i}", message_id=f"wamid.m{i}") for i in range(3)]
    # A worker killed after committing the first two: each message committed on its own.
    post_whatsapp(batch_of(*json.loads(json.dumps(messages[:2]))))

    response = post_whatsapp(batch_of(*messages))

    assert response.json()["outcomes"] == ["duplicate", "duplicate", "processed"]
    assert Message.objects.inbound().count() == 3
