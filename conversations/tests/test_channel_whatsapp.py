"""WhatsApp Cloud API boundary: signatures, real webhook payloads and the send client."""

import copy
import hashlib
import hmac
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug import Response

from conversations.channels.base import (
    InboundMessage,
    MessageKind,
    OutsideWindowError,
    PayloadError,
    PermanentSendError,
    SignatureInvalid,
    SignatureMissing,
    TransientSendError,
    normalise_address,
)
from conversations.channels.whatsapp import (
    MAX_TEXT,
    WhatsAppClient,
    parse_payload,
    sign,
    split_text,
    verify_signature,
)
from conversations.tests.conftest import FIXTURES

SECRET = "test-app-secret"
TOKEN = "test-access-token"
PHONE_ID = "106540352242922"


def _variants() -> list[tuple[str, str]]:
    return [
        (path.stem, name)
        for path in sorted(FIXTURES.glob("*.json"))
        for name in json.loads(path.read_text())
    ]


def fixture(file: str, variant: str) -> dict:
    return json.loads((FIXTURES / f"{file}.json").read_text())[variant]


def only_message(file: str, variant: str) -> InboundMessage:
    batch = parse_payload(fixture(file, variant))
    assert len(batch.messages) == 1
    return batch.messages[0]


def message_payload(*messages: dict, contacts: list | None = None) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_ID},
        "messages": list(messages),
    }
    if contacts is not None:
        value["contacts"] = contacts
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def text_message(mid: str, ts: str, body: str = "hi", sender: str = "447700900123") -> dict:
    return {"from": sender, "id": mid, "timestamp": ts, "type": "text", "text": {"body": body}}


SENT_TEXT = datetime(2023, 10, 11, 16, 53, 43, tzinfo=UTC)  # fixtures/whatsapp message.json
MINUTE = timedelta(minutes=1)


# --- signature ------------------------------------------------------------------------------

UNICODE_PAYLOAD = message_payload(text_message("wamid.U", "1700000000", "Привет 👋 café 日本"))


@pytest.mark.parametrize("ensure_ascii", [True, False], ids=["escaped", "utf8"])
def test_signature_over_raw_bytes_passes(ensure_ascii):
    raw = json.dumps(UNICODE_PAYLOAD, ensure_ascii=ensure_ascii).encode("utf-8")
    header = sign(raw, SECRET)
    assert header == "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    verify_signature(raw, header, SECRET)
    assert parse_payload(json.loads(raw)).messages[0].body == "Привет 👋 café 日本"


def test_signature_is_checked_on_the_bytes_as_sent_not_a_reserialisation():
    escaped = json.dumps(UNICODE_PAYLOAD, ensure_ascii=True).encode()
    utf8 = json.dumps(UNICODE_PAYLOAD, ensure_ascii=False).encode()
    assert escaped != utf8 and json.loads(escaped) == json.loads(utf8)
    with pytest.raises(SignatureInvalid):
        verify_signature(utf8, sign(escaped, SECRET), SECRET)


def test_signature_accepts_uppercase_hex_and_surrounding_space():
    raw = b'{"object":"whatsapp_business_account","entry":[]}'
    digest = sign(raw, SECRET).removeprefix("sha256=")
    verify_signature(raw, f"  sha256={digest.upper()} ", SECRET)


