"""Twilio SMS boundary: request validation, inbound form parsing and the send client."""

import json
import socket
from datetime import UTC, datetime, timedelta, timezone

import pytest
from twilio.request_validator import RequestValidator
from werkzeug import Response

from conversations.channels.base import (
    PayloadError,
    PermanentSendError,
    SignatureInvalid,
    SignatureMissing,
    TransientSendError,
)
from conversations.channels.twilio import (
    TwilioClient,
    empty_twiml,
    parse_form,
    verify_signature,
)

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token"
FROM_NUMBER = "+15005550006"
URL = "https://bot.example.com/webhooks/twilio/"
RECEIVED = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def sms_form(**overrides) -> dict:
    """The fields Twilio posts for an inbound SMS."""
    form = {
        "ToCountry": "GB",
        "ToState": "",
        "SmsMessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": "Hi, is a half sleeve possible in May? Привет 👋",
        "FromCountry": "GB",
        "To": "+447700900000",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "AccountSid": ACCOUNT_SID,
        "From": "+447700900123",
        "ApiVersion": "2010-04-01",
    }
    form.update(overrides)
    return form


def media_url(sid: str) -> str:
    return f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/{sid}"


# --- signature ------------------------------------------------------------------------------


def test_valid_signature_round_trip():
    params = sms_form()
    signature = RequestValidator(AUTH_TOKEN).compute_signature(URL, params)
    verify_signature(URL, params, signature, AUTH_TOKEN)


def test_signature_computed_with_the_port_still_validates():
    params = sms_form()
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        "https://bot.example.com:443/webhooks/twilio/", params
    )
    verify_signature(URL, params, signature, AUTH_TOKEN)


@pytest.mark.parametrize(
    ("url", "params", "token"),
    [
        (URL, sms_form(Body="tampered"), AUTH_TOKEN),
        (URL, {**sms_form(), "Extra": "1"}, AUTH_TOKEN),
        ("https://bot.example.com/webhooks/other/", sms_form(), AUTH_TOKEN),
        (URL, sms_form(), "another-token"),
    ],
    ids=["tampered-param", "added-param", "other-url", "other-token"],
)
def test_tampered_request_fails(url, params, token):
    signature = RequestValidator(AUTH_TOKEN).compute_signature(URL, sms_form())
    with pytest.raises(SignatureInvalid):
        verify_signature(url, params, signature, token)


@pytest.mark.parametrize("signature", [None, "", "  "])
def test_missing_signature(signature):
    with pytest.raises(SignatureMissing):
        verify_signature(URL, sms_form(), signature, AUTH_TOKEN)


def test_garbage_signature_is_invalid():
    with pytest.raises(SignatureInvalid):
        verify_signature(URL, sms_form(), "not-base64!", AUTH_TOKEN)


def test_empty_auth_token_is_a_configuration_error():
    with pytest.raises(ValueError):
        verify_signature(URL, sms_form(), "x", "")


# --- inbound form -------------------------------------------------------------------------


def test_parse_sms():
    msg = parse_form(sms_form(), received_at=RECEIVED)
    assert msg.channel == "sms"
    assert msg.external_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    assert msg.address == "447700900123"  # normalised: E.164 digits without the '+'
    assert msg.timestamp == RECEIVED
    assert (msg.kind, msg.body) == ("text", "Hi, is a half sleeve possible in May? Привет 👋")
    assert (msg.media, msg.reply_id, msg.profile_name, msg.location) == ((), "", "", None)
    assert msg.raw["To"] == "+447700900000"


def test_parse_mms_with_two_attachments():
    form = sms_form(
        NumMedia="2",
        Body="Reference pics",
        MediaContentType0="image/jpeg",
        MediaUrl0=media_url("ME0aaaa"),
        MediaContentType1="application/pdf",
        MediaUrl1=media_url("ME1bbbb"),
    )
    msg = parse_form(form, received_at=RECEIVED)
    assert (msg.kind, msg.body) == ("image", "Reference pics")
    first, second = msg.media
    assert (first.kind, first.media_id, first.mime_type) == ("image", "ME0aaaa", "image/jpeg")
    assert first.url == media_url("ME0aaaa")
    assert (second.kind, second.media_id) == ("document", "ME1bbbb")


