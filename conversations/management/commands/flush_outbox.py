"""Re-enqueue outbound messages whose send task was lost (a worker died mid-send); run by cron."""

from django.core.management.base import BaseCommand

from conversations import outbox


class Command(BaseCommand):
    help = "Enqueue a send for every due outbound message whose claim has lapsed."

    def handle(self, *args, **options):
        ids = outbox.requeue_due()
        self.stdout.write(f"Re-enqueued {len(ids)} outbound message(s).")
