"""Re-enqueue due outbound messages left with no send task; run by cron as a safety net.

The worker itself re-runs the task of a worker that died (WORKER_TASK_LEASE_SECONDS); this
catches rows whose task was lost some other way.
"""

from django.core.management.base import BaseCommand

from conversations import tasks


class Command(BaseCommand):
    help = "Enqueue a send for every due outbound message whose claim has lapsed."

    def handle(self, *args, **options):
        ids = tasks.requeue_due()
        self.stdout.write(f"Re-enqueued {len(ids)} outbound message(s).")
