"""Fault drill: WhatsApp traffic through a bad day, then count what was lost or duplicated.

    DATABASE_URL=... python bench/drill.py --clients 8

gunicorn (2 sync workers, production settings) and `manage.py db_worker` reach PostgreSQL
through a TCP proxy; replies go to a fake Graph API on loopback that records every send.
K clients post signed consultation messages like Meta does: a delivery that is not answered
200 is retried after a short delay until it is (or a deadline passes), and every tenth message
is also redelivered on purpose. Mid-stream the database is refused for 5 s, then stalled for
40 s, then the worker is SIGKILLed while a send is in flight and a new one started. After the
traffic the outbox gets a bounded time to drain; then the database and the fake's log are
compared with what was sent. Exits 1 if a message was lost, an inbound message stored twice,
or a reply left queued. Uses its own database (`<name>_drill`), recreated each run.
"""

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbot.settings")

SECRET = "drill-app-secret-long-enough-for-production-checks"
STARTED = time.monotonic()


def say(text):
    """Progress on stderr, so stdout holds only the numbers."""
    print(f"[{time.monotonic() - STARTED:6.1f}s] {text}", file=sys.stderr, flush=True)


def drill_database_url(base_url):
    parts = urlsplit(base_url)
    name = f"{parts.path.lstrip('/') or 'postgres'}_drill"
    return urlunsplit(parts._replace(path=f"/{name}")), name


def through_proxy(database_url, port):
    """The same database URL, reached at 127.0.0.1:port (the proxy) instead."""
    parts = urlsplit(database_url)
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{port}"))


def drill_timings(options):
    """Leases and the receipt window shortened from minutes, so a dead worker's send comes back
    within the drill (the mechanism is the same; only the waits are scaled down)."""
    seconds = str(options.lease)
    return {
        "OUTBOX_CLAIM_LEASE_SECONDS": seconds,
        "WORKER_TASK_LEASE_SECONDS": seconds,
        "DELIVERY_RECEIPT_WINDOW_SECONDS": seconds,
    }


