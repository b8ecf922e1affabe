"""One inbound message being handled: the locked lead, the message, and what the flow needs."""

from dataclasses import dataclass, field
from functools import cached_property

from conversations import outbox, transitions
from conversations.channels.base import InboundMessage, MessageKind
from conversations.flows.script import CONFIG
from conversations.models import Lead, Message
from conversations.parsing import Intent

K = MessageKind
# How the consultation reads each kind; every MessageKind is in exactly one of these sets.
# Something the client typed (a caption counts for media).
TEXT_KINDS = frozenset({K.TEXT, K.INTERACTIVE, K.BUTTON, K.LOCATION})
# A picture or a file: it can answer the reference-images question.
MEDIA_KINDS = frozenset({K.IMAGE, K.VIDEO, K.DOCUMENT})
# Nothing to answer: a reaction, a provider notice, an edit or deletion we cannot read.
SILENT_KINDS = frozenset({K.REACTION, K.SYSTEM, K.UNKNOWN})
# Answered with "I can't read that": a voice note or a sticker is no reference, a shared
# contact or an order no answer to a question.
UNREADABLE_KINDS = frozenset({K.AUDIO, K.STICKER, K.CONTACTS, K.ORDER, K.UNSUPPORTED})


@dataclass
class Turn:
    """The state one message is handled against; the flows pass it around instead of globals.

    `intent` is what the message asks for beyond an answer, detected once by record_inbound.
    `config_version` is the cached script's version read under the lock (None: read it now);
    `pending` holds lead columns to write with the turn's next lead UPDATE (see `flush`).
    `locked` says the lead was read under its lock in this transaction (no re-lock needed).
    """

    lead: Lead
    message: Message
    inbound: InboundMessage
    intent: Intent | None
    config_version: int | None = None
    pending: dict = field(default_factory=dict)
    locked: bool = False

    @property
    def client(self):
        return self.lead.client

    @cached_property
    def text(self):
        return (self.inbound.body or "").strip()

    @cached_property
    def studio(self):
        return CONFIG.studio(self.config_version)

    @cached_property
    def script(self):
        return CONFIG.script(self.config_version)

    @cached_property
    def faqs(self):
        """The studio's FAQ and its matcher (flows/script.py Faqs), cached like the script."""
        return CONFIG.faqs(self.config_version)

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
        fresh = transitions.transition(
            self.lead, name, reason=reason, actor=actor, already_locked=self.locked
        )
        fresh.client = client  # same row; saves a query on every reply that follows
        for column, value in self.pending.items():
            setattr(fresh, column, value)  # not written yet: the fresh copy must not lose it
        self.lead = fresh
        self.locked = True
        return fresh

    def defer_lead_update(self, **fields):
        """Columns (never the status) to write with the turn's next lead UPDATE, or at `flush`."""
        self.pending.update(fields)
        for name, value in fields.items():
            setattr(self.lead, name, value)

    def update_lead(self, **fields):
        """Write parsed facts (never the status) and keep the in-memory lead in step."""
        fields = {**self.pending, **fields}
        if not fields:
            return
        Lead.objects.filter(pk=self.lead.pk).update(**fields)
        self.pending.clear()
        for name, value in fields.items():
            setattr(self.lead, name, value)

    def advance_step(self, *, to_step=None, **facts):
        """Move past the current step (to `to_step`, when later ones are answered already),
        writing `facts` (and what is pending) in the same UPDATE."""
        fields = {**self.pending, **facts}
        advanced = transitions.advance_step(
            self.lead.pk, self.lead.current_step, to_step=to_step, **fields
        )
        if advanced:
            self.pending.clear()
            self.lead.current_step = advanced.current_step
            for name, value in fields.items():
                setattr(self.lead, name, value)
        return advanced

    def flush(self):
        """Write what is still pending (the turn is over)."""
        self.update_lead()
