"""The bare view: a signed WhatsApp webhook doing the five statements a message minimally needs.

Lock (upsert) the sender, insert the inbound message (the dedupe), move the sender's step,
insert the answer and the reply, in one transaction through Django's connection. Tables
`bench_*` (SCHEMA, created by bench/webhook_load.py); pgbench runs the same five (PGBENCH_SCRIPT).
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

SCHEMA = """
DROP TABLE IF EXISTS bench_client, bench_message, bench_answer;
CREATE TABLE bench_client (id bigserial PRIMARY KEY, address text UNIQUE NOT NULL,
    step int NOT NULL DEFAULT 0, last_inbound_at timestamptz);
CREATE TABLE bench_message (id bigserial PRIMARY KEY, client_id bigint NOT NULL,
    direction text NOT NULL, external_id text, body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE UNIQUE INDEX bench_message_inbound ON bench_message (external_id) WHERE direction = 'in';
CREATE TABLE bench_answer (id bigserial PRIMARY KEY, client_id bigint NOT NULL,
    message_id bigint NOT NULL, text text NOT NULL);
"""
LOCK = (
    "INSERT INTO bench_client (address) VALUES (%s) ON CONFLICT (address)"
    " DO UPDATE SET address = EXCLUDED.address RETURNING id, step"
)
STORE = (
    "INSERT INTO bench_message (client_id, direction, external_id, body) VALUES (%s, 'in', %s, %s)"
    " ON CONFLICT (external_id) WHERE direction = 'in' DO NOTHING RETURNING id"
)
ADVANCE = "UPDATE bench_client SET step = step + 1, last_inbound_at = now() WHERE id = %s"
ANSWER = "INSERT INTO bench_answer (client_id, message_id, text) VALUES (%s, %s, %s)"
REPLY = "INSERT INTO bench_message (client_id, direction, body) VALUES (%s, 'out', %s)"
PGBENCH_SCRIPT = """\\set cid random(1, 400)
\\set mid random(1, 2000000000)
BEGIN;
INSERT INTO bench_client (address) VALUES ('pg' || :cid) ON CONFLICT (address) DO UPDATE SET address = EXCLUDED.address RETURNING id, step;
INSERT INTO bench_message (client_id, direction, external_id, body) VALUES (:cid, 'in', 'pg.' || :mid || '.' || :client_id, 'A rose') ON CONFLICT (external_id) WHERE direction = 'in' DO NOTHING RETURNING id;
UPDATE bench_client SET step = step + 1, last_inbound_at = now() WHERE address = 'pg' || :cid;
INSERT INTO bench_answer (client_id, message_id, text) VALUES (:cid, :mid, 'A rose');
INSERT INTO bench_message (client_id, direction, body) VALUES (:cid, 'out', 'Next question?');
COMMIT;
"""  # noqa: E501


@csrf_exempt
def webhook(request):
    expected = (
        "sha256="
        + hmac.new(settings.WHATSAPP_APP_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    )
    if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
        return HttpResponse(status=401)
    value = json.loads(request.body)["entry"][0]["changes"][0]["value"]
    message = value["messages"][0]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOCK, [message["from"]])
        client_id, _ = cursor.fetchone()
        cursor.execute(STORE, [client_id, message["id"], message["text"]["body"]])
        stored = cursor.fetchone()
        if stored is None:
            return JsonResponse({"ok": True, "duplicate": True})
        cursor.execute(ADVANCE, [client_id])
        cursor.execute(ANSWER, [client_id, stored[0], message["text"]["body"]])
        cursor.execute(REPLY, [client_id, "Next question?"])
    return JsonResponse({"ok": True, "duplicate": False})


def healthz(request):
    return HttpResponse("ok")


urlpatterns = [path("webhooks/whatsapp/", webhook), path("healthz", healthz)]
