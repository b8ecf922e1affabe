"""A database that stops answering: every request still gets an answer, and nothing is lost.

Real gunicorn with sync workers and its default 30 s timeout, as `scripts/run.sh` runs it, in
front of a TCP proxy that keeps the connections open but forwards nothing (a hung network or
server, where a server-side statement_timeout never fires).
"""

import json
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from django.db import connection, transaction

from conversations.models import Answer, Client, Message
from conversations.tests.conftest import sign_body, text_payload
from conversations.tests.servers import Gunicorn, TcpProxy, database_url_for
from leadbot.postgres.base import DeadlineConnection

pytestmark = pytest.mark.django_db(transaction=True)

WA_ID = "447700900888"
# Longer than any bound the settings give a request, shorter than never.
PATIENCE = 60


def post(base_url, payload):
    raw = json.dumps(payload).encode()
    return requests.post(
        f"{base_url}/webhooks/whatsapp/",
        data=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign_body(raw)},
        timeout=PATIENCE,
    )


def sync_gunicorn(database_url, env=None):
    """Two sync workers, gunicorn's default 30 s timeout spelled out (scripts/run.sh)."""
    server = Gunicorn(database_url, workers=2, threads=1, env=env)
    server.args[server.args.index("gthread")] = "sync"
    server.args += ["--timeout", "30"]
    return server


@pytest.fixture
def proxy():
    proxy = TcpProxy(database_url_for(connection.settings_dict["NAME"])).start()
    yield proxy
    proxy.resume()
    proxy.stop()


def through(proxy):
    return f"postgres://postgres@127.0.0.1:{proxy.port}/{connection.settings_dict['NAME']}"


def test_a_stalled_database_answers_503_while_healthz_answers_and_the_retry_is_processed_once(
    seeded_script, proxy
):
    with sync_gunicorn(through(proxy)) as app, ThreadPoolExecutor(max_workers=1) as pool:
        assert post(app.url, text_payload("Hi", wa_id=WA_ID, timestamp=1_700_000_000)).ok
        answer = text_payload("A koi carp", wa_id=WA_ID, message_id="wamid.stalled")

        proxy.stall()
        stalled = pool.submit(post, app.url, answer)
        health = [requests.get(f"{app.url}/healthz", timeout=PATIENCE) for _ in range(3)]
        still_waiting_on_the_database = not stalled.done()
        down = stalled.result()
        ready = requests.get(f"{app.url}/readyz", timeout=PATIENCE)
        proxy.resume()
        retried = post(app.url, answer)
        again = post(app.url, answer)

    assert [r.status_code for r in health] == [200, 200, 200]
    assert still_waiting_on_the_database
    assert down.status_code == 503
    assert down.headers["Retry-After"] == "30"
    assert ready.status_code == 503
    assert ready.json()["database"] == "down"
    assert retried.status_code == 200
    assert retried.json()["outcomes"] == ["processed"]
    assert again.json()["duplicate"] is True
    assert Message.objects.filter(external_id="wamid.stalled").count() == 1
    assert Answer.objects.filter(question_key="idea", text="A koi carp").count() == 1


def test_a_statement_stuck_behind_a_lock_is_cancelled_by_the_server_and_answered_503(
    seeded_script,
):
    database_url = database_url_for(connection.settings_dict["NAME"])
    quick = {"DATABASE_STATEMENT_TIMEOUT": "2"}
    with sync_gunicorn(database_url, env=quick) as app:
        assert post(app.url, text_payload("Hi", wa_id=WA_ID, timestamp=1_700_000_000)).ok
        answer = text_payload("A koi carp", wa_id=WA_ID, message_id="wamid.locked")
        with transaction.atomic():
            Client.objects.select_for_update().get(address=WA_ID)  # held past the timeout
            blocked = post(app.url, answer)
        retried = post(app.url, answer)

    assert blocked.status_code == 503
    assert blocked.headers["Retry-After"]
    assert retried.json()["outcomes"] == ["processed"]
    assert Message.objects.filter(external_id="wamid.locked").count() == 1


def test_a_query_to_a_silent_server_raises_operational_error_and_closes_the_connection(proxy):
    conninfo = f"host=127.0.0.1 port={proxy.port} dbname={connection.settings_dict['NAME']}"
    conn = DeadlineConnection.connect(
        conninfo, user="postgres", autocommit=True, connect_timeout=3, wait_timeout=2
    )
    assert conn.execute("SELECT 1").fetchone() == (1,)

    proxy.stall()
    with pytest.raises(psycopg.OperationalError, match="did not answer within 2 s"):
        conn.execute("SELECT 1")

    assert conn.closed


def test_the_app_connects_through_the_deadline_backend_with_the_documented_timeouts(settings):
    options = settings.DATABASES["default"]["OPTIONS"]
    assert settings.DATABASES["default"]["ENGINE"] == "leadbot.postgres"
    assert (options["connect_timeout"], options["wait_timeout"]) == (3, 15.0)
    assert options["options"] == "-c statement_timeout=10000"
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("10s",)
    assert isinstance(connection.connection, DeadlineConnection)