def test_one_changed_byte_fails():
    raw = bytearray(json.dumps(UNICODE_PAYLOAD).encode())
    header = sign(bytes(raw), SECRET)
    raw[len(raw) // 2] ^= 0x01
    with pytest.raises(SignatureInvalid):
        verify_signature(bytes(raw), header, SECRET)


def test_wrong_secret_fails():
    raw = b"{}"
    with pytest.raises(SignatureInvalid):
        verify_signature(raw, sign(raw, "another-secret"), SECRET)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_signature(header):
    with pytest.raises(SignatureMissing):
        verify_signature(b"{}", header, SECRET)


@pytest.mark.parametrize(
    "header",
    [
        "sha1=" + hashlib.sha1(b"{}").hexdigest(),
        "garbage",
        "sha256=",
        "sha256=abc",
        "sha256=" + "zz" * 32,
        "sha256=" + "ab" * 33,
        "SHA256=" + "ab" * 32,
        "sha256=" + "é" * 64,
    ],
)
def test_malformed_signature_is_invalid(header):
    with pytest.raises(SignatureInvalid):
        verify_signature(b"{}", header, SECRET)


def test_empty_app_secret_is_a_configuration_error():
    with pytest.raises(ValueError):
        verify_signature(b"{}", sign(b"{}", ""), "")


# --- parsing: every real fixture ----------------------------------------------------------


def test_fixtures_are_present():
    assert len(_variants()) >= 40, f"expected the WhatsApp fixtures under {FIXTURES}"


@pytest.mark.parametrize(("file", "variant"), _variants())
def test_every_fixture_variant_parses(file, variant):
    body = fixture(file, variant)
    raw = json.dumps(body).encode()
    verify_signature(raw, sign(raw, SECRET), SECRET)
    batch = parse_payload(json.loads(raw))
    assert batch.messages or batch.statuses or batch.other
    for message in batch.messages:
        assert message.channel == "whatsapp"
        assert isinstance(message.kind, MessageKind)
        assert message.external_id and message.address
        assert message.timestamp.tzinfo is UTC
        assert isinstance(message.body, str)
        assert message.raw["id"] == message.external_id
    for status in batch.statuses:
        assert status.status in {"sent", "delivered", "read", "failed"}
        assert status.timestamp.tzinfo is UTC


def test_text():
    (msg,) = parse_payload(fixture("message", "text"), received_at=SENT_TEXT + MINUTE).messages
    assert (msg.kind, msg.body, msg.address) == ("text", "Body Text", "972987654321")
    assert msg.external_id == "wamid.xyzxyz"
    assert msg.timestamp == SENT_TEXT
    assert (msg.reply_id, msg.media, msg.location, msg.context_id) == ("", (), None, "")


def test_contacts_profile_name_and_business_user_id():
    msg = only_message("message", "text")
    assert msg.profile_name == "Test Name"
    assert msg.business_user_id == "US.13491208655302741918"


def test_interactive_button_reply_keys_on_the_id():
    msg = only_message("callback_button", "button")
    assert (msg.kind, msg.reply_id, msg.body) == ("interactive", "callback_data", "title")
    assert msg.context_id == "wamid.xyzxyz"


@pytest.mark.parametrize("variant", ["callback", "description"])
def test_interactive_list_reply(variant):
    msg = only_message("callback_selection", variant)
    assert (msg.kind, msg.reply_id, msg.body) == ("interactive", "callback_data", "title")


@pytest.mark.parametrize("variant", ["quick_reply", "quick_reply_without_context"])
def test_template_quick_reply_button(variant):
    msg = only_message("callback_button", variant)
    assert (msg.kind, msg.reply_id, msg.body) == ("button", "callback_data", "title")


def test_quick_reply_without_context_uses_from_user_id():
    msg = only_message("callback_button", "quick_reply_without_context")
    assert msg.context_id == ""
    assert msg.business_user_id == "US.13491208655302741918"


@pytest.mark.parametrize(
    ("variant", "kind", "caption", "filename"),
    [
        ("image", "image", "", ""),
        ("video", "video", "caption", ""),
        ("document", "document", "caption", "filename.pdf"),
        ("audio", "audio", "", ""),
        ("voice", "audio", "", ""),
        ("static_sticker", "sticker", "", ""),
    ],
)
def test_media_with_caption(variant, kind, caption, filename):
    msg = only_message("message", variant)
    assert msg.kind == kind and msg.body == caption
    (media,) = msg.media
    assert (media.kind, media.caption, media.filename) == (kind, caption, filename)
    assert media.media_id and media.mime_type


def test_media_url_when_present():
    (media,) = only_message("message", "media_with_url").media
    assert media.url.startswith("https://lookaside.fbsbx.com/")
    assert (media.media_id, media.mime_type) == ("65463453", "image/jpeg")


def test_chosen_location():
    msg = only_message("message", "chosen_location")
    assert msg.kind == "location"
    assert msg.body == "Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025 (37.4611978, -122.2164385)"
    assert msg.location["latitude"] == 37.4611978
    assert msg.location["name"] == "Facebook HQ"


def test_current_location_without_name():
    msg = only_message("message", "current_location")
    assert msg.body == "(12.25089, 43.90539)"


def test_reaction_points_at_the_message():
    msg = only_message("message", "reaction")
    assert (msg.kind, msg.body, msg.context_id) == ("reaction", "😮", "wamid.yzxyzx=")


@pytest.mark.parametrize("variant", ["unreaction_empty", "unreaction_no_emoji"])
def test_unreaction(variant):
    msg = only_message("message", variant)
    assert (msg.kind, msg.body) == ("reaction", "")


@pytest.mark.parametrize("variant", ["unsupported", "unsupported_with_type"])
def test_unsupported(variant):
    msg = only_message("message", variant)
    assert (msg.kind, msg.body) == ("unsupported", "")
    assert msg.raw["errors"][0]["code"] == 131051


def test_contacts_card():
    msg = only_message("message", "contacts")
    assert msg.kind == "contacts"
    assert msg.body.startswith("Chandler Bing (+1 555-555-5555); Monica (+1 666-666-6666)")


def test_order():
    assert only_message("message", "order").kind == "order"


# --- addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("447700900123", "447700900123"),
        ("+447700900123", "447700900123"),
        ("+44 7700 900-123", "447700900123"),
        (" (+44) 7700.900123 ", "447700900123"),
        # not phone numbers: a business-scoped id and a Twilio WhatsApp address stay as given
        ("US.13491208655302741918", "US.13491208655302741918"),
        ("whatsapp:+447700900123", "whatsapp:+447700900123"),
        ("", ""),
    ],
)
def test_normalise_address(given, normalised):
    assert normalise_address(given) == normalised
    assert normalise_address(normalised) == normalised


