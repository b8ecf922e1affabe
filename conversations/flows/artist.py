"""What the artist does to a lead, from the admin or the API: a transition, or a reply.

The transition itself only writes state and audit (transitions.py); what the client hears
because of it is decided here.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import has_transition_perm

from conversations import outbox, tasks, transitions, wording
from conversations.flows import deposits, handover, resume
from conversations.flows.reminders import template_for
from conversations.models import (
    TRANSITIONS,
    Channel,
    Direction,
    Lead,
    Message,
    MessageStatus,
    Question,
    Status,
)

# What a person decides (DESIGN.md §3): the verdict on an enquiry, taking over and handing
# back, the booking steps, and closing or reopening a lead that is going nowhere. The rest
# belong to the bot's conversation, the client (STOP) or the sweeps (abandon, expire_deposit).
ARTIST_TRANSITIONS = frozenset(
    {
        "approve",
        "reject",
        "hand_over",
        "resume",
        "mark_deposit_paid",
        "send_booking_link",
        "start_booking",
        "mark_booked",
        "cancel",
        "give_up",
        "mark_stale",
        "restart",
    }
)
# A verdict is pending in these: the consultation is complete.
AWAITING_VERDICT = (Status.PENDING_APPROVAL, Status.NEEDS_FOLLOW_UP)
# What the artist may always do with a lead they took over, whatever it was doing before.
HANDOVER_OWN = frozenset({"resume", "reject", "mark_stale"})
# The bulk actions of the lead list.
BULK_TRANSITIONS = ("reject", "mark_stale", "resume")


class BotOnly(transitions.TransitionNotAllowed):
    """The transition is the bot's own; no artist takes it, whatever the lead's status."""


class NotNow(transitions.TransitionNotAllowed):
    """The transition does not make sense for the lead now (or someone moved it first)."""


class OutsideWindow(Exception):
    """WhatsApp's 24-hour window closed and no approved template can carry the reply."""


def actions_for(lead, user=None):
    """The artist's transitions that make sense for `lead` now, sorted by name.

    Those the state machine allows, narrowed for a handed-over lead to what its status before
    the handover allowed (approve only once the consultation is complete), and to what `user`
    may do.
    """
    names = {t.name for t in lead.get_available_status_transitions()} & ARTIST_TRANSITIONS
    if lead.status == Status.NEEDS_ARTIST_REPLY:
        before = lead.handed_over_from()
        names = {
            name
            for name in names
            if name in HANDOVER_OWN
            or before in TRANSITIONS[name][0]
            or (name == "approve" and consultation_complete(lead, before))
        }
    if user is not None:
        names = {n for n in names if has_transition_perm(getattr(lead, n), user)}
    return sorted(names)


def consultation_complete(lead, before=None):
    """Every question was answered: the verdict was pending, or the client is past the last."""
    before = before or (
        lead.handed_over_from() if lead.status == Status.NEEDS_ARTIST_REPLY else lead.status
    )
    if before in AWAITING_VERDICT:
        return True
    return before == Status.QUALIFYING and lead.current_step >= Question.objects.script().count()


def act(lead, name, *, reason, actor, expected_status=None):
    """Run the artist's transition `name` and send what follows it; returns the fresh lead.

    Raises BotOnly for a transition not in ARTIST_TRANSITIONS, NotNow when it does not make
    sense now (or the lead is no longer in `expected_status`, the one the artist saw), and
    TransitionNotAllowed when the state machine refuses it; either way nothing is written or sent.
    """
    if name not in ARTIST_TRANSITIONS:
        raise BotOnly(f"{name!r} is the bot's own transition, not an artist's")
    with transaction.atomic():
        locked = Lead.objects.select_for_update().select_related("client").get(pk=lead.pk)
        if expected_status and locked.status != expected_status:
            raise NotNow(f"The lead moved to {locked.status} meanwhile", object=locked)
        if name in TRANSITIONS and name not in actions_for(locked) and _fsm_allows(locked, name):
            raise NotNow(f"Can't {name} a lead in {locked.status} now", object=locked)
        lead = transitions.transition(locked, name, reason=reason, actor=actor, already_locked=True)
        if name == "hand_over":
            handover.record_reason(lead, reason or wording.artist_handover_reason("artist"))
        if name == "resume":
            # Back to the bot: the client hears the question they were on again, unless the
            # artist has just written to them (then their reply answers the question).
            resume.clear_reason(lead)
            resume.reask(lead)
        # Approval tells the client the next step (the deposit), the booking steps what follows
        # them: the link, the slots, the confirmation (flows/deposits.py).
        lead = deposits.after_artist_transition(lead, name, actor=actor)
    return lead


