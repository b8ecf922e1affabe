"""The artist's lead list at 10,000 leads: how long the page takes, and how many queries.

    DATABASE_URL=... python bench/admin_list.py [--leads 10000] [--runs 20]

Seeds the leads (a fifth of them needs-you, the rest qualifying, booked or rejected), each
with its client, the StatusChange that brought it there and three messages, every 50th with
a failed message, then renders the lead list through Django's test client as an Artist-group
user: the default page (needs you first), the needs-you filter and a search in the answers.
Prints the median and the slowest of `--runs` renders and the queries of one. Uses its own
database (`<name>_admin_list`), recreated each run. Not a test: it asserts nothing about speed.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbot.settings")

STATUSES = ["NEEDS_ARTIST_REPLY", "PENDING_APPROVAL", "QUALIFYING", "BOOKED", "REJECTED"]
PAGES = {"needs you first": {}, "needs you only": {"group": "0"}, "search 'koi'": {"q": "koi"}}


def prepare_database(base_url):
    """Recreate `<name>_admin_list` and migrate it."""
    import psycopg

    parts = urlsplit(base_url)
    name = f"{parts.path.lstrip('/') or 'postgres'}_admin_list"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    os.environ.setdefault("DJANGO_DEBUG", "1")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def generate(leads):
    """Bulk-insert clients, leads, status changes, messages and answers with SQL.

    A benchmark fixture, and the only place rows get a status without a transition: 10,000
    leads walked through real transitions would take longer than the page being measured.
    """
    from django.db import connection, transaction

    statuses = "ARRAY[" + ", ".join(f"'{s}'" for s in STATUSES) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO conversations_client "
            "(channel, address, business_user_id, display_name, created_at) "
            "SELECT CASE WHEN g %% 7 = 0 THEN 'sms' ELSE 'whatsapp' END, "
            "(447000000000 + g)::text, '', 'Client ' || g, now() - interval '10 days' "
            "FROM generate_series(1, %s) g",
            [leads],
        )
        cursor.execute(
            "INSERT INTO conversations_lead (client_id, status, current_step, currency, city, "
            "country_code, region, size_category, handover_reason, parse_failures, "
            "created_at, updated_at) "
            f"SELECT id, ({statuses})[1 + id % {len(STATUSES)}], 3, '', '', '', '', "
            "CASE WHEN id % 3 = 0 THEN 'M' ELSE '' END, '', '{}', "
            "now() - interval '5 days', now() - (id % 97) * interval '1 hour' "
            "FROM conversations_client"
        )
        cursor.execute(
            "INSERT INTO conversations_statuschange "
            "(lead_id, from_status, to_status, transition, reason, actor, created_at) "
            "SELECT id, 'QUALIFYING', status, 'bench', 'bench fixture', 'bench', "
            "now() - (id % 97) * interval '1 hour' FROM conversations_lead"
        )
        cursor.execute(
            "INSERT INTO conversations_message (client_id, lead_id, channel, direction, "
            "external_id, kind, body, reply_id, payload, status, attempts, last_error, "
            "created_at, updated_at) "
            "SELECT l.client_id, l.id, 'whatsapp', CASE WHEN n = 2 THEN 'out' ELSE 'in' END, "
            "CASE WHEN n = 2 THEN '' ELSE 'wamid.' || l.id || '.' || n END, 'text', "
            "'Message ' || n || ' about a koi on my arm', '', '{\"actor\": \"bot\"}', "
            "CASE WHEN n = 3 AND l.id % 50 = 0 THEN 'failed' WHEN n = 2 THEN 'sent' "
            "ELSE 'processed' END, 0, '', now() - (l.id % 97) * interval '1 hour' "
            "+ n * interval '1 minute', now() "
            "FROM conversations_lead l, generate_series(1, 3) n"
        )
        cursor.execute(
            "INSERT INTO conversations_answer (lead_id, question_key, text, created_at) "
            "SELECT id, 'idea', CASE WHEN id % 10 = 0 THEN 'A koi fish' ELSE 'A rose' END, "
            "now() FROM conversations_lead"
        )
        cursor.execute("ANALYZE")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("Set DATABASE_URL (the bench uses its own <name>_admin_list database beside it)")
    prepare_database(os.environ["DATABASE_URL"])

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from conversations.tests.artists import make_staff

    started = time.perf_counter()
    generate(args.leads)
    print(f"generated {args.leads} leads in {time.perf_counter() - started:.1f} s")
    browser = Client()
    browser.force_login(make_staff("bench-artist", artist=True))
    url = reverse("admin:conversations_lead_changelist")
    for label, query in PAGES.items():
        assert browser.get(url, query).status_code == 200  # warm: templates, the settings row
        times = []
        for _ in range(args.runs):
            begun = time.perf_counter()
            response = browser.get(url, query)
            times.append((time.perf_counter() - begun) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            browser.get(url, query)
        print(
            f"{label:>16}: median {statistics.median(times):6.1f} ms, "
            f"slowest {max(times):6.1f} ms, {len(queries)} queries"
        )


if __name__ == "__main__":
    main()
