"""The WhatsApp webhook: Meta's verification, signatures, payload errors and exactly-once."""

import json
import time

import pytest

from conversations.models import Client, Lead, Message, MessageStatus, Status, WebhookEvent
from conversations.tests.conftest import sign_body, text_payload, whatsapp_fixture

pytestmark = pytest.mark.django_db

# An hour ago: recent enough that the provider's timestamp is believed (not clamped).
RECENT = int(time.time()) - 3600


def test_meta_verification_echoes_the_challenge(client, settings):
    response = client.get(
        "/webhooks/whatsapp/",
        {
            "hub.mode": "subscribe",
            "hub.verify_token": settings.WHATSAPP_VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "local-verify-token", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
)
def test_meta_verification_with_a_wrong_token_or_mode_is_403(client, params):
    assert client.get("/webhooks/whatsapp/", params).status_code == 403


def test_a_valid_signature_over_emoji_and_non_latin_text_is_accepted(post_whatsapp):
    payload = text_payload("Привет 👋 une rose à l'épaule, 日本")
    response = post_whatsapp(json.dumps(payload).encode())  # Meta's escaped form
    assert response.status_code == 200
    message = Message.objects.inbound().get()
    assert message.body == "Привет 👋 une rose à l'épaule, 日本"


def test_the_unescaped_utf8_form_is_verified_over_its_own_bytes(post_whatsapp):
    raw = json.dumps(text_payload("café ☕ 東京"), ensure_ascii=False).encode()
    assert post_whatsapp(raw).status_code == 200


def test_one_byte_changed_after_signing_is_403(post_whatsapp):
    raw = json.dumps(text_payload("a small rose")).encode()
    signature = sign_body(raw)
    tampered = raw.replace(b"small", b"smalL")
    response = post_whatsapp(tampered, signature=signature)
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_a_missing_signature_is_401(post_whatsapp):
    response = post_whatsapp(text_payload("hello"), signature=False)
    assert response.status_code == 401
    assert not Message.objects.exists()


def test_a_body_that_is_not_json_is_400(post_whatsapp):
    response = post_whatsapp(b"this is not json")
    assert response.status_code == 400
    assert response.json()["error"] == "body is not JSON"


def test_a_body_over_one_mebibyte_is_413(post_whatsapp):
    raw = b'{"object": "whatsapp_business_account", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert post_whatsapp(raw).status_code == 413


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": 3}]}]},
    ],
)
def test_a_wrong_shape_is_400_with_a_reason(post_whatsapp, payload):
    response = post_whatsapp(payload)
    assert response.status_code == 400
    assert response.json()["error"]


def test_a_message_without_an_id_is_kept_as_an_invalid_event_and_answered_200(post_whatsapp):
    payload = text_payload("hi")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    response = post_whatsapp(payload)
    assert response.status_code == 200
    assert response.json()["invalid"] == [
        {"kind": "invalid_message", "reason": "entry[0].changes[0].value.messages[0].id is missing"}
    ]
    assert not Message.objects.exists()
    event = WebhookEvent.objects.get(kind="invalid_message")
    assert event.payload["value"]["message"]["text"] == {"body": "hi"}


def test_a_get_with_other_methods_is_405(client):
    assert client.put("/webhooks/whatsapp/").status_code == 405


def test_the_first_message_creates_a_client_a_lead_and_a_reply(post_whatsapp):
    response = post_whatsapp(text_payload("Hi! I'd like a tattoo", wa_id="447700900111"))
    assert response.status_code == 200
    assert response.json()["received"] is True
    client = Client.objects.get(address="447700900111")
    assert client.display_name == "Sam"
    lead = Lead.objects.get(client=client)
    assert lead.status == Status.QUALIFYING
    inbound = Message.objects.inbound().get()
    assert (inbound.lead, inbound.status) == (lead, MessageStatus.PROCESSED)
    assert Message.objects.outbound().filter(lead=lead).exists()


def test_a_redelivered_message_is_a_duplicate_and_changes_nothing(post_whatsapp):
    payload = text_payload("Hi! I'd like a tattoo")
    post_whatsapp(payload)
    before = (Message.objects.count(), Lead.objects.get().current_step)

    response = post_whatsapp(payload)

    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert (Message.objects.count(), Lead.objects.get().current_step) == before


def test_a_batch_is_processed_oldest_first(post_whatsapp):
    newer = text_payload("second", message_id="wamid.b", timestamp=RECENT + 100)
    older = text_payload("first", message_id="wamid.a", timestamp=RECENT)
    newer["entry"][0]["changes"][0]["value"]["messages"].append(
        older["entry"][0]["changes"][0]["value"]["messages"][0]
    )
    response = post_whatsapp(newer)
    assert response.json()["messages"] == ["wamid.a", "wamid.b"]
    bodies = list(Message.objects.inbound().order_by("id").values_list("body", flat=True))
    assert bodies == ["first", "second"]


def test_a_message_older_than_the_last_processed_is_stored_but_not_answered(post_whatsapp):
    post_whatsapp(text_payload("hello", message_id="wamid.new", timestamp=RECENT + 100))
    outbound_before = Message.objects.outbound().count()

    response = post_whatsapp(text_payload("late", message_id="wamid.old", timestamp=RECENT))

    assert response.json()["out_of_order"] == ["wamid.old"]
    late = Message.objects.get(external_id="wamid.old")
    assert late.status == MessageStatus.IGNORED
    assert late.lead == Lead.objects.get()
    assert Message.objects.outbound().count() == outbound_before


