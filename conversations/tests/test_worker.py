"""The task worker (`manage.py db_worker`, ours) outlives the database and its dead peers.

Real processes against the test database: the worker reaches PostgreSQL through a TCP proxy
that the test cuts and restores, and sends to a fake Graph API that can hold a request open
while the test SIGKILLs the worker.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from conversations import outbox
from conversations.channels.base import StatusUpdate
from conversations.flows.inbound import record_status_update
from conversations.models import Message, MessageStatus
from conversations.tests.conftest import WINDOW_ADDRESS, in_process_worker
from conversations.tests.servers import DbWorker, FakeGraphApi, Gunicorn, TcpProxy, database_url_for

WORKER_ARGS = ["--no-startup-delay", "--interval", "0.1", "--no-reload"]


def eventually(check, timeout=60):
    """Poll `check` until it is true; False if it never was within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def worker_env(database_url, graph, **settings):
    """Production settings (as gunicorn gets them), real sends to `graph`, and `settings`."""
    env = Gunicorn(database_url).env
    return {**env, **graph.env(), "LOG_LEVEL": "INFO", **{k: str(v) for k, v in settings.items()}}


def all_sent(messages):
    pks = [m.pk for m in messages]
    return Message.objects.filter(pk__in=pks, status=MessageStatus.SENT).count() == len(pks)


@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_a_refused_database_and_sends_what_was_queued(
    client_in_window, tmp_path
):
    name = connection.settings_dict["NAME"]
    proxy = TcpProxy(database_url_for(name)).start()
    through_proxy = f"postgres://postgres@127.0.0.1:{proxy.port}/{name}"
    log_path = tmp_path / "worker.log"
    with (
        FakeGraphApi() as graph,
        log_path.open("w") as log,
        DbWorker(worker_env(through_proxy, graph), args=WORKER_ARGS, log=log) as worker,
    ):
        before = [outbox.queue_message(client_in_window, "before the outage")]
        assert eventually(lambda: all_sent(before))
        pid = worker.process.pid

        proxy.stop()
        during = [outbox.queue_message(client_in_window, f"during {i}") for i in range(3)]
        # Down long enough that a reconnect was refused too, not just the open connection.
        assert eventually(lambda: "Database still unreachable" in log_path.read_text())
        proxy.start()  # the same port: the worker's DATABASE_URL is unchanged
        sent_after_outage = eventually(lambda: all_sent(during))
        alive = worker.alive

    assert sent_after_outage, log_path.read_text()
    assert alive and worker.process.pid == pid
    assert sorted(send["text"] for send in graph.sends) == [
        "before the outage",
        "during 0",
        "during 1",
        "during 2",
    ]
    assert "lost the database" in log_path.read_text()
    assert "reached the database again" in log_path.read_text()


@pytest.mark.django_db(transaction=True)
def test_a_sigkilled_workers_task_is_run_again_once_after_its_lease(client_in_window, tmp_path):
    database_url = database_url_for(connection.settings_dict["NAME"])
    log_path = tmp_path / "workers.log"
    with FakeGraphApi() as graph, log_path.open("w") as log:
        env = worker_env(
            database_url,
            graph,
            OUTBOUND_TIMEOUT_SECONDS=30,
            OUTBOX_CLAIM_LEASE_SECONDS=2,
            WORKER_TASK_LEASE_SECONDS=3,
            DELIVERY_RECEIPT_WINDOW_SECONDS=600,
        )
        arrived = graph.hold_next()
        first = DbWorker(env, args=WORKER_ARGS, log=log).start()
        message = outbox.queue_message(client_in_window, "hello")
        assert arrived.wait(60), log_path.read_text()
        first.kill()  # mid-send: the provider has the request, the worker never hears back
        graph.release()
        [task] = DBTaskResult.objects.all()
        assert task.status == "RUNNING"

        with DbWorker(env, args=WORKER_ARGS, log=log):
            settled = eventually(
                lambda: DBTaskResult.objects.filter(pk=task.pk, status="SUCCESSFUL").exists()
            )

    assert settled, log_path.read_text()
    task.refresh_from_db()
    assert len(task.worker_ids) == 2  # run by the killed worker, then once more
    message.refresh_from_db()
    # The one request reached the provider and its outcome is unknown: no second send inside
    # the receipt window.
    assert len(graph.sends) == 1
    assert (message.status, message.attempts) == (MessageStatus.UNKNOWN, 1)
    assert "never recorded" in message.last_error

    record_status_update(
        StatusUpdate("whatsapp", graph.sends[0]["id"], "delivered", timezone.now(), WINDOW_ADDRESS)
    )
    message.refresh_from_db()
    assert (message.status, message.external_id) == (MessageStatus.DELIVERED, "wamid.fake.1")


@pytest.mark.django_db(transaction=True)
def test_a_send_cut_off_by_the_database_is_not_failed_and_ends_may_have_been_delivered(
    client_in_window, tmp_path
):
    name = connection.settings_dict["NAME"]
    proxy = TcpProxy(database_url_for(name)).start()
    through_proxy = f"postgres://postgres@127.0.0.1:{proxy.port}/{name}"
    log_path = tmp_path / "worker.log"
    with FakeGraphApi() as graph, log_path.open("w") as log:
        env = worker_env(through_proxy, graph, OUTBOX_CLAIM_LEASE_SECONDS=2)
        with DbWorker(env, args=WORKER_ARGS, log=log) as worker:
            arrived = graph.hold_next()
            message = outbox.queue_message(client_in_window, "hello")
            assert arrived.wait(60), log_path.read_text()
            proxy.stop()
            graph.release()  # the provider answers; the worker cannot record it
            assert eventually(lambda: "lost the database" in log_path.read_text())
            proxy.start()
            settled = eventually(
                lambda: Message.objects.filter(pk=message.pk, status="unknown").exists()
            )
            alive = worker.alive

    assert settled, log_path.read_text()
    assert alive
    assert len(graph.sends) == 1
    assert not DBTaskResult.objects.filter(status="FAILED").exists()
    assert "cut short by the database" in log_path.read_text()


def running_since(seconds_ago, worker_ids, client):
    outbox.queue_message(client, "hello")
    task = DBTaskResult.objects.latest("enqueued_at")
    DBTaskResult.objects.filter(pk=task.pk).update(
        status="RUNNING",
        started_at=timezone.now() - timedelta(seconds=seconds_ago),
        worker_ids=worker_ids,
    )
    return task


@pytest.mark.django_db
def test_a_task_running_past_its_lease_is_queued_again(client_in_window):
    task = running_since(61, ["dead-worker"], client_in_window)
    in_process_worker(lease_seconds=60).requeue_abandoned_tasks()
    task.refresh_from_db()
    assert task.status == "READY"


@pytest.mark.django_db
def test_a_task_within_its_lease_is_left_to_its_worker(client_in_window):
    task = running_since(59, ["busy-worker"], client_in_window)
    in_process_worker(lease_seconds=60).requeue_abandoned_tasks()
    task.refresh_from_db()
    assert task.status == "RUNNING"


@pytest.mark.django_db
def test_a_task_that_lost_a_second_worker_fails_instead_of_running_a_third_time(
    client_in_window,
):
    task = running_since(61, ["dead-worker", "second-dead-worker"], client_in_window)
    in_process_worker(lease_seconds=60).requeue_abandoned_tasks()
    task.refresh_from_db()
    assert task.status == "FAILED"
    assert "WorkerLost" in task.exception_class_path
