"""Nudge QUALIFYING clients who went quiet, and remind clients of their booked sessions; run by
cron (docs/operations.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from conversations.flows import reminders
from conversations.flows.sweeps import FAILED
from conversations.management.sweeping import hours, run_with_progress


class Command(BaseCommand):
    help = (
        "Send a QUALIFYING client who went quiet a nudge (after StudioSettings.reminder_after) "
        "and a last reminder (after last_reminder_after), at most one of each per lead; and "
        "remind a client of a booked session 48 and 24 hours before it, once each per booking."
    )

    def add_arguments(self, parser):
        parser.add_argument("--after-hours", type=hours, help="Override reminder_after")
        parser.add_argument("--last-after-hours", type=hours, help="Override last_reminder_after")
        parser.add_argument(
            "--abandon-after-hours", type=hours, help="Override abandon_after (no reminder past it)"
        )
        parser.add_argument("--dry-run", action="store_true", help="List, send nothing")
        parser.add_argument("--batch-size", type=int, default=reminders.BATCH_SIZE)

    def handle(self, *args, dry_run, batch_size, **options):
        plan = reminders.windows(
            reminder_after=options["after_hours"],
            last_reminder_after=options["last_after_hours"],
            abandon_after=options["abandon_after_hours"],
        )
        now = timezone.now()
        outcomes = run_with_progress(
            self,
            lambda report: reminders.send_reminders(
                plan, now=now, dry_run=dry_run, batch_size=batch_size, report=report
            ),
            count=lambda: reminders.count_due(plan, now),
            describe=describe,
            dry_run=dry_run,
        )
        sessions = run_with_progress(
            self,
            lambda report: reminders.send_session_reminders(
                now=now, dry_run=dry_run, report=report
            ),
            count=lambda: reminders.count_sessions_due(now),
            describe=describe_session,
            dry_run=dry_run,
        )
        self.stdout.write(summary(outcomes, dry_run))
        self.stdout.write(session_summary(sessions, dry_run))
        outcomes[FAILED] += sessions[FAILED]
        if outcomes[FAILED]:
            raise CommandError(f"{outcomes[FAILED]} reminder(s) failed; see the log above")


def describe(candidate):
    return f"would send the {candidate.window.kind} reminder to lead #{candidate.lead_id}"


def describe_session(candidate):
    return (
        f"would send the {candidate.window.kind} session reminder for booking "
        f"#{candidate.booking_id} to lead #{candidate.lead_id}"
    )


# Why a due reminder was not sent, as the summary lines name them.
NOT_SENT = (
    ("skipped (locked)", reminders.BUSY),
    ("changed meanwhile", reminders.MOVED_ON),
    ("outside the 24-hour window", reminders.OUTSIDE_WINDOW),
    ("already sent", reminders.ALREADY_SENT),
    ("opted out", reminders.OPTED_OUT),
    ("failed", FAILED),
)


def not_sent(outcomes):
    return ", ".join(f"{label} {outcomes[key]}" for label, key in NOT_SENT)


def session_summary(outcomes, dry_run):
    if outcomes[reminders.PAUSED]:
        return "send_reminders: PANIC_MODE is on, no session reminders sent"
    verb = "would send" if dry_run else "sent"
    skipped = not_sent(outcomes)
    return (
        f"send_reminders: {verb} {outcomes['session_48h']} 48-hour and "
        f"{outcomes['session_24h']} 24-hour session reminder(s); {skipped}"
    )


def summary(outcomes, dry_run):
    if outcomes[reminders.PAUSED]:
        return "send_reminders: PANIC_MODE is on, nothing sent"
    if outcomes[reminders.NO_SCRIPT]:
        return "send_reminders: no active questions, nothing sent"
    verb = "would send" if dry_run else "sent"
    skipped = not_sent(outcomes)
    return (
        f"send_reminders: {verb} {outcomes['nudge']} nudge(s), {outcomes['last']} last "
        f"reminder(s); {skipped}"
    )