def test_two_messages_in_the_same_second_are_both_processed(post_whatsapp):
    post_whatsapp(text_payload("hello", message_id="wamid.1", timestamp=RECENT))
    post_whatsapp(text_payload("a rose", message_id="wamid.2", timestamp=RECENT))
    statuses = set(Message.objects.inbound().values_list("status", flat=True))
    assert statuses == {MessageStatus.PROCESSED}


@pytest.mark.parametrize(
    ("filename", "variant"),
    [
        ("message.json", "image"),
        ("message.json", "current_location"),
        ("message.json", "reaction"),
        ("message.json", "unsupported"),
        ("callback_button.json", "button"),
        ("callback_selection.json", "callback"),
        ("callback_button.json", "quick_reply"),
    ],
)
def test_every_message_type_is_stored_and_answered_200(post_whatsapp, filename, variant):
    response = post_whatsapp(whatsapp_fixture(filename, variant))
    assert response.status_code == 200
    assert Message.objects.inbound().count() == 1


def test_a_delivery_receipt_moves_the_outbound_message_forward_once(post_whatsapp):
    post_whatsapp(text_payload("Hi", wa_id="972987654321"))
    reply = Message.objects.outbound().first()
    Message.objects.filter(pk=reply.pk).update(status=MessageStatus.SENT, external_id="wamid.out1")
    receipt = whatsapp_fixture("message_status.json", "read")
    status = receipt["entry"][0]["changes"][0]["value"]["statuses"][0]
    status["id"] = "wamid.out1"

    assert post_whatsapp(receipt).status_code == 200
    assert post_whatsapp(receipt).status_code == 200

    reply.refresh_from_db()
    assert reply.status == MessageStatus.READ
    assert WebhookEvent.objects.filter(subject="wamid.out1").count() == 1


def test_a_late_delivered_receipt_does_not_move_a_read_message_back(post_whatsapp):
    post_whatsapp(text_payload("Hi", wa_id="972987654321"))
    reply = Message.objects.outbound().first()
    Message.objects.filter(pk=reply.pk).update(status=MessageStatus.SENT, external_id="wamid.out2")
    for variant in ["read", "delivered"]:
        receipt = whatsapp_fixture("message_status.json", variant)
        receipt["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = "wamid.out2"
        post_whatsapp(receipt)
    reply.refresh_from_db()
    assert reply.status == MessageStatus.READ


def test_a_stop_that_arrives_late_is_still_honoured(post_whatsapp):
    post_whatsapp(text_payload("Hi", message_id="wamid.hi", timestamp=RECENT))
    post_whatsapp(text_payload("hello?", message_id="wamid.later", timestamp=RECENT + 200))

    post_whatsapp(text_payload("STOP", message_id="wamid.stop", timestamp=RECENT + 100))

    assert Lead.objects.get().status == Status.OPTOUT
    assert Client.objects.get().opted_out_at is not None


def test_a_marketing_preference_is_kept_once_and_changes_no_client(post_whatsapp):
    payload = whatsapp_fixture("user_marketing_preferences.json", "resume")
    assert post_whatsapp(payload).status_code == 200
    assert post_whatsapp(payload).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.kind == "user_preferences"
    assert event.payload["value"]["user_preferences"][0]["value"] == "resume"
    assert not Client.objects.exists()


def test_a_nul_character_in_a_message_is_dropped_not_a_500(post_whatsapp):
    response = post_whatsapp(text_payload("a rose\u0000 on my arm"))
    assert response.status_code == 200
    assert Message.objects.inbound().get().body == "a rose on my arm"


def test_a_sender_id_too_long_to_store_is_kept_as_an_invalid_event(post_whatsapp):
    response = post_whatsapp(text_payload("hi", wa_id="4" * 65))
    assert response.status_code == 200
    assert response.json()["outcomes"] == ["invalid"]
    assert not Message.objects.exists()
    assert WebhookEvent.objects.get(kind="invalid_message").payload["reason"].startswith("sender")


def test_a_message_id_too_long_to_store_does_not_hold_back_its_neighbour(post_whatsapp):
    good = text_payload("first", message_id="wamid.good", timestamp=RECENT)
    bad = text_payload("second", message_id="x" * 200, timestamp=RECENT + 1)
    good["entry"][0]["changes"][0]["value"]["messages"].append(
        bad["entry"][0]["changes"][0]["value"]["messages"][0]
    )
    response = post_whatsapp(good)
    assert response.status_code == 200
    assert response.json()["outcomes"] == ["processed", "invalid"]
    assert Message.objects.inbound().get().external_id == "wamid.good"
    assert WebhookEvent.objects.filter(kind="invalid_message").count() == 1


def test_a_reaction_does_not_make_an_earlier_answer_out_of_order(post_whatsapp):
    post_whatsapp(text_payload("Hi", message_id="wamid.hi", timestamp=RECENT))
    reaction = whatsapp_fixture("message.json", "reaction")
    message = reaction["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update({"from": "447700900500", "id": "wamid.react", "timestamp": str(RECENT + 300)})
    post_whatsapp(reaction)

    response = post_whatsapp(
        text_payload("A rose", message_id="wamid.rose", timestamp=RECENT + 100)
    )

    assert response.json()["outcomes"] == ["processed"]


def test_the_artist_writing_to_the_bot_starts_no_consultation(post_whatsapp, settings):
    settings.ARTIST_PHONE = "+447700900000"
    response = post_whatsapp(text_payload("testing my bot", wa_id="447700900000"))
    assert response.json()["outcomes"] == ["from_artist"]
    assert not Lead.objects.exists()
    assert Message.objects.inbound().get().status == MessageStatus.IGNORED
