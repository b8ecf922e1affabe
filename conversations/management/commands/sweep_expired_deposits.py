"""Expire deposit links that lapsed unpaid; run by cron (docs/operations.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from conversations.flows import deposits, sweeps
from conversations.management.sweeping import run_with_progress


class Command(BaseCommand):
    help = (
        "Move AWAITING_DEPOSIT leads whose deposit link expired unpaid to DEPOSIT_EXPIRED and "
        "tell each client how to get a fresh link."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List, change nothing")
        parser.add_argument("--batch-size", type=int, default=sweeps.BATCH_SIZE)

    def handle(self, *args, dry_run, batch_size, **options):
        now = timezone.now()
        outcomes = run_with_progress(
            self,
            lambda report: sweeps.sweep_deposits(
                now=now, dry_run=dry_run, batch_size=batch_size, report=report
            ),
            count=lambda: sweeps.count_overdue_deposits(now),
            describe=describe,
            dry_run=dry_run,
        )
        verb = "would expire" if dry_run else "expired"
        self.stdout.write(
            f"sweep_expired_deposits: {verb} {outcomes[deposits.EXPIRED]}, "
            f"skipped (locked) {outcomes[deposits.BUSY]}, "
            f"changed meanwhile {outcomes[deposits.MOVED_ON]}, failed {outcomes[sweeps.FAILED]}"
        )
        if outcomes[sweeps.FAILED]:
            raise CommandError(f"{outcomes[sweeps.FAILED]} lead(s) failed; see the log above")


def describe(candidate):
    since = timezone.localtime(candidate.expires_at)
    return (
        f"would expire the deposit of lead #{candidate.lead_id} "
        f"(link expired {since:%Y-%m-%d %H:%M})\n"
    )