def test_the_sender_is_parsed_into_a_normalised_address():
    batch = parse_payload(message_payload(text_message("wamid.P", "1700000000", sender="+4477")))
    assert batch.messages[0].address == "4477"


def test_a_receipts_recipient_is_normalised_like_a_sender():
    payload = fixture("message_status", "delivered")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["recipient_id"] = "+16315551234"
    assert parse_payload(payload).statuses[0].recipient == "16315551234"


def test_reply_and_forwarded_context():
    assert only_message("message", "reply").context_id == "wamid.xyzxyz=="
    forwarded = only_message("message", "forwarded")
    assert forwarded.context_id == "" and forwarded.raw["context"]["forwarded"] is True


def test_referral_keeps_the_text():
    msg = only_message("message", "referral")
    assert (msg.kind, msg.body) == ("text", "BODY")
    assert msg.raw["referral"]["source_id"] == "ADID"


def test_system_message():
    msg = only_message("system", "phone_number_change")
    assert msg.kind == "system"
    assert msg.body == "User A changed from 972987654321 to 972912345678"
    assert msg.profile_name == ""  # this payload carries no contacts


def test_interactive_without_content_is_unknown_and_value_errors_go_to_other():
    batch = parse_payload(fixture("message", "interactive_message_with_err"))
    assert batch.messages[0].kind == "unknown"
    assert batch.other[0]["value"]["errors"][0]["code"] == 131000


def test_edit_and_revoke_are_unknown_but_point_at_the_original():
    edit = only_message("edited_message", "image")
    assert edit.kind == "unknown"
    assert edit.context_id.startswith("wamid.HBgLMTQxMjU1")
    assert only_message("deleted_message", "revoke").kind == "unknown"


