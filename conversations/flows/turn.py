"""One inbound message being handled: the locked lead, the message, and what the flow needs."""

from dataclasses import dataclass
from functools import cached_property

from conversations import outbox, transitions
from conversations.channels.base import InboundMessage
from conversations.models import Lead, Message, Question, StudioSettings
from conversations.parsing import detect_intent

# Kinds whose body is something the client typed (a caption counts for media).
TEXT_KINDS = frozenset({"text", "interactive", "button", "location"})
MEDIA_KINDS = frozenset({"image", "video", "document"})
# Nothing to answer: a reaction, a provider notice, an edit or deletion we cannot read.
SILENT_KINDS = frozenset({"reaction", "system", "unknown"})


@dataclass
class Turn:
    """The state one message is handled against; the flows pass it around instead of globals."""

    lead: Lead
    message: Message
    inbound: InboundMessage

    @property
    def client(self):
        return self.lead.client

    @cached_property
    def text(self):
        return (self.inbound.body or "").strip()

    @cached_property
    def intent(self):
        return detect_intent(self.text) if self.text else None

    @cached_property
    def studio(self):
        return StudioSettings.load()

    @cached_property
    def script(self):
        return list(Question.objects.script())

    @property
    def kind(self):
        return self.inbound.kind

    def reply(self, body, *, purpose="bot", buttons=None):
        """Queue one message to the client through the outbox (never a provider call)."""
        return outbox.queue_message(
            self.client, body, lead=self.lead, purpose=purpose, buttons=buttons
        )

    def transition(self, name, *, reason, actor="bot"):
        """Run a lifecycle transition and continue with the fresh, locked lead it returns."""
        client = self.lead.client
        fresh = transitions.transition(self.lead, name, reason=reason, actor=actor)
        fresh.client = client  # same row; saves a query on every reply that follows
        self.lead = fresh
        return fresh

    def update_lead(self, **fields):
        """Write parsed facts (never the status) and keep the in-memory lead in step."""
        if not fields:
            return
        Lead.objects.filter(pk=self.lead.pk).update(**fields)
        for name, value in fields.items():
            setattr(self.lead, name, value)