def _fsm_allows(lead, name):
    return name in {t.name for t in lead.get_available_status_transitions()}


@dataclass(frozen=True)
class ReplyRoute:
    """How a reply would reach the client now: free text, the approved template, or not at all."""

    free_text: bool
    template_name: str = ""

    @property
    def possible(self):
        return self.free_text or bool(self.template_name)


def reply_route(client, now=None):
    if client.channel != Channel.WHATSAPP or client.in_service_window(now):
        return ReplyRoute(free_text=True)
    template = template_for("")
    return ReplyRoute(free_text=False, template_name=template["name"] if template else "")


def reply(lead, body, *, actor, as_template=None):
    """The artist's own words to the client, through the outbox; raises outbox.OptedOut.

    Outside WhatsApp's 24-hour window only the approved template carries them: the admin
    asks first (`as_template` True or False, OutsideWindow when it can't go); the API
    (`as_template` None) queues it with the template when one is set up.
    """
    template = None
    if not reply_route(lead.client).free_text:
        template = template_for(body)
        if as_template is not None and (template is None or not as_template):
            raise OutsideWindow(f"{lead.client} is outside the 24-hour window")
    with transaction.atomic():
        return outbox.queue_message(
            lead.client, body, lead=lead, purpose="artist_reply", actor=actor, template=template
        )


# -- many leads at once (the lead list's bulk actions) -----------------------------------


@dataclass
class BulkResult:
    changed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (lead, why)


def act_on_many(leads, name, *, reason, actor):
    """`act` on each lead, in a transaction each; reports what changed and what was skipped."""
    if name not in BULK_TRANSITIONS:
        raise BotOnly(f"{name!r} is not a bulk action")
    result = BulkResult()
    for lead in leads:
        try:
            act(lead, name, reason=reason, actor=actor)
        except transitions.TransitionNotAllowed:
            lead.refresh_from_db(fields=["status"])
            result.skipped.append((lead, wording.artist_skipped_because(lead.status)))
        else:
            result.changed.append(lead)
    return result


# -- failures -------------------------------------------------------------------------------


def failures():
    """Failed inbound and dead outbound messages, newest first."""
    return Message.objects.filter(
        Q(direction=Direction.IN, status=MessageStatus.FAILED) | Q(status=MessageStatus.DEAD)
    )


def retry(message_id):
    """Queue a dead outbound message for a fresh round of attempts; False if it can't go now.

    Not for a client who opted out (STOP wins), nor a row that is no longer dead.
    """
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .select_related("client")
            .filter(pk=message_id, direction=Direction.OUT, status=MessageStatus.DEAD)
            .first()
        )
        if message is None or message.client.is_opted_out:
            return False
        message.status = MessageStatus.QUEUED
        message.attempts = 0
        message.next_attempt_at = None
        message.claimed_until = None
        message.updated_at = timezone.now()
        message.save(
            update_fields=["status", "attempts", "next_attempt_at", "claimed_until", "updated_at"]
        )
        # The send task is written with the row; the worker picks it up after commit.
        tasks.send_message.enqueue(message.pk)
    return True
