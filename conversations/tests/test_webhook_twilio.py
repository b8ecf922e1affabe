"""The Twilio SMS webhook: the SDK's signature check against the public URL, empty TwiML."""

import importlib
from urllib.parse import urlencode

import pytest
from django.apps import apps
from twilio.request_validator import RequestValidator

from conversations.models import Client, Lead, Message, MessageStatus, WebhookEvent

pytestmark = pytest.mark.django_db

TOKEN = "twilio-test-token"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = "https://leadbot.example.com"


def sms(body="Hi, do you have space for a small piece?", sid="SM" + "a" * 32):
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": "+447700900555",
        "To": "+447700900000",
        "Body": body,
        "NumMedia": "0",
    }


def post_sms(client, params, *, signature=None):
    url = "https://leadbot.example.com/webhooks/twilio/"
    if signature is None:
        signature = RequestValidator(TOKEN).compute_signature(url, params)
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature is not False else {}
    return client.post(
        "/webhooks/twilio/",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def test_a_signed_sms_is_stored_and_answered_with_empty_twiml(client):
    response = post_sms(client, sms())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response" in response.content
    person = Client.objects.get(channel="sms", address="447700900555")  # E.164, no '+'
    assert Lead.objects.filter(client=person).exists()
    assert Message.objects.inbound().get().body.startswith("Hi, do you have space")


def test_an_sms_client_stored_with_a_plus_keeps_their_lead_after_the_migration(client):
    migration = importlib.import_module("conversations.migrations.0010_addresses_without_plus")
    person = Client.objects.create(channel="sms", address="+447700900555")
    lead = Lead.objects.create(client=person)

    migration.drop_the_plus(apps, None)
    post_sms(client, sms())

    assert list(Client.objects.values_list("pk", "address")) == [(person.pk, "447700900555")]
    assert Message.objects.inbound().get().lead == lead


def test_a_tampered_parameter_is_403(client):
    params = sms()
    signature = RequestValidator(TOKEN).compute_signature(
        "https://leadbot.example.com/webhooks/twilio/", params
    )
    params["Body"] = "something else"
    assert post_sms(client, params, signature=signature).status_code == 403
    assert not Message.objects.exists()


def test_a_missing_signature_is_401(client):
    assert post_sms(client, sms(), signature=False).status_code == 401


def test_a_redelivered_message_sid_is_stored_once(client):
    post_sms(client, sms())
    post_sms(client, sms())
    assert Message.objects.inbound().count() == 1


def test_a_form_without_a_message_sid_is_400(client):
    params = sms()
    del params["MessageSid"], params["SmsSid"]
    assert post_sms(client, params).status_code == 400


def test_percent_00_in_the_sid_sender_and_media_fields_is_dropped_not_a_500(client):
    params = sms(sid="SM\x00" + "b" * 32)
    params.update(
        {
            "From": "+44770090\x000555",
            "NumMedia": "1",
            "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME\x001",
            "MediaContentType0": "image/\x00jpeg",
        }
    )
    assert "%00" in urlencode(params)

    response = post_sms(client, params)

    assert response.status_code == 200
    message = Message.objects.inbound().get()
    assert (message.external_id, message.client.address) == ("SM" + "b" * 32, "447700900555")
    assert message.payload["media"][0]["url"].endswith("/Media/ME1")
    assert message.payload["media"][0]["mime_type"] == "image/jpeg"


def test_a_message_sid_longer_than_the_column_is_kept_as_an_invalid_event(client):
    response = post_sms(client, sms(sid="SM" + "c" * 200))
    assert response.status_code == 200
    assert not Message.objects.exists()
    assert WebhookEvent.objects.get(kind="invalid_message").payload["value"]["message"]["Body"]


def test_a_bad_num_media_stores_the_message_as_failed_with_its_reason(client):
    params = {**sms(), "NumMedia": "lots"}
    assert post_sms(client, params).status_code == 200
    message = Message.objects.inbound().get()
    assert (message.status, message.body) == (MessageStatus.FAILED, params["Body"])
    assert "NumMedia" in message.last_error