def test_unknown_type_is_not_an_error():
    payload = message_payload(
        {"from": "1", "id": "wamid.X", "timestamp": "1700000000", "type": "hologram"}
    )
    (msg,) = parse_payload(payload).messages
    assert (msg.kind, msg.body) == ("unknown", "")


def test_business_scoped_user_without_phone_number():
    payload = message_payload(
        {
            "from_user_id": "US.13491208655302741918",
            "id": "wamid.B",
            "timestamp": "1700000000",
            "type": "text",
            "text": {"body": "hello"},
        },
        contacts=[
            {"profile": {"name": "Ana", "username": "@ana"}, "user_id": "US.13491208655302741918"}
        ],
    )
    (msg,) = parse_payload(payload).messages
    assert msg.address == msg.business_user_id == "US.13491208655302741918"
    assert msg.profile_name == "Ana"


@pytest.mark.parametrize(
    ("variant", "status"), [("sent", "sent"), ("delivered", "delivered"), ("read", "read")]
)
def test_statuses(variant, status):
    batch = parse_payload(fixture("message_status", variant))
    assert batch.messages == [] and batch.other == []
    (update,) = batch.statuses
    assert (update.status, update.external_id, update.recipient) == (
        status,
        "wamid.xyzxyz",
        "972987654321",
    )
    assert update.errors == ()


def test_failed_status_carries_errors():
    sent = datetime.fromtimestamp(1689380458, tz=UTC)
    payload = fixture("message_status", "failed")
    (update,) = parse_payload(payload, received_at=sent + MINUTE).statuses
    assert update.status == "failed"
    assert update.timestamp == sent
    assert update.errors[0]["code"] == 130472


def test_played_status_is_kept_in_other():
    batch = parse_payload(fixture("message_status", "played"))
    assert batch.statuses == []
    assert batch.other[0]["value"]["statuses"][0]["status"] == "played"


def test_marketing_preferences_go_to_other():
    batch = parse_payload(fixture("user_marketing_preferences", "resume"))
    assert batch.messages == [] and batch.statuses == []
    (item,) = batch.other
    assert item["field"] == "user_preferences"
    assert item["value"]["user_preferences"][0]["value"] == "resume"
    assert item["value"]["metadata"]["phone_number_id"] == "106540352242922"


def test_batch_is_sorted_oldest_first_keeping_arrival_order_on_ties():
    payload = message_payload(
        text_message("wamid.3", "1700000300"),
        text_message("wamid.1a", "1700000100"),
        text_message("wamid.2", "1700000200"),
    )
    second_entry = copy.deepcopy(payload["entry"][0])
    second_entry["changes"][0]["value"]["messages"] = [
        text_message("wamid.1b", "1700000100"),
        text_message("wamid.0", "1699999999"),
    ]
    payload["entry"].append(second_entry)
    received = datetime.fromtimestamp(1700000300, tz=UTC) + MINUTE
    ids = [m.external_id for m in parse_payload(payload, received_at=received).messages]
    assert ids == ["wamid.0", "wamid.1a", "wamid.1b", "wamid.2", "wamid.3"]


def test_integer_timestamp_is_accepted():
    sent = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    payload = message_payload(text_message("wamid.I", 1700000000))
    (msg,) = parse_payload(payload, received_at=sent + MINUTE).messages
    assert msg.timestamp == sent


@pytest.mark.parametrize(
    "timestamp",
    ["99999999999", -62135596800, "-62135596800", "0", 10**19, "31", str(10**19)],
)
def test_a_timestamp_far_from_the_receive_time_becomes_the_receive_time(timestamp):
    received = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    payload = message_payload(text_message("wamid.T", timestamp))
    (msg,) = parse_payload(payload, received_at=received).messages
    assert (msg.timestamp, msg.problem) == (received, "")
    assert msg.raw["timestamp"] == timestamp