def test_parse_mms_without_text():
    form = sms_form(
        NumMedia="1", Body="", MediaContentType0="video/mp4", MediaUrl0=media_url("ME2")
    )
    msg = parse_form(form, received_at=RECEIVED)
    assert (msg.kind, msg.body, msg.media[0].kind) == ("video", "", "video")


def test_parse_whatsapp_via_twilio_quick_reply():
    form = sms_form(
        From="whatsapp:+447700900123",
        To="whatsapp:+447700900000",
        ProfileName="Ana",
        WaId="447700900123",
        Body="Yes",
        ButtonText="Yes",
        ButtonPayload="coverup:yes",
        OriginalRepliedMessageSid="SMabc",
    )
    msg = parse_form(form, received_at=RECEIVED)
    assert msg.address == "whatsapp:+447700900123"  # kept as Twilio gives it, for replies
    assert (msg.kind, msg.reply_id, msg.body) == ("button", "coverup:yes", "Yes")
    assert (msg.profile_name, msg.context_id) == ("Ana", "SMabc")


def test_parse_whatsapp_via_twilio_location():
    form = sms_form(Body="", Latitude="51.5072", Longitude="-0.1276", Label="Studio")
    msg = parse_form(form, received_at=RECEIVED)
    assert (msg.kind, msg.body) == ("location", "Studio (51.5072, -0.1276)")
    assert msg.location["latitude"] == "51.5072"


def test_parse_accepts_lists_and_converts_received_at_to_utc():
    form = {key: [value] for key, value in sms_form().items()}
    plus_two = timezone(timedelta(hours=2))
    msg = parse_form(form, received_at=datetime(2025, 3, 1, 14, 30, tzinfo=plus_two))
    assert msg.timestamp == RECEIVED and msg.timestamp.tzinfo is UTC
    assert msg.address == "447700900123"


def test_parse_without_received_at_uses_now():
    before = datetime.now(UTC)
    msg = parse_form(sms_form())
    assert before <= msg.timestamp <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({k: v for k, v in sms_form().items() if k != "MessageSid"}, "MessageSid"),
        (sms_form(MessageSid=""), "MessageSid"),
        ({k: v for k, v in sms_form().items() if k != "From"}, "From"),
        (sms_form(MessageSid="\x00"), "MessageSid"),
    ],
)
def test_bad_forms_raise_payload_error(form, reason):
    with pytest.raises(PayloadError) as excinfo:
        parse_form(form, received_at=RECEIVED)
    assert reason in excinfo.value.reason


@pytest.mark.parametrize("num_media", ["two", "-1", "٣"])
def test_a_bad_num_media_leaves_the_message_with_its_problem(num_media):
    msg = parse_form(sms_form(NumMedia=num_media), received_at=RECEIVED)
    assert "NumMedia" in msg.problem
    assert msg.media == ()


def test_a_num_media_of_thousands_of_digits_is_capped_not_an_error():
    msg = parse_form(sms_form(NumMedia="9" * 5000), received_at=RECEIVED)
    assert msg.problem == ""


def test_nul_characters_are_dropped_from_every_form_value_and_key():
    form = sms_form(
        MessageSid="SM\x00abc",
        From="+4477\x00009",
        Body="a rose\x00",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/x/Media/ME1\x00",
        MediaContentType0="image/\x00jpeg",
    )
    form["Od\x00d"] = "v\x00"
    msg = parse_form(form, received_at=RECEIVED)
    assert (msg.external_id, msg.address, msg.body) == ("SMabc", "4477009", "a rose")
    assert (msg.media[0].url, msg.media[0].mime_type) == (
        "https://api.twilio.com/x/Media/ME1",
        "image/jpeg",
    )
    assert msg.raw["Odd"] == "v"


