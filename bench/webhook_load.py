"""Load benchmark: signed WhatsApp webhooks at gunicorn over loopback, against PostgreSQL.

    DATABASE_URL=... python bench/webhook_load.py --clients 8 --seconds 10

Each client is one WhatsApp user walking through the consultation (a mid-flow answer per
request); every tenth request redelivers the previous message (a duplicate the webhook must
reject). Prints messages/s, latency percentiles, errors, duplicates rejected and the SQL
queries each main path costs. Uses its own database (`<name>_bench`), recreated each run.
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbot.settings")

ANSWERS = [
    "Hi! I'd like a tattoo",
    "A fine-line rose with a bee",
    "Left forearm",
    "10x15cm",
    "Fine line",
    "2",
    "No",
    "https://instagram.com/p/abc",
    "£600",
    "London",
    "UK",
    "@sam.ink",
    "London",
    "Next month",
]


def bench_database_url(base_url):
    parts = urlsplit(base_url)
    name = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path=f"/{name}_bench")), f"{name}_bench"


def prepare_database(url, name):
    """Recreate the bench database, migrate it and seed the default script."""
    import psycopg

    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    conninfo = psycopg.conninfo.make_conninfo(
        **_libpq_params(admin_url),
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_DEBUG", "1")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _libpq_params(url):
    import dj_database_url

    config = dj_database_url.parse(url)
    params = {"dbname": config["NAME"], "user": config["USER"] or "postgres"}
    if config.get("HOST"):
        params["host"] = config["HOST"]
    if config.get("PORT"):
        params["port"] = str(config["PORT"])
    return params


def payload(wa_id, message_id, body, timestamp):
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1234567890987654321",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "447700900000",
                                "phone_number_id": "1122334455667",
                            },
                            "contacts": [{"profile": {"name": "Bench"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": message_id,
                                    "timestamp": str(timestamp),
                                    "type": "text",
                                    "text": {"body": body},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


class Client(threading.Thread):
    """One WhatsApp user sending answers back to back for the length of the run."""

    def __init__(self, index, base_url, secret, deadline):
        super().__init__(daemon=True)
        self.index, self.base_url, self.secret, self.deadline = index, base_url, secret, deadline
        self.latencies, self.errors, self.duplicates, self.sent = [], 0, 0, 0

    def run(self):
        from conversations.channels.whatsapp import sign

        session = requests.Session()
        conversation, step, previous = 0, 0, None
        while time.monotonic() < self.deadline:
            if previous is not None and self.sent % 10 == 9:
                raw = previous  # a provider redelivery
            else:
                if step == len(ANSWERS):
                    conversation, step = conversation + 1, 0
                wa_id = f"44770{self.index:03d}{conversation:04d}"
                message_id = f"wamid.bench.{self.index}.{conversation}.{step}"
                body = ANSWERS[step]
                raw = json.dumps(payload(wa_id, message_id, body, int(time.time()))).encode()
                step += 1
            started = time.perf_counter()
            try:
                response = session.post(
                    f"{self.base_url}/webhooks/whatsapp/",
                    data=raw,
                    headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": sign(raw, self.secret),
                    },
                    timeout=30,
                )
                ok = response.status_code == 200
                if ok and response.json().get("duplicate"):
                    self.duplicates += 1
            except requests.RequestException:
                ok = False
            self.latencies.append(time.perf_counter() - started)
            self.sent += 1
            self.errors += 0 if ok else 1
            previous = raw


def queries_per_path():
    """SQL statements for the three main paths, counted in-process on the bench database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from conversations.channels.base import InboundMessage
    from conversations.flows.inbound import record_inbound

    def message(i, body):
        return InboundMessage(
            channel="whatsapp",
            external_id=f"wamid.count.{i}",
            address="447709999999",
            timestamp=timezone.now(),
            kind="text",
            body=body,
        )

    counts = {}
    for label, msg in [
        ("new lead, first message", message(1, "Hi")),
        ("mid-flow answer", message(2, "A rose")),
        ("duplicate", message(2, "A rose")),
    ]:
        with CaptureQueriesContext(connection) as captured:
            record_inbound(msg)
        counts[label] = len(captured.captured_queries)
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.exit("DATABASE_URL is not set (make bench sets it)")
    url, name = bench_database_url(base)
    prepare_database(url, name)

    from conversations.tests.servers import Gunicorn

    secret = "bench-app-secret"
    server = Gunicorn(url, workers=args.workers, threads=1, env={"WHATSAPP_APP_SECRET": secret})
    server.args[server.args.index("gthread")] = "sync"
    with server:
        deadline = time.monotonic() + args.seconds
        clients = [Client(i, server.url, secret, deadline) for i in range(args.clients)]
        started = time.monotonic()
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        elapsed = time.monotonic() - started

    latencies = sorted(x for c in clients for x in c.latencies)
    sent = sum(c.sent for c in clients)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    print(f"clients={args.clients} seconds={args.seconds:g} gunicorn sync workers={args.workers}")
    print(f"messages: {sent} in {elapsed:.1f} s = {sent / elapsed:.0f} messages/s")
    p50, p95, p99 = (quantiles[k] * 1000 for k in (49, 94, 98))
    print(f"latency ms: p50={p50:.1f} p95={p95:.1f} p99={p99:.1f} max={latencies[-1] * 1000:.1f}")
    print(f"errors: {sum(c.errors for c in clients)}")
    print(f"duplicates rejected: {sum(c.duplicates for c in clients)}")
    for label, count in queries_per_path().items():
        print(f"SQL queries, {label}: {count}")


if __name__ == "__main__":
    main()