@pytest.mark.parametrize(
    ("offset", "believed"),
    [
        (-timedelta(days=30), True),
        (-timedelta(days=30, seconds=1), False),
        (timedelta(days=1), True),
        (timedelta(days=1, seconds=1), False),
    ],
)
def test_the_believed_window_is_thirty_days_back_and_one_day_ahead(offset, believed):
    received = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    sent = received + offset
    payload = message_payload(text_message("wamid.W", str(int(sent.timestamp()))))
    (msg,) = parse_payload(payload, received_at=received).messages
    assert msg.timestamp == (sent if believed else received)


def test_a_receipt_timestamp_far_from_the_receive_time_becomes_the_receive_time():
    received = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    payload = fixture("message_status", "read")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["timestamp"] = "99999999999"
    (update,) = parse_payload(payload, received_at=received).statuses
    assert update.timestamp == received


def _mutated(mutate) -> dict:
    payload = fixture("message", "text")
    mutate(payload)
    return payload


def _value(p):
    return p["entry"][0]["changes"][0]["value"]


def _msg(p):
    return _value(p)["messages"][0]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([], "JSON object"),
        ("text", "JSON object"),
        (None, "JSON object"),
        ({}, "object"),
        ({"object": "page", "entry": []}, "object"),
        ({"object": "whatsapp_business_account"}, "entry"),
        ({"object": "whatsapp_business_account", "entry": {}}, "entry"),
        ({"object": "whatsapp_business_account", "entry": ["x"]}, "entry[0]"),
        (_mutated(lambda p: p["entry"][0].pop("changes")), "changes"),
        (_mutated(lambda p: p["entry"][0]["changes"][0].update(value=[])), "value"),
        (_mutated(lambda p: _value(p).update(messages={})), "messages"),
        (_mutated(lambda p: _value(p).update(statuses=3)), "statuses"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_an_unusable_envelope_raises_payload_error(payload, reason):
    with pytest.raises(PayloadError) as excinfo:
        parse_payload(payload)
    assert reason in excinfo.value.reason


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda m: m.pop("timestamp"), "timestamp is missing"),
        (lambda m: m.update(timestamp="abc"), "timestamp must be Unix seconds"),
        (lambda m: m.update(timestamp="17.5"), "timestamp must be Unix seconds"),
        (lambda m: m.update(timestamp=True), "timestamp must be Unix seconds"),
        (lambda m: m.update(timestamp=["1700000000"]), "timestamp must be Unix seconds"),
        (lambda m: m.update(text={"body": ["a", "list"]}), "text.body must be a string"),
        (lambda m: m.update(text="Body Text"), "text must be an object"),
        (lambda m: m.update(type=7), "type must be a string"),
        (lambda m: m.update(context=[1]), "context must be an object"),
        (lambda m: m.update(context={"id": 5}), "context.id must be a string"),
        (
            lambda m: m.update(type="image", image={"id": {"x": 1}}),
            "image.id must be a string",
        ),
        (
            lambda m: m.update(type="reaction", reaction={"message_id": 1, "emoji": "x"}),
            "reaction.message_id must be a string",
        ),
        (
            lambda m: m.update(type="contacts", contacts=[{"phones": 5}]),
            "contacts[0].phones must be a list",
        ),
        (
            lambda m: m.update(type="location", location={"latitude": [1], "longitude": 2}),
            "location.latitude must be a number",
        ),
    ],
)
def test_a_field_of_the_wrong_type_leaves_the_message_with_its_problem(mutate, reason):
    payload = message_payload(text_message("wamid.A", "1700000000"))
    mutate(_msg(payload))
    received = datetime(2023, 11, 14, 22, 15, tzinfo=UTC)
    (msg,) = parse_payload(payload, received_at=received).messages
    assert (msg.external_id, msg.address, msg.kind, msg.body) == (
        "wamid.A",
        "447700900123",
        "unknown",
        "",
    )
    assert reason in msg.problem


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda m: m.pop("id"), "id is missing"),
        (lambda m: m.update(id=""), "id is missing"),
        (lambda m: m.update(id=12), "id must be a string"),
        (lambda m: m.pop("from"), "from is missing"),
        (lambda m: m.update({"from": 972}), "from must be a string"),
        (lambda m: m.update(from_user_id=["US.1"]), "from_user_id must be a string"),
    ],
)
def test_a_message_without_a_usable_id_or_sender_goes_to_other_with_its_reason(mutate, reason):
    payload = message_payload(text_message("wamid.A", "1700000000"), text_message("wamid.B", "1"))
    mutate(_msg(payload))
    batch = parse_payload(payload)
    assert [m.external_id for m in batch.messages] == ["wamid.B"]
    (invalid,) = batch.other
    assert invalid["field"] == "invalid_message"
    assert reason in invalid["reason"]
    assert invalid["value"]["message"] == _msg(payload)