def test_empty_twiml():
    assert empty_twiml() == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


# --- sending ------------------------------------------------------------------------------


def twilio_message(sid: str, to: str, body: str) -> dict:
    """Twilio's JSON for POST /2010-04-01/Accounts/{sid}/Messages.json (201 Created)."""
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": "Sat, 01 Mar 2025 12:30:00 +0000",
        "date_sent": None,
        "date_updated": "Sat, 01 Mar 2025 12:30:00 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": FROM_NUMBER,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"
        },
        "to": to,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


def twilio_error(code: int, message: str, status: int) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@pytest.fixture
def client(httpserver):
    return TwilioClient(
        ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, api_base=httpserver.url_for(""), timeout=2
    )


def test_send_sms_returns_the_sid(httpserver, client):
    sid = "SM" + "a" * 32
    httpserver.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        twilio_message(sid, "+447700900123", "Thanks! 👋"), status=201
    )
    assert client.send_sms("+447700900123", "Thanks! 👋") == sid
    ((request, _),) = httpserver.log
    assert request.form.to_dict() == {
        "To": "+447700900123",
        "From": FROM_NUMBER,
        "Body": "Thanks! 👋",
    }
    assert request.authorization.username == ACCOUNT_SID
    assert request.authorization.password == AUTH_TOKEN


def test_send_sms_to_a_normalised_address_puts_the_plus_back(httpserver, client):
    sid = "SM" + "c" * 32
    httpserver.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        twilio_message(sid, "+447700900123", "hello"), status=201
    )
    assert client.send_sms("447700900123", "hello") == sid
    ((request, _),) = httpserver.log
    assert request.form["To"] == "+447700900123"


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (
            400,
            twilio_error(21211, "The 'To' number is not valid.", 400),
            PermanentSendError,
            "21211",
        ),
        (
            400,
            twilio_error(21610, "Attempt to send to unsubscribed recipient", 400),
            PermanentSendError,
            "21610",
        ),
        (401, twilio_error(20003, "Authenticate", 401), PermanentSendError, "20003"),
        (429, twilio_error(20429, "Too Many Requests", 429), TransientSendError, "20429"),
        (500, twilio_error(20500, "Internal Server Error", 500), TransientSendError, "20500"),
        (503, None, TransientSendError, "http_503"),
    ],
)
def test_error_mapping(httpserver, client, status, body, error, code):
    handler = httpserver.expect_request(MESSAGES_PATH, method="POST")
    if body is None:
        handler.respond_with_data("Service Unavailable", status=status)
    else:
        handler.respond_with_json(body, status=status)
    with pytest.raises(error) as excinfo:
        client.send_sms("+447700900123", "hello")
    assert (excinfo.value.code, excinfo.value.http_status) == (code, status)
    if body is not None:
        assert body["message"] in excinfo.value.detail


def test_timeout_is_transient(httpserver, answer_late):
    late = answer_late(Response(json.dumps(twilio_message("SM1", "+1", "x")), status=201))
    httpserver.expect_request(MESSAGES_PATH, method="POST").respond_with_handler(late)
    client = TwilioClient(
        ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, api_base=httpserver.url_for(""), timeout=0.2
    )
    with pytest.raises(TransientSendError) as excinfo:
        client.send_sms("+447700900123", "hello")
    assert excinfo.value.code == "timeout"


def test_connection_refused_is_transient():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = TwilioClient(
        ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, api_base=f"http://127.0.0.1:{port}", timeout=1
    )
    with pytest.raises(TransientSendError) as excinfo:
        client.send_sms("+447700900123", "hello")
    assert excinfo.value.code == "connection"


def test_missing_credentials_are_refused():
    with pytest.raises(ValueError):
        TwilioClient("", AUTH_TOKEN, FROM_NUMBER)
