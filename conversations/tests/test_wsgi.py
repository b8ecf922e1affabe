"""The WSGI application gunicorn serves: webhooks on a shorter middleware chain, same answers.

Driven as gunicorn drives it (a WSGI call, werkzeug's test client), not through Django's test
client, which builds a handler of its own.
"""

import json

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import get_internal_wsgi_application
from werkzeug.test import Client as WSGIClient

from conversations.tests.conftest import sign_body, text_payload

pytestmark = pytest.mark.django_db(transaction=True)


def served_handler():
    """A fresh handler of the kind settings.WSGI_APPLICATION (leadbot.wsgi) serves."""
    return type(get_internal_wsgi_application())()


def post_webhook(handler, payload, **headers):
    raw = json.dumps(payload).encode()
    return WSGIClient(handler).post(
        "/webhooks/whatsapp/",
        data=raw,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sign_body(raw), **headers},
    )


def comparable(response):
    headers = dict(response.headers)
    headers.pop("X-Request-ID")
    headers.pop("Content-Length")
    return response.status_code, headers


def test_a_webhook_answers_through_the_short_chain_as_through_the_full_one(seeded_script):
    full = post_webhook(WSGIHandler(), text_payload("Hi", wa_id="447700900601"))
    short = post_webhook(served_handler(), text_payload("Hi", wa_id="447700900602"))
    assert comparable(short) == comparable(full)
    assert short.json["outcomes"] == full.json["outcomes"] == ["processed"]


def test_a_refused_webhook_answers_the_same_through_either_chain():
    bad = text_payload("Hi")
    full = post_webhook(WSGIHandler(), bad, **{"X-Hub-Signature-256": "sha256=00"})
    short = post_webhook(served_handler(), bad, **{"X-Hub-Signature-256": "sha256=00"})
    assert comparable(short) == comparable(full)
    assert short.status_code == 403
    assert short.json == full.json


def test_the_short_chain_echoes_the_request_id(seeded_script):
    response = post_webhook(served_handler(), text_payload("Hi"), **{"X-Request-ID": "trace-1234"})
    assert response.headers["X-Request-ID"] == "trace-1234"


def test_other_paths_keep_the_full_chain():
    response = WSGIClient(served_handler()).get("/admin/login/")
    assert response.status_code == 200
    assert "csrftoken" in response.headers.get("Set-Cookie", "")