def test_a_message_that_is_not_an_object_goes_to_other():
    batch = parse_payload(_mutated(lambda p: _value(p).update(messages=["hi"])))
    assert (batch.messages, batch.other[0]["field"]) == ([], "invalid_message")
    assert "messages[0] must be an object" in batch.other[0]["reason"]


@pytest.mark.parametrize(
    ("receipt", "reason"),
    [
        ({"status": "read"}, "id is missing"),
        ({"status": ["read"], "id": "wamid.x", "timestamp": "1"}, "status must be a string"),
        ({"status": "read", "id": 5, "timestamp": "1"}, "id must be a string"),
        ({"status": "read", "id": "wamid.x", "timestamp": {}}, "timestamp must be Unix"),
        ({"status": "failed", "id": "wamid.x", "timestamp": "1", "errors": [3]}, "errors"),
        ("read", "must be an object"),
    ],
)
def test_a_damaged_receipt_goes_to_other_and_its_neighbours_are_parsed(receipt, reason):
    good = {"status": "read", "id": "wamid.good", "timestamp": "1700000000"}
    batch = parse_payload(_mutated(lambda p: _value(p).update(statuses=[receipt, good])))
    assert [s.external_id for s in batch.statuses] == ["wamid.good"]
    invalid = [o for o in batch.other if o["field"] == "invalid_status"]
    assert len(invalid) == 1
    assert reason in invalid[0]["reason"]


def test_malformed_contacts_are_kept_in_other_and_the_message_still_parses():
    payload = message_payload(text_message("wamid.C", "1700000000"), contacts=7)
    batch = parse_payload(payload)
    assert (batch.messages[0].problem, batch.messages[0].profile_name) == ("", "")
    assert batch.other[0]["value"]["contacts"] == 7


def test_the_batch_size_counts_every_message_and_receipt_entry():
    payload = message_payload(text_message("wamid.1", "1"), "junk", text_message("wamid.2", "1"))
    _value(payload)["statuses"] = [{"status": "read", "id": "wamid.s", "timestamp": "1"}]
    assert parse_payload(payload).size == 4


# --- sending ------------------------------------------------------------------------------


def ok(message_id: str = "wamid.OK") -> dict:
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "447700900123", "wa_id": "447700900123"}],
        "messages": [{"id": message_id}],
    }


def graph_error(code: int, message: str = "error", details: str = "") -> dict:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "AbCdEf",
        }
    }


@pytest.fixture
def client(httpserver):
    return WhatsAppClient(httpserver.url_for("/v23.0"), TOKEN, PHONE_ID, timeout=2)


PATH = f"/v23.0/{PHONE_ID}/messages"


def test_send_text_posts_the_exact_request(httpserver, client):
    expected = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "447700900123",
        "type": "text",
        "text": {"preview_url": False, "body": "Hi 👋 — thanks!"},
    }
    httpserver.expect_request(
        PATH, method="POST", headers={"Authorization": f"Bearer {TOKEN}"}, json=expected
    ).respond_with_json(ok("wamid.A"))
    assert client.send_text("447700900123", "Hi 👋 — thanks!") == ["wamid.A"]
    ((request, _),) = httpserver.log
    assert request.get_json() == expected
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"


