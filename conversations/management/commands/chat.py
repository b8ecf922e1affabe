"""`manage.py chat PHONE`: talk to the bot in the terminal, through the real inbound path."""

import logging
import sys
import uuid

from django.core.management.base import BaseCommand
from django.utils import timezone

from conversations.channels.base import InboundMessage, MessageKind, normalise_address
from conversations.flows.inbound import Outcome, record_inbound
from conversations.models import Channel, Lead, Message


class Command(BaseCommand):
    help = (
        "Chat with the bot as the WhatsApp client PHONE. Each line goes through record_inbound, "
        "like a webhook message; the bot's queued replies and the lead's status are printed. "
        "Ctrl-D ends the chat."
    )
    stealth_options = ("stdin",)  # tests feed the conversation through call_command(stdin=…)

    def add_arguments(self, parser):
        parser.add_argument("phone", help="the client's number, e.g. +447700900123")
        parser.add_argument("--name", default="", help="the client's WhatsApp profile name")

    def handle(self, *args, phone, name="", **options):
        if options["verbosity"] < 2:
            # The conversation is the output; the app's INFO lines would interleave with it.
            logging.getLogger("conversations").setLevel(logging.WARNING)
        address = normalise_address(phone.strip())
        stdin = options.get("stdin") or sys.stdin
        self.stdout.write(f"Chatting as {address}. Ctrl-D to finish.")
        try:
            while True:
                self.stdout.write("you> ", ending="")
                self.stdout.flush()
                line = stdin.readline()
                if not line:
                    break
                if line.strip():
                    self.turn(address, name, line.strip())
        except KeyboardInterrupt:
            pass
        self.stdout.write("")

    def turn(self, address, name, body):
        since = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        result = record_inbound(
            InboundMessage(
                channel=Channel.WHATSAPP,
                external_id=f"chat-{uuid.uuid4()}",
                address=address,
                timestamp=timezone.now(),
                kind=MessageKind.TEXT,
                body=body,
                profile_name=name,
            )
        )
        if result.outcome != Outcome.PROCESSED:
            self.stdout.write(self.style.WARNING(f"({result.outcome}) {result.error}".rstrip()))
        for message in Message.objects.outbound().filter(pk__gt=since).select_related("client"):
            if message.client.address == address:
                self.stdout.write(self.style.SUCCESS("bot> ") + message.body)
            elif message.payload.get("purpose") == "artist_notification":
                self.stdout.write(self.style.NOTICE("to artist> ") + message.body)
        lead = Lead.objects.filter(client__channel=Channel.WHATSAPP, client__address=address)
        lead = lead.order_by("-created_at", "-id").first()
        if lead is not None:
            self.stdout.write(f"[lead #{lead.pk} · {lead.status} · step {lead.current_step}]")
