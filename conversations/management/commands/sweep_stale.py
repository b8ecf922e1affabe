"""Abandon quiet consultations and mark idle leads stale; run by cron (docs/operations.md)."""

import argparse
import sys
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from conversations.flows import sweeps


def hours(value):
    """A threshold flag: a positive number of hours."""
    try:
        number = float(value)
    except ValueError:
        number = -1
    if not number > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of hours, got {value!r}")
    return timedelta(hours=number)


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
        # The bar only on a terminal; its total costs one counting query per rule.
        total = sweeps.count_due(plan, now) if sys.stderr.isatty() else None
        with tqdm(total=total, unit="lead", disable=total is None, file=sys.stderr) as bar:

            def report(candidate, outcome):
                bar.update(1)
                if dry_run:
                    with tqdm.external_write_mode():
                        self.stdout.write(describe(candidate))

            outcomes = sweeps.sweep(
                plan, now=now, dry_run=dry_run, batch_size=batch_size, report=report
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
