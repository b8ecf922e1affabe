"""`db_worker` that survives the database: django-tasks-db's worker, plus reconnect and leases.

django-tasks-db's own worker exits on the first lost connection and leaves the task it was
running RUNNING for ever. This one waits for the database with backoff and goes on, and
re-queues (once) a task whose worker died, after WORKER_TASK_LEASE_SECONDS.
"""

import logging
import os
import random
import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import CommandError
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
    transaction,
)
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands import db_worker as upstream
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

logger = logging.getLogger("django_tasks_db")

RECONNECT_FIRST_PAUSE_SECONDS = 0.5
# What a lost or refused connection raises (a bad query raises other DatabaseErrors).
CONNECTION_ERRORS = (OperationalError, InterfaceError)


class WorkerLost(Exception):
    """The task's worker stopped (killed, or lost) mid-task, and had already been re-run once."""


class DatabaseLost(Exception):
    """The connection broke while a task ran; the task is put back once the database is back."""


def _connection_is_broken():
    """True when the error that just happened took the connection with it."""
    connection = connections["default"]
    return connection.connection is None or not connection.is_usable()


class Worker(upstream.Worker):
    """The upstream worker's loop, with the database allowed to go away and come back."""

    def __init__(self, *, lease_seconds, reconnect_max_seconds, **options):
        super().__init__(**options)
        self.lease = timedelta(seconds=lease_seconds)
        self.reconnect_max_seconds = reconnect_max_seconds
        # Look for tasks of dead workers a few times per lease, not on every poll.
        self.reap_every = max(min(lease_seconds / 4, 60), 0.5)
        self._next_reap = 0.0

    def run(self):
        logger.info(
            "Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names)
        )
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # spreads a fleet's first polls
        while self.running:
            try:
                self.requeue_abandoned_tasks()
                task_result = self.next_task()
            except CONNECTION_ERRORS as exc:
                self.wait_for_database(exc)
                continue
            if task_result is not None:
                try:
                    self.run_task(task_result)
                except DatabaseLost as exc:
                    self.wait_for_database(exc.__cause__)
                    self.put_back(task_result)
            elif self.batch:
                logger.info("No more tasks to run for worker_id=%s - exiting.", self.worker_id)
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                logger.info("Ran %d tasks on worker=%s - exiting.", self._run_tasks, self.worker_id)
                return
            close_old_connections()
            if self.running and task_result is None:
                time.sleep(self.interval)

    def task_results(self):
        tasks = DBTaskResult.objects.filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        return tasks

    def next_task(self):
        """Claim the next ready task, as upstream does (a locked row, marked RUNNING)."""
        close_old_connections()
        tasks = self.task_results().ready()
        with exclusive_transaction(tasks.db):
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(self.worker_id)
        return task_result

    def run_task(self, db_task_result):
        """Run it as upstream does, except that a lost connection is not recorded as failure."""
        record_failure = db_task_result.set_failed

        def set_failed(exc):
            if isinstance(exc, CONNECTION_ERRORS) and _connection_is_broken():
                raise DatabaseLost(f"task {db_task_result.id} lost the database") from exc
            record_failure(exc)

        db_task_result.set_failed = set_failed
        super().run_task(db_task_result)

    def put_back(self, task_result):
        """Make a task whose run the database cut short ready again (it did not fail)."""
        try:
            with transaction.atomic():
                updated = DBTaskResult.objects.filter(
                    pk=task_result.pk, status=TaskResultStatus.RUNNING
                ).update(status=TaskResultStatus.READY, run_after=timezone.now())
        except CONNECTION_ERRORS as exc:
            # Lost again already: the lease brings it back instead.
            logger.warning("Could not put task %s back (%s); its lease will", task_result.pk, exc)
            return
        if updated:
            logger.warning("Task %s was cut short by the database; queued again", task_result.pk)

    def requeue_abandoned_tasks(self):
        """Run again, once, each task RUNNING past its lease; a second loss fails it."""
        if time.monotonic() < self._next_reap:
            return
        self._next_reap = time.monotonic() + self.reap_every
        stale_before = timezone.now() - self.lease
        with transaction.atomic():
            stale = (
                self.task_results()
                .filter(status=TaskResultStatus.RUNNING, started_at__lt=stale_before)
                .select_for_update(skip_locked=True)
            )
            for task_result in stale:
                lost_by = task_result.worker_ids[-1] if task_result.worker_ids else "?"
                if len(task_result.worker_ids) <= 1:
                    task_result.status = TaskResultStatus.READY
                    task_result.run_after = timezone.now()
                    task_result.save(update_fields=["status", "run_after"])
                    logger.warning(
                        "Task %s (%s) outlived its lease on worker %s; running it again",
                        task_result.pk,
                        task_result.task_path,
                        lost_by,
                    )
                else:
                    task_result.set_failed(
                        WorkerLost(f"worker {lost_by} stopped mid-task, after a re-run")
                    )
                    logger.error("Task %s lost its worker twice; marked failed", task_result.pk)

    def wait_for_database(self, error):
        """Close the broken connection and try again with backoff until the database answers."""
        pause = RECONNECT_FIRST_PAUSE_SECONDS
        down_since = time.monotonic()
        logger.warning("Worker %s lost the database: %s", self.worker_id, error)
        while self.running:
            connections.close_all()
            time.sleep(pause * random.uniform(0.5, 1))
            try:
                connections["default"].ensure_connection()
            except CONNECTION_ERRORS as exc:
                logger.warning("Database still unreachable (%s); next try in %.1f s", exc, pause)
                pause = min(pause * 2, self.reconnect_max_seconds)
                continue
            logger.warning(
                "Worker %s reached the database again after %.1f s",
                self.worker_id,
                time.monotonic() - down_since,
            )
            return


class Command(upstream.Command):
    help = "Run the database task worker; it outlives database outages and dead peers."

    def handle(
        self,
        *,
        verbosity,
        queue_name,
        interval,
        batch,
        backend_name,
        startup_delay,
        reload,
        max_tasks,
        worker_id,
        exclude_queues,
        **options,
    ):
        self.configure_logging(verbosity)
        if reload and batch:
            logger.warning("--reload and --batch cannot be specified together; not reloading.")
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
            lease_seconds=settings.WORKER_TASK_LEASE_SECONDS,
            reconnect_max_seconds=settings.WORKER_RECONNECT_MAX_SECONDS,
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
