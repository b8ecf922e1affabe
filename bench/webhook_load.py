"""Load benchmark, side by side in one run: the product, a bare Django view, pgbench.

    DATABASE_URL=... python bench/webhook_load.py --clients 8 --seconds 10

The product and the bare view (bench/bare_view.py: the five minimum statements, its own
settings) run under gunicorn with leadbot/gunicorn.conf.py, against signed WhatsApp webhooks
over loopback. Each client is one WhatsApp user walking through whole consultations (first
message, every step, the summary, yes); every tenth request redelivers the previous message (a
duplicate the webhook must reject). pgbench runs the bare view's statements at PostgreSQL.
Prints each rate, p50/p95/p99, errors, the ratios, gunicorn CPU per message (from /proc) and
the statements each message kind sends PostgreSQL (counted on the wire, libpq's trace), then
the instructions per message kind of both views (bench/instructions.py, under callgrind: the
numbers that do not move with the machine's load). Uses its own database (`<name>_bench`),
recreated each run.
"""

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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
    "Yes",
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


def statements_per_kind():
    """Statements PostgreSQL receives per message kind, in-process on the bench database."""
    from django.db import connection, transaction
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

    def on_the_wire(inbound):
        connection.ensure_connection()
        pgconn = connection.connection.pgconn
        with tempfile.TemporaryFile() as trace:
            pgconn.trace(trace.fileno())
            record_inbound(inbound)
            pgconn.untrace()
            trace.seek(0)
            lines = trace.read().decode(errors="replace").splitlines()
        fields = (line.split("\t") for line in lines)
        # A simple query or an extended-protocol Execute (a one-off Parse of a statement being
        # prepared executes nothing).
        return sum(
            1 for f in fields if len(f) >= 4 and f[1] == "F" and f[3] in ("Query", "Execute")
        )

    assert not transaction.get_connection().in_atomic_block
    # Another client first: a worker that has served traffic has the script cached.
    warm = message("warm", "Hi")
    record_inbound(dataclasses.replace(warm, address="447709999998"))
    counts = {}
    for i, body in enumerate(ANSWERS):
        label = {0: "first message", 8: "budget answer", 13: "summary (last answer)"}.get(
            i, "mid-flow answer"
        )
        if i == len(ANSWERS) - 1:
            label = "confirmation (yes)"
        counts.setdefault(label, on_the_wire(message(i, body)))
    counts["duplicate"] = on_the_wire(message(1, ANSWERS[1]))
    return counts


def instructions_per_kind(base_url):
    """bench/instructions.py's table: repeatable where the rates above are not."""
    if not shutil.which("valgrind"):
        print("instructions skipped: valgrind is not installed")
        return
    command = [sys.executable, str(REPO / "bench" / "instructions.py"), "--consultations", "1"]
    result = subprocess.run(
        [*command, "--no-prepare"],
        env={**os.environ, "DATABASE_URL": base_url},
        capture_output=True,
        text=True,
    )
    print(result.stdout.rstrip() or f"instructions failed: {result.stderr.strip()[-300:]}")


def cpu_seconds(root_pid):
    """User + system CPU of a process and its children so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [root_pid]
    children = Path(f"/proc/{root_pid}/task/{root_pid}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(stat[11]) + int(stat[12])  # utime, stime
    return total / ticks


def summary_of_clients(name, clients, elapsed, cpu):
    """The summary line of one target, from every client's latencies and counts."""
    return summary(
        name,
        [x for c in clients for x in c.latencies],
        sum(c.sent for c in clients),
        sum(c.errors for c in clients),
        elapsed,
        cpu,
    )


def summary(name, latencies, sent, errors, elapsed, cpu=None):
    latencies = sorted(latencies)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    p50, p95, p99 = (quantiles[k] * 1000 for k in (49, 94, 98))
    rate = sent / elapsed if elapsed else 0
    line = (
        f"{name:<12} {rate:7.0f} msg/s  p50={p50:5.1f} p95={p95:5.1f} p99={p99:5.1f} ms"
        f"  errors={errors}"
    )
    if cpu is not None and sent:
        line += f"  gunicorn CPU/message={cpu / sent * 1000:.2f} ms"
    print(line)
    return {"rate": rate, "p99": p99, "errors": errors}


