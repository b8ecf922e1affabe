"""The stale sweep at scale: 100,000 due leads swept with flat memory.

    DATABASE_URL=... python bench/sweep.py [--leads 100000] [--batch-size 500]

Generates the leads (half QUALIFYING and quiet for three days, half PENDING_APPROVAL and idle
for four), each with its client and the StatusChange that brought it there, then runs the real
sweep (`conversations.flows.sweeps`, one transaction per lead) and prints the time and the
peak RSS after every 10,000 leads. Uses its own database (`<name>_sweep`), recreated each run.
Not a test: it asserts nothing about speed.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbot.settings")

REPORT_EVERY = 10_000


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def prepare_database(base_url):
    """Recreate `<name>_sweep` and migrate it; returns its URL."""
    import psycopg

    parts = urlsplit(base_url)
    name = f"{parts.path.lstrip('/') or 'postgres'}_sweep"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(parts._replace(path=f"/{name}"))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_DEBUG", "1")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False  # no query log growing in memory during the sweep
    call_command("migrate", verbosity=0)
    return url


def generate(leads):
    """Bulk-insert the clients, leads and status changes with SQL.

    A benchmark fixture path, and the only place rows get a status without a transition:
    `Lead.status` is FSMField(protected=True), so 100,000 leads walked through real transitions
    would take longer than the sweep being measured. The rows are what those transitions would
    have written (the status plus its StatusChange), in one INSERT … SELECT each.
    """
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO conversations_client "
            "(channel, address, business_user_id, display_name, created_at) "
            "SELECT 'whatsapp', (447000000000 + g)::text, '', '', now() - interval '10 days' "
            "FROM generate_series(1, %s) g",
            [leads],
        )
        cursor.execute(
            "INSERT INTO conversations_lead (client_id, status, current_step, currency, city, "
            "country_code, region, size_category, handover_reason, parse_failures, "
            "last_inbound_at, created_at, updated_at) "
            "SELECT id, CASE WHEN id % 2 = 0 THEN 'QUALIFYING' ELSE 'PENDING_APPROVAL' END, "
            "3, '', '', '', '', '', '', '{}', "
            "now() - CASE WHEN id % 2 = 0 THEN interval '3 days' ELSE interval '4 days' END, "
            "now() - interval '5 days', now() - interval '4 days' "
            "FROM conversations_client"
        )
        cursor.execute(
            "INSERT INTO conversations_statuschange "
            "(lead_id, from_status, to_status, transition, reason, actor, created_at) "
            "SELECT id, CASE WHEN status = 'QUALIFYING' THEN 'NEW' ELSE 'QUALIFYING' END, "
            "status, CASE WHEN status = 'QUALIFYING' THEN 'start_qualifying' "
            "ELSE 'complete_qualification' END, 'bench fixture', 'bench', "
            "now() - interval '4 days' FROM conversations_lead"
        )
        cursor.execute("ANALYZE")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("Set DATABASE_URL (the bench uses its own <name>_sweep database beside it)")
    prepare_database(os.environ["DATABASE_URL"])

    from conversations.flows import sweeps
    from conversations.models import Lead, Status

    started = time.perf_counter()
    generate(args.leads)
    print(f"generated {args.leads} due leads in {time.perf_counter() - started:.1f} s")
    print(f"peak RSS before the sweep: {peak_rss_mb():.1f} MB")

    plan = sweeps.rules()
    swept = 0
    chunk_started = time.perf_counter()
    sweep_started = chunk_started

    def report(candidate, outcome):
        nonlocal swept, chunk_started
        swept += 1
        if swept % REPORT_EVERY == 0:
            now = time.perf_counter()
            print(
                f"{swept:>7} leads: {now - chunk_started:5.2f} s for the last {REPORT_EVERY}, "
                f"peak RSS {peak_rss_mb():.1f} MB",
                flush=True,
            )
            chunk_started = now

    outcomes = sweeps.sweep(plan, batch_size=args.batch_size, report=report)
    elapsed = time.perf_counter() - sweep_started
    print(
        f"swept {swept} leads in {elapsed:.1f} s ({elapsed / swept * REPORT_EVERY:.2f} s per "
        f"{REPORT_EVERY}): {dict(outcomes)}"
    )
    print(f"peak RSS after the sweep: {peak_rss_mb():.1f} MB")
    left = Lead.objects.filter(status__in=[Status.QUALIFYING, Status.PENDING_APPROVAL]).count()
    second = sweeps.sweep(plan, batch_size=args.batch_size)
    print(f"leads left due: {left}; a second run: {dict(second) or 'nothing to do'}")


if __name__ == "__main__":
    main()