def test_send_text_to_a_business_scoped_user_uses_recipient(httpserver, client):
    httpserver.expect_request(PATH, method="POST").respond_with_json(ok())
    client.send_text("US.13491208655302741918", "hello")
    body = httpserver.log[0][0].get_json()
    assert body["recipient"] == "US.13491208655302741918" and "to" not in body


def test_long_text_is_split_into_several_sends(httpserver, client):
    paragraph = " ".join(["word"] * 300)  # 1499 characters
    text = "\n\n".join([paragraph] * 7)  # about 10.5k characters
    counter = iter(range(100))

    def handler(request):
        return Response(json.dumps(ok(f"wamid.{next(counter)}")), content_type="application/json")

    httpserver.expect_request(PATH, method="POST").respond_with_handler(handler)
    ids = client.send_text("447700900123", text)
    bodies = [req.get_json()["text"]["body"] for req, _ in httpserver.log]
    # two 1.5k paragraphs fit in one 4096-character message, three do not
    assert len(bodies) == len(ids) == 4
    assert ids == ["wamid.0", "wamid.1", "wamid.2", "wamid.3"]
    assert all(len(b) <= MAX_TEXT for b in bodies)
    assert all(not b.startswith(" ") and not b.endswith(" ") for b in bodies)
    assert "\n\n".join(bodies) == text  # split exactly on paragraph breaks


def test_split_text_falls_back_to_words_then_hard_cuts():
    words = "abc " * 2000
    parts = split_text(words, limit=100)
    assert all(len(p) <= 100 for p in parts)
    assert " ".join(parts).split() == words.split()
    assert split_text("x" * 250, limit=100) == ["x" * 100, "x" * 100, "x" * 50]
    assert split_text("short") == ["short"]
    assert split_text("   ") == []


def test_failure_midway_reports_what_was_sent(httpserver, client):
    httpserver.expect_oneshot_request(PATH, method="POST").respond_with_json(ok("wamid.first"))
    httpserver.expect_oneshot_request(PATH, method="POST").respond_with_json(
        graph_error(131047), status=400
    )
    with pytest.raises(OutsideWindowError) as excinfo:
        client.send_text("447700900123", "a" * 5000)
    assert excinfo.value.sent_ids == ("wamid.first",)


def test_empty_text_is_refused_without_a_request(httpserver, client):
    with pytest.raises(ValueError):
        client.send_text("447700900123", "  \n")
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (400, graph_error(100, "Invalid parameter"), PermanentSendError, "100"),
        (401, graph_error(190, "Access token has expired"), PermanentSendError, "190"),
        (400, graph_error(131026, "Message undeliverable"), PermanentSendError, "131026"),
        (400, graph_error(131047, "Re-engagement message"), OutsideWindowError, "131047"),
        (400, graph_error(130429, "Rate limit hit"), TransientSendError, "130429"),
        (400, graph_error(131056, "Pair rate limit hit"), TransientSendError, "131056"),
        (400, graph_error(4, "Too many calls"), TransientSendError, "4"),
        (400, graph_error(80007, "Rate limit"), TransientSendError, "80007"),
        (400, graph_error(131016, "Service unavailable"), TransientSendError, "131016"),
        (429, graph_error(130429, "Rate limit hit"), TransientSendError, "130429"),
        (500, graph_error(131000, "Something went wrong"), TransientSendError, "131000"),
        (500, None, TransientSendError, "http_500"),
        (503, None, TransientSendError, "http_503"),
        (404, None, PermanentSendError, "http_404"),
    ],
)
def test_error_mapping(httpserver, client, status, body, error, code):
    handler = httpserver.expect_request(PATH, method="POST")
    if body is None:
        handler.respond_with_data("<html>upstream error</html>", status=status)
    else:
        handler.respond_with_json(body, status=status)
    with pytest.raises(error) as excinfo:
        client.send_text("447700900123", "hello")
    assert excinfo.value.code == code
    assert excinfo.value.http_status == status
    if error is OutsideWindowError:
        assert isinstance(excinfo.value, PermanentSendError)


