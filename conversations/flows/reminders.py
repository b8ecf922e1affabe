"""Reminders to a quiet client mid-consultation (`manage.py send_reminders`).

A QUALIFYING client who has been silent for `reminder_after` gets a nudge that re-states the
current question, and after `last_reminder_after` a last one, before the abandon sweep at
`abandon_after`. Silence is counted like the sweep counts it: since the client's latest
message or the lead's latest status change (so a consultation resumed after a handover starts
afresh). At most one of each kind per lead: the Reminder row's unique (lead, kind) is written
in the same transaction as the queued message, so a concurrent run rolls back entirely.

A client with a booked session hears about it 48 hours and 24 hours before it starts, once
each per booking by the same rule (bookings' SessionReminder, unique per booking and kind). A
session booked less than 24 hours ahead skips the 48-hour reminder.
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from bookings.models import Availability, Booking, Reservation, SessionReminder
from conversations import outbox, wording
from conversations.flows import script
from conversations.flows.sweeps import BUSY, MOVED_ON, isolated, quiet_since
from conversations.models import (
    Channel,
    Lead,
    Question,
    Reminder,
    Status,
    StudioSettings,
)

logger = logging.getLogger(__name__)

ACTOR = "send_reminders"
BATCH_SIZE = 500
# WhatsApp's customer-service window, as delivery applies it: free text only within 24 hours
# of the client's last message, an approved template after that.

# Outcomes besides the reminder's kind (sent) and the sweep's BUSY / MOVED_ON / FAILED.
OUTSIDE_WINDOW = "outside_window"  # the window closed and no REMINDER_TEMPLATE is set
ALREADY_SENT = "already_sent"  # a concurrent run wrote this reminder first
OPTED_OUT = "opted_out"  # the client opted out between the read and the lock
NO_SCRIPT = "no_script"  # no active question to re-state
PAUSED = "paused"  # PANIC_MODE: the bot says nothing on its own


@dataclass(frozen=True)
class Window:
    """One kind of reminder: due between `after` and `until` of silence."""

    kind: str
    after: timedelta
    until: timedelta

    def due(self, now):
        """QUALIFYING leads of clients still subscribed, silent for [after, until), not reminded."""
        already = Reminder.objects.filter(lead=OuterRef("pk"), kind=self.kind)
        return (
            Lead.objects.filter(status=Status.QUALIFYING, client__opted_out_at__isnull=True)
            .annotate(quiet_since=quiet_since("last_inbound_at"))
            .filter(quiet_since__lte=now - self.after, quiet_since__gt=now - self.until)
            .filter(~Exists(already))
        )


def windows(*, reminder_after=None, last_reminder_after=None, abandon_after=None, studio=None):
    """The nudge and the last reminder; each ends where the next step begins."""
    studio = studio or StudioSettings.load()
    nudge = reminder_after if reminder_after is not None else studio.reminder_after
    last = last_reminder_after if last_reminder_after is not None else studio.last_reminder_after
    abandon = abandon_after if abandon_after is not None else studio.abandon_after
    return (
        Window(Reminder.Kind.NUDGE, nudge, last),
        Window(Reminder.Kind.LAST, last, abandon),
    )


@dataclass(frozen=True)
class Candidate:
    lead_id: int
    quiet_since: datetime
    window: Window


def candidates(window, now, batch_size=BATCH_SIZE):
    """Due leads in id order, a batch at a time (keyset pagination)."""
    for lead_id, since in window.due(now).in_id_batches("quiet_since", batch_size=batch_size):
        yield Candidate(lead_id, since, window)


def count_due(plan, now):
    return sum(window.due(now).count() for window in plan)


def template_for(body):
    """REMINDER_TEMPLATE carrying the reminder as its one body parameter, or None if unset."""
    if not settings.REMINDER_TEMPLATE:
        return None
    # WhatsApp refuses a template parameter with line breaks in it.
    text = " ".join(body.split())[:1000]
    return {
        "name": settings.REMINDER_TEMPLATE,
        "language": settings.REMINDER_TEMPLATE_LANGUAGE,
        "components": [{"type": "body", "parameters": [{"type": "text", "text": text}]}],
    }


def reminder_text(lead, kind, questions, studio):
    question = script.current_prompt(lead, questions, studio)
    if kind == Reminder.Kind.NUDGE:
        return wording.reminder(lead, question, studio.reminder_text)
    return wording.last_reminder(lead, question, studio.last_reminder_text)


def send_one(candidate, now, *, questions, studio):
    """Queue one reminder and its Reminder row in one short transaction; returns the outcome.

    The lead is locked with SKIP LOCKED and checked again under the lock: a client whose
    message is being handled right now is not nudged (BUSY), and is looked at next run.
    """
    window = candidate.window
    try:
        with transaction.atomic():
            lead = (
                window.due(now)
                .filter(pk=candidate.lead_id)
                .select_related("client")
                .select_for_update(skip_locked=True, of=("self",))
                .first()
            )
            if lead is None:
                return BUSY if window.due(now).filter(pk=candidate.lead_id).exists() else MOVED_ON
            body = reminder_text(lead, window.kind, questions, studio)
            # Inside the window the text goes as it is; the template (when set) rides along in
            # case the window closes before the worker sends it. Outside it, the template or
            # nothing.
            template = template_for(body) if lead.client.channel == Channel.WHATSAPP else None
            if template is None and not lead.client.in_service_window(now):
                return OUTSIDE_WINDOW
            message = outbox.queue_message(
                lead.client, body, lead=lead, purpose="reminder", template=template, actor=ACTOR
            )
            Reminder.objects.create(lead=lead, kind=window.kind, message=message, created_at=now)
            return window.kind
    except IntegrityError:
        return ALREADY_SENT  # the unique (lead, kind): a concurrent run sent it; ours rolled back
    except outbox.OptedOut:
        return OPTED_OUT


def send_reminders(plan, *, now=None, dry_run=False, batch_size=BATCH_SIZE, report=None):
    """Send every due reminder; returns a Counter of outcomes (see the constants above).

    A dry run locks and writes nothing; its outcome is the kind that would be sent.
    """
    if settings.PANIC_MODE:
        return Counter({PAUSED: 1})
    now = now or timezone.now()
    questions = list(Question.objects.script())
    if not questions:
        return Counter({NO_SCRIPT: 1})
    studio = StudioSettings.load()
    outcomes = Counter()
    for window in plan:
        for candidate in candidates(window, now, batch_size):
            if dry_run:
                outcome = window.kind
            else:
                outcome = _send_safely(candidate, now, questions=questions, studio=studio)
            outcomes[outcome] += 1
            if report:
                report(candidate, outcome)
    return outcomes


def _send_safely(candidate, now, **context):
    return isolated(
        lambda: send_one(candidate, now, **context),
        logger,
        "Reminder %s for lead %s failed",
        candidate.window.kind,
        candidate.lead_id,
    )


# -- booked sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionWindow:
    """A session reminder: due once a booked session starts within `before`, but not within
    `until` (the next reminder's lead time), so a late booking gets only the nearer one."""

    kind: str
    before: timedelta
    until: timedelta

    def due(self, now):
        """Booked sessions of subscribed clients starting in (now + until, now + before]."""
        already = SessionReminder.objects.filter(booking=OuterRef("pk"), kind=self.kind)
        return Booking.objects.filter(
            state=Reservation.State.BOOKED,
            lead__client__opted_out_at__isnull=True,
            period__startswith__gt=now + self.until,
            period__startswith__lte=now + self.before,
        ).filter(~Exists(already))


SESSION_WINDOWS = (
    SessionWindow(SessionReminder.Kind.TWO_DAYS, timedelta(hours=48), timedelta(hours=24)),
    SessionWindow(SessionReminder.Kind.ONE_DAY, timedelta(hours=24), timedelta(0)),
)


@dataclass(frozen=True)
class SessionCandidate:
    booking_id: int
    lead_id: int
    window: SessionWindow


def session_candidates(window, now):
    for booking_id, lead_id in window.due(now).order_by("pk").values_list("pk", "lead_id"):
        yield SessionCandidate(booking_id, lead_id, window)


def count_sessions_due(now, plan=SESSION_WINDOWS):
    return sum(window.due(now).count() for window in plan)


def session_reminder_text(booking, lead, kind, now, zone):
    return wording.session_reminder(
        lead,
        lead.client.display_name,
        start=booking.start.astimezone(zone),
        today=now.astimezone(zone).date(),
        kind=kind,
    )


def send_session_one(candidate, now, *, zone):
    """Queue one session reminder and its row in one short transaction; returns the outcome.

    The lead is locked with SKIP LOCKED like the other reminders (BUSY: looked at next run),
    and the booking is read again under the lock (MOVED_ON: cancelled or already reminded).
    """
    window = candidate.window
    try:
        with transaction.atomic():
            lead = (
                Lead.objects.filter(pk=candidate.lead_id)
                .select_related("client")
                .select_for_update(skip_locked=True, of=("self",))
                .first()
            )
            if lead is None:
                return BUSY
            booking = window.due(now).filter(pk=candidate.booking_id).first()
            if booking is None:
                return MOVED_ON
            body = session_reminder_text(booking, lead, window.kind, now, zone)
            template = template_for(body) if lead.client.channel == Channel.WHATSAPP else None
            if template is None and not lead.client.in_service_window(now):
                return OUTSIDE_WINDOW
            message = outbox.queue_message(
                lead.client,
                body,
                lead=lead,
                purpose="session_reminder",
                template=template,
                actor=ACTOR,
            )
            SessionReminder.objects.create(
                booking=booking, kind=window.kind, message=message, created_at=now
            )
            return f"session_{window.kind}"
    except IntegrityError:
        return ALREADY_SENT  # the unique (booking, kind): a concurrent run sent it
    except outbox.OptedOut:
        return OPTED_OUT


def send_session_reminders(*, now=None, dry_run=False, plan=SESSION_WINDOWS, report=None):
    """Remind every client whose booked session is 48 or 24 hours away; a Counter of outcomes.

    Sent outcomes are "session_48h" and "session_24h"; the others are send_reminders'.
    """
    if settings.PANIC_MODE:
        return Counter({PAUSED: 1})
    now = now or timezone.now()
    zone = Availability.load().zone
    outcomes = Counter()
    for window in plan:
        for candidate in session_candidates(window, now):
            if dry_run:
                outcome = f"session_{window.kind}"
            else:
                outcome = _send_session_safely(candidate, now, zone=zone)
            outcomes[outcome] += 1
            if report:
                report(candidate, outcome)
    return outcomes


def _send_session_safely(candidate, now, **context):
    return isolated(
        lambda: send_session_one(candidate, now, **context),
        logger,
        "Session reminder %s for booking %s failed",
        candidate.window.kind,
        candidate.booking_id,
    )