def drive(server, secret, args):
    """8 clients against a running server; returns (clients, elapsed, CPU seconds used)."""
    cpu_before = cpu_seconds(server.process.pid)
    deadline = time.monotonic() + args.seconds
    clients = [Client(i, server.url, secret, deadline) for i in range(args.clients)]
    started = time.monotonic()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    elapsed = time.monotonic() - started
    return clients, elapsed, cpu_seconds(server.process.pid) - cpu_before


def gunicorn(url, secret, workers, app="leadbot.wsgi", env=None):
    from conversations.tests.servers import Gunicorn

    server = Gunicorn(url, env={"WHATSAPP_APP_SECRET": secret, **(env or {})})
    server.args = [
        server.args[0],
        app,
        "--config",
        "leadbot/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{server.port}",
        "--workers",
        str(workers),
    ]
    server.env.update(WEB_ACCESS_LOG="", WEB_LOG_LEVEL="warning")
    return server


def run_pgbench(url, args):
    """pgbench running the bare view's five statements; (rate, latencies, errors) or None."""
    from bench.bare_view import PGBENCH_SCRIPT

    if not shutil.which("pgbench"):
        print("pgbench      skipped: not installed (Debian: apt-get install postgresql-client)")
        return None
    params = _libpq_params(url)
    with tempfile.TemporaryDirectory() as workdir:
        script = Path(workdir) / "five.sql"
        script.write_text(PGBENCH_SCRIPT)
        command = ["pgbench", "-n", "-M", "prepared", "-c", str(args.clients), "-j", "2"]
        command += ["-T", str(int(args.seconds)), "-l", "--log-prefix", f"{workdir}/log"]
        command += ["-h", params.get("host", "127.0.0.1"), "-p", params.get("port", "5432")]
        command += ["-U", params["user"], "-f", str(script), params["dbname"]]
        result = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
        latencies = []
        for log in Path(workdir).glob("log*"):
            for line in log.read_text().splitlines():
                latencies.append(int(line.split()[2]) / 1e6)
    failed = 0
    for line in result.stdout.splitlines():
        if line.startswith("number of failed transactions"):
            failed = int(line.split(":")[1].split()[0])
    if result.returncode != 0:
        print("pgbench      failed:", result.stderr.strip()[-300:])
        return None
    return latencies, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--no-instructions",
        action="store_true",
        help="skip the instruction counts (bench/instructions.py under callgrind, ~1 min)",
    )
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.exit("DATABASE_URL is not set (make bench sets it)")
    url, name = bench_database_url(base)
    prepare_database(url, name)
    from django.db import connection

    from bench.bare_view import SCHEMA

    with connection.cursor() as cursor:
        cursor.execute(SCHEMA)
    connection.close()

    secret = "bench-app-secret"
    load = os.getloadavg()
    print(
        f"clients={args.clients} seconds={args.seconds:g} gunicorn sync workers={args.workers}"
        f"  load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    results = {}
    with gunicorn(url, secret, args.workers) as server:
        clients, elapsed, cpu = drive(server, secret, args)
    results["product"] = summary_of_clients("product", clients, elapsed, cpu)
    duplicates = sum(c.duplicates for c in clients)
    bare_env = {"DJANGO_SETTINGS_MODULE": "bench.bare_settings"}
    bare_app = "django.core.wsgi:get_wsgi_application()"
    with gunicorn(url, secret, args.workers, app=bare_app, env=bare_env) as server:
        clients, elapsed, cpu = drive(server, secret, args)
    results["bare view"] = summary_of_clients("bare view", clients, elapsed, cpu)
    pgbench = run_pgbench(url, args)
    if pgbench is not None:
        latencies, failed = pgbench
        results["pgbench"] = summary("pgbench", latencies, len(latencies), failed, args.seconds)
    product, bare = results["product"], results["bare view"]
    print(f"duplicates rejected by the product: {duplicates}")
    print(f"product / bare view: {product['rate'] / bare['rate']:.2f}")
    if "pgbench" in results:
        print(f"product / pgbench: {product['rate'] / results['pgbench']['rate']:.2f}")
        print(f"bare view / pgbench: {bare['rate'] / results['pgbench']['rate']:.2f}")
    for label, count in statements_per_kind().items():
        print(f"statements on the wire, {label}: {count}")
    if not args.no_instructions:
        instructions_per_kind(base)
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
