"""Instructions per message, counted by callgrind: the product's webhook against the bare view's.

    DATABASE_URL=... python bench/instructions.py [--consultations 2] [--target product|bare]

Wall-clock rates swing with whatever else the machine runs; instruction counts do not, so this
is the yardstick for the CPU our Python spends on a message. Each target runs in one process
under `valgrind --tool=callgrind`: a WSGI call of the real application (as gunicorn makes it,
minus the HTTP parsing both share) per message, against the bench database, after two warm-up
consultations. Only the instructions inside the call are counted (it runs inside
`sys.call_tracing`, whose C function callgrind collects and dumps on, and which nothing else
calls), so start-up, imports and the building of the payloads are not. PostgreSQL's own work is
another process and is not counted either. Prints the median per message kind. Needs valgrind;
uses `<name>_bench`, as webhook_load.py does.
"""

import argparse
import functools
import importlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.webhook_load import ANSWERS, bench_database_url, payload  # noqa: E402

SECRET = "bench-app-secret"
# The index of each answer's kind in a consultation (the rest are mid-flow answers).
KINDS = {0: "first message", 8: "budget answer", 13: "summary (last answer)", 14: "yes"}
SETTINGS = {"product": "leadbot.settings", "bare": "bench.bare_settings"}
_COUNT_FILE = "cg.out"


def _measured(call):
    """Run `call` inside sys.call_tracing, the C function callgrind collects and dumps on."""
    sys.call_tracing(call, ())


def _measured_result(call):
    result = []
    _measured(lambda: result.append(call()))
    return result[0]


def _environ(raw):
    from conversations.channels.whatsapp import sign

    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/webhooks/whatsapp/",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "facebookexternalua",
        "HTTP_X_HUB_SIGNATURE_256": sign(raw, SECRET),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def inner(consultations):
    """The measured process: warm up, then the kinds in order, one dump each."""
    if os.environ["DJANGO_SETTINGS_MODULE"] == SETTINGS["product"]:
        from leadbot.wsgi import application  # what gunicorn serves
    else:
        from django.core.wsgi import get_wsgi_application

        application = get_wsgi_application()
    statuses = []

    def post(raw):
        def start_response(status, headers, exc_info=None):
            statuses.append(status)

        result = application(_environ(raw), start_response)
        b"".join(result)
        result.close()  # request_finished, as gunicorn does

    def consultation(n, measure):
        wa_id = f"4479{os.getpid() % 1000:03d}{n:05d}"  # not a webhook_load.py client
        previous = None
        for step, body in enumerate(ANSWERS):
            message_id = f"wamid.instr.{os.getpid()}.{n}.{step}"
            raw = json.dumps(payload(wa_id, message_id, body, int(time.time()))).encode()
            (_measured if measure else _call)(lambda raw=raw: post(raw))
            previous = raw
        (_measured if measure else _call)(lambda: post(previous))  # a redelivery

    piece = os.environ.get("BENCH_PIECE")
    if piece:  # one function counted per call instead of the whole request
        module_name, name = piece.split(":")
        module = importlib.import_module(module_name)
        whole = getattr(module, name)
        setattr(module, name, lambda *a, **k: _measured_result(functools.partial(whole, *a, **k)))
    consultation(0, measure=False)
    consultation(1, measure=False)
    for n in range(consultations):
        consultation(2 + n, measure=not piece)
    bad = [status for status in statuses if not status.startswith("200")]
    if bad:
        sys.exit(f"non-200 answers: {bad[:3]}")


def _call(call):
    call()


def measure(target, url, consultations, workdir):
    """Instructions of each measured message of `target`, in order."""
    out = Path(workdir) / target
    out.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": SETTINGS[target],
        # As webhook_load.py's gunicorn: production settings, INFO lines off.
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-secret-key-of-more-than-fifty-characters-long-enough",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WHATSAPP_APP_SECRET": SECRET,
        "OUTBOUND_DRY_RUN": "1",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        "PYTHONHASHSEED": "0",
    }
    command = [
        "valgrind",
        "--tool=callgrind",
        "--collect-atstart=no",
        "--toggle-collect=sys_call_tracing",
        "--dump-after=sys_call_tracing",
        f"--callgrind-out-file={out / _COUNT_FILE}",
        sys.executable,
        __file__,
        "--inner",
        str(consultations),
    ]
    result = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{target}: {result.stderr[-2000:]}")
    counts = []
    for dump in sorted(out.glob(f"{_COUNT_FILE}.*"), key=lambda p: int(p.suffix[1:])):
        for line in dump.read_text().splitlines():
            if line.startswith("summary:"):
                counts.append(int(line.split()[1]))
                break
    return counts


def per_kind(counts, consultations):
    """{kind: median instructions} from the dumps of `consultations` whole consultations."""
    per_consultation = len(ANSWERS) + 1
    kinds = {}
    for n in range(consultations):
        chunk = counts[n * per_consultation : (n + 1) * per_consultation]
        for step, value in enumerate(chunk):
            label = KINDS.get(step, "mid-flow answer") if step < len(ANSWERS) else "duplicate"
            kinds.setdefault(label, []).append(value)
    return {label: statistics.median(values) for label, values in kinds.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consultations", type=int, default=2)
    parser.add_argument("--target", choices=["product", "bare", "both"], default="both")
    parser.add_argument(
        "--piece",
        metavar="MODULE:FUNCTION",
        help="count one function per call instead (its median over every call), e.g."
        " conversations.outbox:queue_message",
    )
    parser.add_argument("--inner", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-prepare", action="store_true", help="reuse the bench database")
    args = parser.parse_args()
    if args.inner is not None:
        inner(args.inner)
        return
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed")
    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.exit("DATABASE_URL is not set")
    url, name = bench_database_url(base)
    if not args.no_prepare:
        prepare(url, name)
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        targets = ["product", "bare"] if args.target == "both" else [args.target]
        if args.piece:
            os.environ["BENCH_PIECE"] = args.piece
            counts = measure(targets[0], url, args.consultations, workdir)
            median = statistics.median(counts) / 1e6
            print(f"{args.piece}: {len(counts)} calls, median {median:.3f} M instructions")
            return
        for target in targets:
            counts = measure(target, url, args.consultations, workdir)
            results[target] = per_kind(counts, args.consultations)
    print_instructions(results)


def prepare(url, name):
    from bench.webhook_load import prepare_database

    prepare_database(url, name)
    from django.db import connection

    from bench.bare_view import SCHEMA

    with connection.cursor() as cursor:
        cursor.execute(SCHEMA)
    connection.close()


def print_instructions(results):
    """One line per message kind: millions of instructions per target, and their ratio."""
    bare_mid = results.get("bare", {}).get("mid-flow answer")
    for label in dict.fromkeys([*KINDS.values(), "mid-flow answer", "duplicate"]):
        product = results.get("product", {}).get(label)
        line = f"instructions/message, {label:<22}"
        if product is not None:
            line += f" product {product / 1e6:6.2f} M"
        bare = results.get("bare", {}).get(label, bare_mid)
        if bare is not None:
            line += f"  bare view {bare / 1e6:5.2f} M"
        if product is not None and bare:
            line += f"  ratio {product / bare:4.1f}x"
        print(line)


if __name__ == "__main__":
    main()
