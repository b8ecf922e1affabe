"""Liveness and readiness probes."""

import pytest
from django.db import close_old_connections, connection

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
