"""Sending one outbound message through its channel: WhatsApp (window, template, buttons, long
texts in parts) or SMS. Raises the channel's send errors; records nothing but the parts sent.
"""

from django.conf import settings

from conversations.channels import base as channel_base
from conversations.channels.twilio import TwilioClient
from conversations.channels.whatsapp import WhatsAppClient, split_text
from conversations.models import Channel, Message


def send(message, now):
    """Send `message`; returns the provider's id of each part, in order."""
    if settings.OUTBOUND_DRY_RUN:
        return [f"dry-run-{message.pk}"]
    if message.channel == Channel.SMS:
        return _send_sms(message)
    return _send_whatsapp(message, now)


def part_count(message):
    """How many provider messages `message` goes out as (each with its own id and receipt)."""
    if message.channel == Channel.SMS or message.payload.get("buttons"):
        return 1
    if message.payload.get("template"):
        return 1
    return max(len(split_text(message.body)), 1)


def _send_whatsapp(message, now):
    client = WhatsAppClient(
        settings.WHATSAPP_API_BASE,
        settings.WHATSAPP_ACCESS_TOKEN,
        settings.WHATSAPP_PHONE_NUMBER_ID,
        timeout=settings.OUTBOUND_TIMEOUT_SECONDS,
    )
    to = message.client.address
    template = message.payload.get("template")
    if not message.client.in_service_window(now):
        # Outside the 24-hour window only an approved template may go.
        if not template:
            raise channel_base.OutsideWindowError(
                code=131047, detail="outside the 24-hour window and no template fallback"
            )
        return [
            client.send_template(
                to,
                template["name"],
                template.get("language", "en_GB"),
                template.get("components"),
            )
        ]
    if message.payload.get("buttons"):
        buttons = [tuple(b) for b in message.payload["buttons"]]
        return [client.send_buttons(to, message.body, buttons)]
    return _send_in_parts(
        message, split_text(message.body), lambda part: client.send_text(to, part)
    )


def _send_in_parts(message, parts, send_part):
    """Send a long text part by part, recording each part's id as it goes.

    A retry after a failure on part 2 starts at part 2: what already went out is not resent.
    """
    sent = list(message.payload.get("sent_parts", []))
    for part in parts[len(sent) :]:
        sent.extend(send_part(part))
        message.payload = {**message.payload, "sent_parts": sent}
        Message.objects.filter(pk=message.pk).update(payload=message.payload)
    return sent


def _send_sms(message):
    client = TwilioClient(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        settings.TWILIO_FROM_NUMBER,
        api_base=settings.TWILIO_API_BASE or None,
        timeout=settings.OUTBOUND_TIMEOUT_SECONDS,
    )
    return [client.send_sms(message.client.address, message.body)]
