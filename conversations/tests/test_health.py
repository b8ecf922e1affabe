"""Liveness and readiness probes."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import close_old_connections, connection

from conversations.models import Direction, Message, MessageStatus
from conversations.tests.servers import TcpProxy, database_url_for


def test_healthz_answers_without_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_readyz_answers_503_with_a_reason_while_the_database_is_unreachable(client):
    proxy = TcpProxy(database_url_for(connection.settings_dict["NAME"])).start()
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(proxy.port))
    try:
        assert client.get("/readyz").status_code == 200
        proxy.stop()
        close_old_connections()  # what every request does first
        down = client.get("/readyz")
        proxy.start()
        close_old_connections()
        back = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)
    assert down.status_code == 503
    assert down.json()["database"] == "down"
    assert down.json()["reason"]
    assert back.status_code == 200


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def message(client, direction, status, *, age=timedelta(0)):
    return Message.objects.create(
        client=client,
        channel=client.channel,
        direction=direction,
        external_id=f"wamid.{uuid.uuid4().hex}" if direction == Direction.IN else "",
        status=status,
        created_at=NOW - age,
    )


def test_readyz_reports_the_age_of_the_oldest_queued_outbound_message(client, make_client):
    someone = make_client()
    message(someone, Direction.OUT, MessageStatus.QUEUED, age=timedelta(seconds=90))
    message(someone, Direction.OUT, MessageStatus.QUEUED, age=timedelta(seconds=5))
    message(someone, Direction.OUT, MessageStatus.SENT, age=timedelta(hours=3))
    with time_machine.travel(NOW, tick=False):
        body = client.get("/readyz").json()
    assert body["oldest_queued_outbound_seconds"] == 90.0


def test_readyz_reports_no_age_when_nothing_is_queued(client, db):
    assert client.get("/readyz").json()["oldest_queued_outbound_seconds"] is None


def test_readyz_counts_the_failed_inbound_messages(client, make_client):
    someone = make_client()
    message(someone, Direction.IN, MessageStatus.FAILED)
    message(someone, Direction.IN, MessageStatus.FAILED)
    message(someone, Direction.IN, MessageStatus.PROCESSED)
    message(someone, Direction.OUT, MessageStatus.FAILED)  # a send waiting for its retry
    assert client.get("/readyz").json()["failed_inbound_messages"] == 2


def test_readyz_takes_two_queries(client, db, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert client.get("/readyz").status_code == 200


def test_readyz_answers_from_the_partial_indexes_on_a_long_transcript(make_client):
    someone = make_client()
    Message.objects.bulk_create(
        Message(
            client=someone,
            channel=someone.channel,
            direction=direction,
            external_id=f"wamid.{n}" if direction == Direction.IN else "",
            status=MessageStatus.PROCESSED if direction == Direction.IN else MessageStatus.SENT,
        )
        for n in range(3000)
        for direction in (Direction.IN, Direction.OUT)
    )
    message(someone, Direction.IN, MessageStatus.FAILED)
    message(someone, Direction.OUT, MessageStatus.QUEUED)
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_message")
        for sql in (
            "SELECT min(created_at) FROM conversations_message "
            "WHERE direction = 'out' AND status = 'queued'",
            "SELECT count(*) FROM conversations_message "
            "WHERE direction = 'in' AND status = 'failed'",
        ):
            cursor.execute(f"EXPLAIN {sql}")
            plans.append(" ".join(row[0] for row in cursor.fetchall()))
    # Either of the outbox's partial indexes answers the age; neither query reads the table.
    assert "message_outbox_" in plans[0] and "Seq Scan" not in plans[0]
    assert "message_inbound_failed" in plans[1] and "Seq Scan" not in plans[1]