def test_error_detail_includes_message_and_details(httpserver, client):
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        graph_error(131047, "Re-engagement message", "More than 24 hours have passed"), status=400
    )
    with pytest.raises(OutsideWindowError) as excinfo:
        client.send_text("447700900123", "hello")
    assert excinfo.value.detail == "Re-engagement message; More than 24 hours have passed"


def test_success_without_message_id_is_permanent(httpserver, client):
    httpserver.expect_request(PATH, method="POST").respond_with_json({"messages": []})
    with pytest.raises(PermanentSendError) as excinfo:
        client.send_text("447700900123", "hello")
    assert excinfo.value.code == "bad_response"


def test_timeout_is_transient(httpserver, answer_late):
    late = answer_late(Response(json.dumps(ok()), content_type="application/json"))
    httpserver.expect_request(PATH, method="POST").respond_with_handler(late)
    client = WhatsAppClient(httpserver.url_for("/v23.0"), TOKEN, PHONE_ID, timeout=0.2)
    with pytest.raises(TransientSendError) as excinfo:
        client.send_text("447700900123", "hello")
    assert excinfo.value.code == "timeout"


def test_connection_refused_is_transient():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = WhatsAppClient(f"http://127.0.0.1:{port}/v23.0", TOKEN, PHONE_ID, timeout=1)
    with pytest.raises(TransientSendError) as excinfo:
        client.send_text("447700900123", "hello")
    assert excinfo.value.code == "connection"


def test_send_buttons_posts_reply_buttons(httpserver, client):
    expected = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "447700900123",
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Is this a cover-up?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "coverup:yes", "title": "Yes"}},
                    {"type": "reply", "reply": {"id": "coverup:no", "title": "No"}},
                ]
            },
        },
    }
    httpserver.expect_request(PATH, method="POST", json=expected).respond_with_json(ok("wamid.B"))
    buttons = [("coverup:yes", "Yes"), ("coverup:no", "No")]
    assert client.send_buttons("447700900123", "Is this a cover-up?", buttons) == "wamid.B"


@pytest.mark.parametrize(
    ("body", "buttons"),
    [
        ("pick", []),
        ("pick", [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")]),
        ("pick", [("a", "x" * 21)]),
        ("pick", [("a", "")]),
        ("pick", [("x" * 257, "A")]),
        ("pick", [("", "A")]),
        ("pick", [(" a", "A")]),
        ("pick", [("a", "A"), ("a", "B")]),
        ("pick", [("a", "A"), ("b", "A")]),
        ("", [("a", "A")]),
        ("x" * 1025, [("a", "A")]),
    ],
)
def test_button_limits_raise_value_error(httpserver, client, body, buttons):
    with pytest.raises(ValueError):
        client.send_buttons("447700900123", body, buttons)
    assert httpserver.log == []


def test_button_limits_at_the_edge_are_allowed(httpserver, client):
    httpserver.expect_request(PATH, method="POST").respond_with_json(ok())
    buttons = [("x" * 256, "t" * 20), ("b", "B"), ("c", "C")]
    assert client.send_buttons("447700900123", "b" * 1024, buttons) == "wamid.OK"


def test_send_template(httpserver, client):
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    expected = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "447700900123",
        "type": "template",
        "template": {"name": "follow_up", "language": {"code": "en_GB"}, "components": components},
    }
    httpserver.expect_request(PATH, method="POST", json=expected).respond_with_json(ok("wamid.T"))
    assert client.send_template("447700900123", "follow_up", components=components) == "wamid.T"


def test_send_template_without_components(httpserver, client):
    httpserver.expect_request(PATH, method="POST").respond_with_json(ok("wamid.T"))
    client.send_template("447700900123", "hello_world", language="en_US")
    template = httpserver.log[0][0].get_json()["template"]
    assert template == {"name": "hello_world", "language": {"code": "en_US"}}
