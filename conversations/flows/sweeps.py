"""The stale sweep (`manage.py sweep_stale`): quiet consultations are abandoned, idle leads stale.

A consultation (QUALIFYING, TOUR_CONVERSION_OFFERED) waits on the client alone, so it is quiet
when neither a client message nor a status change happened for `abandon_after`; the bot's own
reminders do not keep it open. A later lead (waiting on approval, the artist, a deposit or a
booking) is idle when no message went either way and its status did not change for
`stale_after`. Message times are the lead's own columns: `last_inbound_at` (the client's
latest message) and `last_outbound_at` (the latest message that actually went out).
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone

from conversations import transitions, wording
from conversations.flows import deposits
from conversations.models import TRANSITIONS, Lead, StatusChange, StudioSettings

logger = logging.getLogger(__name__)

ACTOR = "sweep_stale"
BATCH_SIZE = 500

# What one lead's turn in the sweep came to.
BUSY = "busy"  # locked by another transaction (a webhook, the artist): swept next run
MOVED_ON = "moved_on"  # no longer due once locked: the client wrote, the artist acted
FAILED = "failed"


def quiet_since(*activity):
    """The latest of the lead's creation, its last status change and the `activity` columns.

    PostgreSQL's GREATEST skips NULLs, so a lead with no message yet counts from its creation.
    StatusChange's (lead, created_at, id) index answers the subquery with one index probe.
    """
    last_change = (
        StatusChange.objects.filter(lead=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    return Greatest("created_at", Subquery(last_change), *activity)


@dataclass(frozen=True)
class Rule:
    """One transition of the sweep: which statuses it takes and after how much quiet."""

    transition: str
    activity: tuple[str, ...]
    idle_for: timedelta

    @property
    def statuses(self):
        return TRANSITIONS[self.transition][0]

    def cutoff(self, now):
        return now - self.idle_for

    def due(self, now):
        """Leads this rule applies to at `now`, with their `quiet_since`."""
        return (
            Lead.objects.filter(status__in=self.statuses)
            .annotate(quiet_since=quiet_since(*self.activity))
            .filter(quiet_since__lte=self.cutoff(now))
        )


def rules(*, abandon_after=None, stale_after=None, studio=None):
    """The two rules, thresholds from the studio settings unless given."""
    studio = studio or StudioSettings.load()
    if abandon_after is None:
        abandon_after = studio.abandon_after
    if stale_after is None:
        stale_after = studio.stale_after
    return (
        Rule("abandon", ("last_inbound_at",), abandon_after),
        Rule("mark_stale", ("last_inbound_at", "last_outbound_at"), stale_after),
    )


@dataclass(frozen=True)
class Candidate:
    lead_id: int
    status: str
    quiet_since: datetime
    rule: Rule


def candidates(rule, now, batch_size=BATCH_SIZE):
    """Due leads in id order, read a batch at a time (keyset pagination: memory stays flat)."""
    for lead_id, status, since in rule.due(now).in_id_batches(
        "status", "quiet_since", batch_size=batch_size
    ):
        yield Candidate(lead_id, status, since, rule)


def count_due(plan, now):
    return sum(rule.due(now).count() for rule in plan)


def sweep_one(candidate, now):
    """Apply the rule to one lead in its own short transaction; returns the outcome.

    The lead is locked with SKIP LOCKED and the rule checked again under the lock, so a lead
    someone is handling right now is left alone (BUSY) rather than waited for or clobbered.
    """
    rule = candidate.rule
    with transaction.atomic():
        lead = (
            rule.due(now)
            .filter(pk=candidate.lead_id)
            .select_for_update(skip_locked=True)
            .only("pk")
            .first()
        )
        if lead is not None:
            reason = wording.artist_sweep_reason(rule.transition, rule.idle_for)
            transitions.transition(lead, rule.transition, reason=reason, actor=ACTOR)
            return rule.transition
    # Either another transaction holds the row, or it is no longer due.
    return BUSY if rule.due(now).filter(pk=candidate.lead_id).exists() else MOVED_ON


def sweep(plan, *, now=None, dry_run=False, batch_size=BATCH_SIZE, report=None):
    """Run every rule over its due leads; returns a Counter of outcomes.

    `report(candidate, outcome)` is called after each lead (the command's progress bar and
    dry-run listing). A dry run locks and writes nothing; its outcome is the transition.
    """
    now = now or timezone.now()
    outcomes = Counter()
    for rule in plan:
        for candidate in candidates(rule, now, batch_size):
            outcome = rule.transition if dry_run else _sweep_safely(candidate, now)
            outcomes[outcome] += 1
            if report:
                report(candidate, outcome)
    return outcomes


def isolated(work, log, failure, *args):
    """`work()`, one lead's share of a scheduled run; a lead that breaks is logged on `log`
    with `failure % args` and counted FAILED, so the others still run (the command exits
    non-zero). A lost database is raised: every other lead would fail too."""
    try:
        return work()
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        log.exception(failure, *args)
        return FAILED


def _sweep_safely(candidate, now):
    def work():
        try:
            return sweep_one(candidate, now)
        except transitions.TransitionNotAllowed:
            return MOVED_ON

    return isolated(
        work, logger, "Sweeping lead %s (%s) failed", candidate.lead_id, candidate.status
    )


# -- deposits (manage.py sweep_expired_deposits) ---------------------------------------------

DEPOSIT_ACTOR = "sweep_expired_deposits"


@dataclass(frozen=True)
class OverdueDeposit:
    """A lead still AWAITING_DEPOSIT whose link lapsed unpaid."""

    deposit_id: int
    lead_id: int
    expires_at: datetime


def overdue_deposits(now, batch_size=BATCH_SIZE):
    """Overdue deposits in id order, a batch at a time (memory stays flat)."""
    rows = deposits.overdue(now).in_id_batches("lead_id", "expires_at", batch_size=batch_size)
    for deposit_id, lead_id, expires_at in rows:
        yield OverdueDeposit(deposit_id, lead_id, expires_at)


def count_overdue_deposits(now):
    return deposits.overdue(now).count()


def sweep_deposits(*, now=None, dry_run=False, batch_size=BATCH_SIZE, report=None):
    """expire_deposit every overdue lead (the client told how to get a fresh link); a Counter.

    Each lead in its own short transaction, locked with SKIP LOCKED and checked again.
    """
    now = now or timezone.now()
    outcomes = Counter()
    for candidate in overdue_deposits(now, batch_size):
        outcome = deposits.EXPIRED if dry_run else _expire_safely(candidate, now)
        outcomes[outcome] += 1
        if report:
            report(candidate, outcome)
    return outcomes


def _expire_safely(candidate, now):
    return isolated(
        lambda: deposits.expire_overdue(candidate.deposit_id, now, actor=DEPOSIT_ACTOR),
        logger,
        "Expiring the deposit of lead %s failed",
        candidate.lead_id,
    )
