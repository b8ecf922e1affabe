"""Abandon quiet consultations and mark idle leads stale; run by cron (docs/operations.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from conversations.flows import sweeps
from conversations.management.sweeping import hours, run_with_progress


class Command(BaseCommand):
    help = (
        "Abandon QUALIFYING/TOUR_CONVERSION_OFFERED leads with no client message for the abandon "
        "threshold; mark later leads with no activity for the stale threshold STALE."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--abandon-after-hours", type=hours, help="Override StudioSettings.abandon_after"
        )
        parser.add_argument(
            "--stale-after-hours", type=hours, help="Override StudioSettings.stale_after"
        )
        parser.add_argument("--dry-run", action="store_true", help="List, change nothing")
        parser.add_argument("--batch-size", type=int, default=sweeps.BATCH_SIZE)

    def handle(self, *args, dry_run, batch_size, **options):
        plan = sweeps.rules(
            abandon_after=options["abandon_after_hours"],
            stale_after=options["stale_after_hours"],
        )
        now = timezone.now()
        outcomes = run_with_progress(
            self,
            lambda report: sweeps.sweep(
                plan, now=now, dry_run=dry_run, batch_size=batch_size, report=report
            ),
            count=lambda: sweeps.count_due(plan, now),
            describe=describe,
            dry_run=dry_run,
        )
        self.stdout.write(summary(outcomes, dry_run))
        if outcomes[sweeps.FAILED]:
            raise CommandError(f"{outcomes[sweeps.FAILED]} lead(s) failed; see the log above")


def describe(candidate):
    since = timezone.localtime(candidate.quiet_since)
    return (
        f"would {candidate.rule.transition} lead #{candidate.lead_id} "
        f"({candidate.status}, quiet since {since:%Y-%m-%d %H:%M})"
    )


def summary(outcomes, dry_run):
    verb = "would abandon" if dry_run else "abandoned"
    stale = "would mark stale" if dry_run else "marked stale"
    return (
        f"sweep_stale: {verb} {outcomes['abandon']}, {stale} {outcomes['mark_stale']}, "
        f"skipped (locked) {outcomes[sweeps.BUSY]}, changed meanwhile {outcomes[sweeps.MOVED_ON]}, "
        f"failed {outcomes[sweeps.FAILED]}"
    )