class Ledger:
    """What Meta knows: every message id it sent, each attempt's outcome, when it got its 200."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = {}  # wamid -> {"first": t, "ok": t or None, "codes": [..]}
        self.attempts = Counter()  # outcome of every delivery attempt
        self.redeliveries = Counter()  # what a deliberate redelivery was answered

    def attempt(self, wamid, started, outcome):
        with self.lock:
            entry = self.messages.setdefault(wamid, {"first": started, "ok": None, "codes": []})
            entry["codes"].append(outcome)
            self.attempts[outcome] += 1
            if outcome == "200" and entry["ok"] is None:
                entry["ok"] = time.monotonic()


class MetaClient(threading.Thread):
    """One WhatsApp user walking through the consultation, delivered at least once."""

    def __init__(self, index, app_url, ledger, stop, options):
        super().__init__(daemon=True)
        self.index, self.app_url, self.ledger, self.stop, self.options = (
            index,
            app_url,
            ledger,
            stop,
            options,
        )
        self.session = requests.Session()

    def run(self):
        from webhook_load import ANSWERS, payload

        conversation, step, sent, previous = 0, 0, 0, None
        while not self.stop.is_set():
            if step == len(ANSWERS):
                conversation, step = conversation + 1, 0
            wa_id = f"447{self.index:03d}{conversation:06d}"
            wamid = f"wamid.drill.{self.index}.{conversation}.{step}"
            raw = json.dumps(payload(wa_id, wamid, ANSWERS[step], int(time.time()))).encode()
            step += 1
            self.deliver(wamid, raw)
            sent += 1
            if sent % 10 == 0 and previous is not None:
                response = self.deliver(previous[0], previous[1], redelivery=True)
                if response is None:
                    self.ledger.redeliveries["never answered 200"] += 1
                elif response.json().get("duplicate"):
                    self.ledger.redeliveries["answered duplicate"] += 1
                else:
                    self.ledger.redeliveries["processed as new"] += 1
            previous = (wamid, raw)
            self.stop.wait(self.options.think)

    def deliver(self, wamid, raw, redelivery=False):
        """POST until a 200 or the message's deadline, like Meta's retries; the 200 or None."""
        from conversations.channels.whatsapp import sign

        deadline = time.monotonic() + self.options.message_deadline
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, SECRET)}
        while True:
            started = time.monotonic()
            response = None
            try:
                response = self.session.post(
                    f"{self.app_url}/webhooks/whatsapp/",
                    data=raw,
                    headers=headers,
                    timeout=self.options.request_timeout,
                )
                outcome = str(response.status_code)
            except requests.Timeout:
                outcome = "timeout"
            except requests.ConnectionError:
                outcome = "connection error"
            if not redelivery:
                self.ledger.attempt(wamid, started, outcome)
            if outcome == "200":
                return response
            if time.monotonic() + self.options.retry_delay > deadline:
                return None
            time.sleep(self.options.retry_delay)


class Drill:
    """The processes, the faults and the final count."""

    def __init__(self, options, database_url, logs):
        from conversations.tests.servers import FakeGraphApi, Gunicorn, TcpProxy, free_port

        self.options, self.logs = options, logs
        self.proxy = TcpProxy(database_url)
        self.fake = FakeGraphApi()
        self.proxy.port = free_port()  # fixed, so the proxy can come back on the same port
        proxied = through_proxy(database_url, self.proxy.port)
        self.server = Gunicorn(
            proxied,
            workers=2,
            threads=1,
            env={"WHATSAPP_APP_SECRET": SECRET, **self.fake.env(), **drill_timings(options)},
        )
        self.server.args[self.server.args.index("gthread")] = "sync"
        self.server.args += ["--error-logfile", str(logs / "gunicorn.log"), "--capture-output"]
        self.workers = []
        self.ledger = Ledger()
        self.stop = threading.Event()
        self.events = []
        self.traffic_started = time.monotonic()

    def event(self, text):
        self.events.append(f"+{time.monotonic() - self.traffic_started:.0f} s {text}")
        say(text)

    def start_worker(self):
        from conversations.tests.servers import DbWorker

        log = open(self.logs / f"worker-{len(self.workers) + 1}.log", "wb")  # noqa: SIM115
        worker = DbWorker(self.server.env, log=log).start()
        self.workers.append(worker)
        return worker

    def run(self):
        with contextlib.ExitStack() as stack:
            self.proxy.start()
            stack.callback(self._stop_proxy)
            stack.enter_context(self.fake)
            stack.callback(self._stop_server)  # also when gunicorn fails to come up
            stack.enter_context(self.server)
            # Like Meta, the fake posts a signed "delivered" status for every send it took.
            self.fake.send_receipts_to(f"{self.server.url}/webhooks/whatsapp/", SECRET)
            stack.callback(self._stop_workers)
            self.start_worker()
            say(f"gunicorn at {self.server.url}, proxy on {self.proxy.port}, logs in {self.logs}")
            clients = [
                MetaClient(i, self.server.url, self.ledger, self.stop, self.options)
                for i in range(self.options.clients)
            ]
            self.traffic_started = time.monotonic()
            for client in clients:
                client.start()
            try:
                self.faults()
            finally:
                self.stop.set()
                self.proxy.resume()
                say("traffic stopping; waiting for in-flight deliveries")
                bound = time.monotonic() + self.options.message_deadline + 10
                for client in clients:
                    client.join(timeout=max(0.1, bound - time.monotonic()))
                stuck_clients = sum(client.is_alive() for client in clients)
                if stuck_clients:
                    self.event(f"{stuck_clients} client(s) still delivering at the bound")
            self.traffic_seconds = time.monotonic() - self.traffic_started
            self.drain()

    def faults(self):
        options = self.options
        self.stop.wait(options.warmup)

        self.event(f"database refused for {options.refuse:g} s")
        self.proxy.stop()
        time.sleep(options.refuse)
        self.proxy.start()  # a new listener on the same port
        self.event("database back")
        self.stop.wait(options.recover)

        self.event(f"database stalled for {options.stall:g} s")
        self.proxy.stall()
        time.sleep(options.stall)
        self.proxy.resume()
        self.event("database resumed")
        self.stop.wait(options.recover)

        worker = self.workers[-1]
        if not worker.alive:
            self.event(f"worker had exited by itself (code {worker.process.returncode})")
            worker = self.start_worker()
        held = self.fake.hold_next()
        landed = held.wait(timeout=30)
        worker.kill()
        self.fake.release()
        self.event(
            "worker SIGKILLed with a send in flight"
            if landed
            else "worker SIGKILLed, but no send arrived within 30 s to kill it during"
        )
        self.start_worker()
        self.event("new worker started")
        self.stop.wait(options.tail)

    def drain(self):
        """Wait, bounded, until no outbound row is left to send (or to resend once)."""
        from django.db.models import Q

        from conversations.models import Message, MessageStatus

        # Unsent, or sent maybe and waiting out the receipt window for its one resend.
        pending = Q(status__in=[MessageStatus.QUEUED, MessageStatus.FAILED]) | Q(
            status=MessageStatus.UNKNOWN, next_attempt_at__isnull=False
        )
        deadline = time.monotonic() + self.options.drain_timeout
        started = time.monotonic()
        last_said = 0.0
        while True:
            left = Message.objects.outbound().filter(pending).count()
            if left == 0:
                say(f"outbox drained in {time.monotonic() - started:.0f} s")
                break
            if time.monotonic() >= deadline:
                say(f"drain timeout: {left} outbound row(s) still to send")
                break
            if time.monotonic() - last_said >= 15:
                say(f"draining: {left} outbound row(s) to send")
                last_said = time.monotonic()
            time.sleep(2)
        self.drain_seconds = time.monotonic() - started
        if not self.workers[-1].alive:
            self.event(f"the last worker exited (code {self.workers[-1].process.returncode})")

    def _stop_workers(self):
        for worker in self.workers:
            worker.stop()
            if worker.log:
                worker.log.close()

    def _stop_server(self):
        process = self.server.process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    def _stop_proxy(self):
        self.proxy.resume()
        self.proxy.stop()


def runs(outcomes):
    """'timeout, 500 x86' for a list of attempt outcomes."""
    grouped = []
    for outcome in outcomes:
        if grouped and grouped[-1][0] == outcome:
            grouped[-1][1] += 1
        else:
            grouped.append([outcome, 1])
    return ", ".join(o if n == 1 else f"{o} x{n}" for o, n in grouped)


def report(drill):
    """Print the numbers, one per line; return how many things failed the acceptance."""
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from conversations.channels.whatsapp import split_text
    from conversations.models import Message, MessageStatus

    ledger, sends = drill.ledger, drill.fake.sends
    inbound = Message.objects.inbound().filter(external_id__startswith="wamid.drill.")
    stored = set(inbound.values_list("external_id", flat=True))
    by_status = Counter(inbound.values_list("status", flat=True))
    doubled = inbound.values("external_id").annotate(rows=Count("id")).filter(rows__gt=1).count()
    sent = ledger.messages
    lost = sorted(w for w in sent if w not in stored)
    answered_then_lost = [w for w in lost if sent[w]["ok"] is not None]
    never_answered = [w for w, entry in sent.items() if entry["ok"] is None]
    times = sorted((e["ok"] - e["first"], w) for w, e in sent.items() if e["ok"] is not None)
    not_200 = {k: v for k, v in ledger.attempts.items() if k not in ("200", "503")}

    outbound = list(
        Message.objects.outbound().select_related("client").order_by("id")
    )  # every reply the app wrote
    out_status = Counter(m.status for m in outbound)
    stuck = [m for m in outbound if m.status in (MessageStatus.QUEUED, MessageStatus.FAILED)]
    expected = Counter()
    for m in outbound:
        for part in split_text(m.body) if not m.payload.get("buttons") else [m.body]:
            expected[(m.client.address, part)] += 1
    received = Counter((s["to"], s["text"]) for s in sends)
    duplicate_replies = sum(max(0, n - expected[key]) for key, n in received.items())
    never_received = sum(max(0, n - received[key]) for key, n in expected.items())
    fake_ids = {s["id"] for s in sends}
    marked_sent_unseen = [
        m for m in outbound if m.external_id.startswith("wamid.") and m.external_id not in fake_ids
    ]
    tasks = Counter(DBTaskResult.objects.values_list("status", flat=True))

    o = drill.options
    print(
        f"drill: clients={o.clients}, gunicorn sync workers=2,"
        f" traffic {drill.traffic_seconds:.0f} s, drain {drill.drain_seconds:.0f} s,"
        f" leases and receipt window {o.lease:g} s"
    )
    for line in drill.events:
        print(f"  {line}")
    print(f"messages sent (unique wamids): {len(sent)}")
    print(f"requests: {sum(ledger.attempts.values())} + redeliveries {dict(ledger.redeliveries)}")
    print(f"processed (inbound rows stored): {len(stored)} {dict(by_status)}")
    print(f"duplicated inbound (wamids stored more than once): {doubled}")
    print(
        f"lost (sent, not stored): {len(lost)}"
        f" (answered 200 but not stored: {len(answered_then_lost)};"
        f" never answered 200: {len(never_answered)})"
    )
    print(f"503s: {ledger.attempts['503']}; other non-200: {dict(not_200)}")
    if times:
        worst, worst_id = times[-1]
        p50 = times[len(times) // 2][0]
        print(f"worst time to 200: {worst:.1f} s ({worst_id}); median {p50 * 1000:.0f} ms")
    print(
        f"replies sent to the fake API: {len(sends)} (held when the worker was killed: "
        f"{sum(s['held'] for s in sends)})"
    )
    print(f"delivery receipts posted by the fake API: {drill.fake.receipts_posted}")
    print(f"outbound rows by status: {dict(out_status)} (total {len(outbound)})")
    print(f"replies stuck queued (queued/failed after the drain): {len(stuck)}")
    print(
        f"duplicate replies (a row's text sent to its recipient more than once): "
        f"{duplicate_replies}"
    )
    print(f"replies the fake API never got (any status): {never_received}")
    print(f"rows marked sent that the fake never got: {len(marked_sent_unseen)}")
    print(f"tasks by status: {dict(tasks)}")
    print(f"worker exit codes: {[w.process.returncode for w in drill.workers]}")
    for number, worker in enumerate(drill.workers, 1):
        if worker.process.returncode not in (0, -signal.SIGKILL, -signal.SIGTERM):
            lines = (drill.logs / f"worker-{number}.log").read_text(errors="replace").splitlines()
            print(f"  worker {number} ended with: {lines[-1] if lines else '(no output)'}")
    log = (drill.logs / "gunicorn.log").read_text(errors="replace")
    print(
        f"gunicorn: WORKER TIMEOUT x{log.count('WORKER TIMEOUT')}, "
        f"tracebacks x{log.count('Traceback')}"
    )

    for wamid in lost[:10]:
        print(f"  lost {wamid}: attempts {runs(sent[wamid]['codes'])}")
    for m in stuck[:10]:
        task_states = list(
            DBTaskResult.objects.filter(args_kwargs__args=[m.pk]).values_list("status", flat=True)
        )
        if m.attempts == 0 and task_states == ["SUCCESSFUL"]:
            why = "its only task ended SUCCESSFUL without claiming it"
        elif "RUNNING" in task_states:
            why = "its task is RUNNING on a worker that is gone"
        else:
            why = "?"
        print(
            f"  stuck row {m.pk} {m.status} attempts={m.attempts} claimed_until={m.claimed_until}"
            f" tasks={task_states} last_error={m.last_error[:120]!r}: {why}"
        )
    for s in (s for s in sends if s["held"]):
        rows = [m for m in outbound if m.client.address == s["to"] and s["text"] in m.body]
        for m in rows:
            print(
                f"  the send in flight at the kill: row {m.pk} now {m.status},"
                f" attempts={m.attempts}, sent to the fake x{received[(s['to'], s['text'])]}"
            )
    # A redelivery processed as new means its first 200 stored nothing: a loss redelivery hid.
    masked_losses = ledger.redeliveries["processed as new"]
    return len(lost) + masked_losses + doubled + len(stuck) + never_received


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--think", type=float, default=0.25, help="pause between messages (s)")
    parser.add_argument("--warmup", type=float, default=8)
    parser.add_argument("--refuse", type=float, default=5, help="database refused (s)")
    parser.add_argument("--stall", type=float, default=40, help="database stalled (s)")
    parser.add_argument("--recover", type=float, default=12, help="calm after each fault (s)")
    parser.add_argument("--tail", type=float, default=10, help="traffic after the kill (s)")
    parser.add_argument("--request-timeout", type=float, default=20)
    parser.add_argument("--retry-delay", type=float, default=1)
    parser.add_argument("--message-deadline", type=float, default=120)
    parser.add_argument("--drain-timeout", type=float, default=180)
    parser.add_argument(
        "--lease", type=float, default=30, help="claim and task leases, receipt window (s)"
    )
    parser.add_argument("--hard-limit", type=int, default=600, help="abort the drill after (s)")
    options = parser.parse_args()

    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.exit("DATABASE_URL is not set (make drill sets it)")

    def abort(signum, frame):
        raise SystemExit(f"drill aborted by {signal.Signals(signum).name}")

    signal.signal(signal.SIGALRM, abort)
    signal.signal(signal.SIGTERM, abort)
    signal.alarm(options.hard_limit)

    from webhook_load import prepare_database

    url, name = drill_database_url(base)
    prepare_database(url, name)
    say(f"database {name} migrated")
    logs = Path(tempfile.mkdtemp(prefix="leadbot-drill-"))
    drill = Drill(options, url, logs)
    drill.run()
    signal.alarm(0)
    failures = report(drill)
    print(f"logs: {logs}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
