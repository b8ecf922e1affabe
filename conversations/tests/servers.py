"""Real servers for tests: the app under gunicorn, and a TCP proxy that can cut the database off."""

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import requests

REPO = Path(__file__).resolve().parents[2]


def database_url_for(name):
    """The environment's DATABASE_URL, pointed at database `name` (the test database)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """The app served by gunicorn on loopback, against the given database, as in production."""

    def __init__(self, database_url, *, workers=2, threads=4, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "gunicorn-test-secret-key-of-more-than-32-characters",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "WHATSAPP_APP_SECRET": "local-app-secret",
            "WHATSAPP_VERIFY_TOKEN": "local-verify-token",
            "OUTBOUND_DRY_RUN": "1",
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.args = [
            str(Path(sys.executable).parent / "gunicorn"),
            "leadbot.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ]
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(self.args, cwd=REPO, env=self.env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not come up in 30 s")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class TcpProxy:
    """Forward 127.0.0.1:port to the database; `stop()` cuts every connection like an outage.

    `stall()` keeps every connection open but forwards nothing (a hung server or network)
    until `resume()`.
    """

    def __init__(self, database_url):
        parts = urlsplit(database_url)
        host = unquote(parts.hostname or "") if parts.hostname else ""
        # dj-database-url style unix sockets: a percent-encoded directory as the host.
        raw_host = unquote(parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0])
        if raw_host.startswith("/"):
            self.target = ("unix", os.path.join(raw_host, f".s.PGSQL.{parts.port or 5432}"))
        else:
            self.target = ("tcp", (host or "127.0.0.1", parts.port or 5432))
        self.port = None
        self._listener = None
        self._thread = None
        self._running = False
        self._stalled = threading.Event()
        self._sockets = set()
        self._lock = threading.Lock()

    def _connect_target(self):
        kind, address = self.target
        sock = socket.socket(socket.AF_UNIX if kind == "unix" else socket.AF_INET)
        sock.connect(address)
        return sock

    def start(self):
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port or 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._running = True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def stall(self):
        """Hold every byte in both directions; connections stay open and new ones are taken."""
        self._stalled.set()

    def resume(self):
        self._stalled.clear()

    def stop(self):
        """Refuse new connections and drop the open ones."""
        self._running = False
        self._listener.close()
        self._thread.join(timeout=5)
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def _serve(self):
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        peers = {}
        while self._running:
            try:
                events = selector.select(timeout=0.1)
            except (OSError, ValueError):
                break
            for key, _ in events:
                sock = key.fileobj
                if self._stalled.is_set() and sock is not self._listener:
                    # Leave the bytes unread: the kernel buffers them until resume().
                    time.sleep(0.01)
                    continue
                if sock is self._listener:
                    try:
                        client, _ = self._listener.accept()
                        upstream = self._connect_target()
                    except OSError:
                        continue
                    with self._lock:
                        self._sockets.update({client, upstream})
                    peers[client], peers[upstream] = upstream, client
                    selector.register(client, selectors.EVENT_READ)
                    selector.register(upstream, selectors.EVENT_READ)
                    continue
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                other = peers.get(sock)
                if data and other is not None:
                    try:
                        other.sendall(data)
                        continue
                    except OSError:
                        pass
                for end in (sock, other):
                    if end is not None and end in peers:
                        selector.unregister(end)
                        peers.pop(end, None)
                        end.close()
        selector.close()


class DbWorker:
    """`manage.py db_worker` in its own process group, so a drill can SIGKILL it mid-task."""

    def __init__(self, env, *, args=(), log=None):
        self.env, self.args, self.log = env, list(args), log
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", *self.args],
            cwd=REPO,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT if self.log else None,
            start_new_session=True,
        )
        return self

    @property
    def alive(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        """SIGKILL the whole group: no signal handler, no cleanup, like a lost machine."""
        self._signal_group(signal.SIGKILL)

    def stop(self):
        self._signal_group(signal.SIGTERM)

    def _signal_group(self, signum):
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signum)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class FakeGraphApi:
    """A local WhatsApp Cloud API that records every send and answers like Graph does.

    `hold_next()` keeps the next send open (recorded as received, not yet answered) until
    `release()`, so a drill can kill the sender while a request is in flight.
    `send_receipts_to(webhook, secret)` makes it post a signed "delivered" status for every send
    it accepted, as Meta does — also for a send whose sender never read the answer.
    """

    def __init__(self, phone_number_id="1122334455667", version="v21.0"):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.phone_number_id, self.version = phone_number_id, version
        self.sends = []  # dicts: to, text, id, held, at (time.monotonic())
        self._lock = threading.Lock()
        self._held = None
        self._release = threading.Event()
        self._receipts = None  # (webhook url, app secret) once send_receipts_to() is called
        self.receipts_posted = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path != f"/{api.version}/{api.phone_number_id}/messages":
                    return self._answer(404, {"error": {"message": "unknown path", "code": 100}})
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._answer(400, {"error": {"message": "bad json", "code": 100}})
                send, held = api._record(body)
                if held is not None:
                    held.set()
                    api._release.wait(timeout=60)
                to = send["to"]
                self._answer(
                    200,
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": to, "wa_id": to}],
                        "messages": [{"id": send["id"]}],
                    },
                )
                api._post_receipt(send)

            def _answer(self, status, data):
                out = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:
                    pass  # the sender is gone (killed mid-send)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/{version}"
        self._thread = None

    def env(self, access_token="drill-access-token"):
        """The settings that point the app at this fake and turn real sending on."""
        return {
            "OUTBOUND_DRY_RUN": "0",
            "WHATSAPP_API_BASE": self.url,
            "WHATSAPP_ACCESS_TOKEN": access_token,
            "WHATSAPP_PHONE_NUMBER_ID": self.phone_number_id,
        }

    def send_receipts_to(self, webhook_url, app_secret):
        self._receipts = (webhook_url, app_secret)

    def _post_receipt(self, send, attempts=30):
        """Deliver the send's status webhook at least once, retrying like Meta (bounded)."""
        if self._receipts is None:
            return
        from conversations.channels.whatsapp import sign

        url, secret = self._receipts
        status = {
            "id": send["id"],
            "status": "delivered",
            "timestamp": str(int(time.time())),
            "recipient_id": send["to"],
        }
        raw = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": "1",
                        "changes": [
                            {
                                "field": "messages",
                                "value": {
                                    "messaging_product": "whatsapp",
                                    "metadata": {"phone_number_id": self.phone_number_id},
                                    "statuses": [status],
                                },
                            }
                        ],
                    }
                ],
            }
        ).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, secret)}
        for _ in range(attempts):
            try:
                if requests.post(url, data=raw, headers=headers, timeout=20).status_code == 200:
                    with self._lock:
                        self.receipts_posted += 1
                    return
            except requests.RequestException:
                pass
            time.sleep(1)

    def _record(self, body):
        kind = body.get("type")
        if kind == "interactive":
            text = (body.get("interactive") or {}).get("body", {}).get("text", "")
        elif kind == "template":
            text = f"template:{(body.get('template') or {}).get('name', '')}"
        else:
            text = (body.get("text") or {}).get("body", "")
        with self._lock:
            held, self._held = self._held, None
            send = {
                "to": body.get("to") or body.get("recipient") or "",
                "text": text,
                "id": f"wamid.fake.{len(self.sends) + 1}",
                "held": held is not None,
                "at": time.monotonic(),
            }
            self.sends.append(send)
        return send, held

    def hold_next(self):
        """Hold the next send open; the returned event is set once it has arrived."""
        held = threading.Event()
        self._release.clear()
        with self._lock:
            self._held = held
        return held

    def release(self):
        with self._lock:
            self._held = None
        self._release.set()

    def __enter__(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.release()
        self._server.shutdown()
        self._server.server_close()
