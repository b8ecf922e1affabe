"""Test support for the consultation flows (no tests here): a client talking to the bot.

`Chat` sends one inbound message through one of three doors and returns what the bot queued
for the client in reply:
- "flow": the lead locked and the Message row stored by hand, then `handle_message`;
- "inbound": `record_inbound`, the path every provider message takes;
- "webhook": a signed WhatsApp Cloud API POST shaped like the shared fixtures.
"""

import copy as copy_module
import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.test import Client as HttpClient

from conversations.channels.base import InboundMessage, Media
from conversations.flows.dispatch import handle_message
from conversations.models import Direction, Lead, Message, MessageStatus
from conversations.parsing import detect_intent
from conversations.tests.conftest import sign_body, text_payload, whatsapp_fixture

MODES = ("flow", "inbound", "webhook")
_ids = itertools.count(1)

# Answers to the default script of DESIGN.md §8, in order, that all parse.
HAPPY_ANSWERS = {
    "idea": "A peony with a small bee",
    "placement": "Inner left forearm",
    "dimensions": "10 x 12 cm",
    "style": "Fine line, black and grey",
    "complexity": "2",
    "coverup": "no",
    "reference_images": "https://www.pinterest.com/pin/123456789/",
    "budget": "£500",
    "location_city": "Manchester",
    "location_country": "UK",
    "instagram_handle": "@sam.ink",
    "travel_city": "London",
    "timing": "2",
}


def photo(caption=""):
    return Media(
        kind="image", media_id=f"media-{next(_ids)}", mime_type="image/jpeg", caption=caption
    )


class Chat:
    """One client's side of the conversation."""

    def __init__(self, client, mode="flow"):
        assert mode in MODES
        self.client = client
        self.mode = mode
        # Whole seconds, strictly increasing: WhatsApp timestamps have a one-second resolution.
        self._clock = datetime.now(UTC).replace(microsecond=0)

    @property
    def lead(self):
        return Lead.objects.for_client(self.client).first()

    def send(self, body="", *, kind="text", reply_id="", media=()):
        """Send one message; returns the outbound Messages queued for this client by it."""
        self._clock += timedelta(seconds=1)
        inbound = InboundMessage(
            channel="whatsapp",
            external_id=f"wamid.test-{uuid.uuid4().hex}",
            address=self.client.address,
            timestamp=self._clock,
            kind=kind,
            body=body or (media[0].caption if media else ""),
            reply_id=reply_id,
            media=tuple(media),
            profile_name=self.client.display_name,
        )
        before = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        getattr(self, f"_via_{self.mode}")(inbound)
        stored = Message.objects.inbound().get(external_id=inbound.external_id)
        assert stored.status == MessageStatus.PROCESSED, stored.last_error
        return list(
            Message.objects.outbound().filter(client=self.client, pk__gt=before).order_by("pk")
        )

    def say(self, body="", **kwargs):
        """Send and expect exactly one reply; returns its body."""
        replies = self.send(body, **kwargs)
        assert len(replies) == 1, [r.body for r in replies]
        return replies[0].body

    def answer_until(self, key, script, answers=None):
        """From the current step, answer the questions up to `key` (None: to the end)."""
        answers = {**HAPPY_ANSWERS, **(answers or {})}
        keys = [question.key for question in script]
        if key is not None and key not in keys:
            raise AssertionError(f"{key} is not in the script")
        # The step the bot is on, not the next in the list: answered questions are skipped.
        while (step := self.lead.current_step) < len(script) and keys[step] != key:
            if self.lead.status != "QUALIFYING":
                raise AssertionError(f"stopped at {keys[step]}: {self.lead.status}")
            self.say(answers[keys[step]])
            if self.lead.current_step == step:
                raise AssertionError(f"{answers[keys[step]]!r} did not answer {keys[step]}")

    # -- the three doors ----------------------------------------------------------------

    def _via_flow(self, inbound):
        with transaction.atomic():
            lead = Lead.objects.select_for_update().for_client(self.client).first()
            if lead is None:
                lead = Lead.objects.create(client=self.client)
            message = Message.objects.create(
                client=self.client,
                lead=lead,
                channel=inbound.channel,
                direction=Direction.IN,
                external_id=inbound.external_id,
                kind=inbound.kind,
                body=inbound.body,
                reply_id=inbound.reply_id,
                status=MessageStatus.PROCESSED,
                provider_timestamp=inbound.timestamp,
            )
            handle_message(lead, message, inbound, intent=detect_intent(inbound.body))

    def _via_inbound(self, inbound):
        from conversations.flows.inbound import record_inbound

        record_inbound(inbound)

    def _via_webhook(self, inbound):
        raw = json.dumps(webhook_payload(inbound, self.client.display_name)).encode()
        response = HttpClient().post(
            "/webhooks/whatsapp/",
            raw,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=sign_body(raw),
        )
        assert response.status_code == 200, response.content


def webhook_payload(inbound, name):
    """A Cloud API body for `inbound`, built from the shared real-shaped fixtures."""
    payload = text_payload(
        inbound.body,
        wa_id=inbound.address,
        message_id=inbound.external_id,
        timestamp=inbound.timestamp.timestamp(),
        name=name or "Sam",
    )
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    if inbound.kind == "interactive":
        sample = whatsapp_fixture("callback_button.json", "button")
        reply = copy_module.deepcopy(
            sample["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]
        )
        reply["button_reply"] = {"id": inbound.reply_id, "title": inbound.body}
        message.pop("text")
        message.update(type="interactive", interactive=reply)
    elif inbound.kind == "image":
        media = inbound.media[0]
        message.pop("text")
        message.update(
            type="image",
            image={"id": media.media_id, "mime_type": media.mime_type, "caption": media.caption},
        )
    elif inbound.kind != "text":
        raise NotImplementedError(inbound.kind)
    return payload


def started(client):
    """A Chat whose client has said hello and been asked the first question."""
    chat = Chat(client, "flow")
    chat.say("hi")
    return chat


def step_of(script, key):
    return [q.key for q in script].index(key)


def at_summary(chat, script, **answers):
    """Answer every question (the happy answers, unless given) to reach the summary."""
    chat.answer_until(None, script, answers)
    assert chat.lead.current_step == len(script)


def outbound_to(client):
    return list(Message.objects.outbound().filter(client=client).order_by("pk"))


def stored_inbound(lead, body, external_id):
    """An inbound text row as record_inbound stores it, and its parsed form, for handle_message."""
    message = Message.objects.create(
        client=lead.client,
        lead=lead,
        channel="whatsapp",
        direction=Direction.IN,
        external_id=external_id,
        body=body,
        status=MessageStatus.RECEIVED,
    )
    inbound = InboundMessage(
        channel="whatsapp",
        external_id=external_id,
        address=lead.client.address,
        timestamp=message.created_at,
        kind="text",
        body=body,
    )
    return message, inbound
