"""Security: who may act (the Artist group), and logs that client data cannot forge."""

import logging
import os
import subprocess
import sys

from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from conversations.tests.artists import artist_migration
from conversations.tests.servers import REPO
from leadbot.logs import SingleLineFormatter, escape_controls

FORGED = "2026-12-02 09:00:00,000 INFO conversations.flows.inbound Inbound wamid.ok processed"


def test_the_artist_group_migration_grants_exactly_the_listed_permissions(db):
    Group.objects.filter(name="Artist").delete()
    state = MigrationExecutor(connection).loader.project_state(
        ("conversations", "0007_artist_group")
    )

    artist_migration.create_artist_group(state.apps, None)

    group = Group.objects.get(name="Artist")
    granted = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert granted == {("conversations", name) for name in artist_migration.artist_codenames()}
    assert "delete_lead" not in artist_migration.artist_codenames()
    assert "add_lead" not in artist_migration.artist_codenames()


def test_a_message_id_with_a_newline_is_logged_on_one_line():
    """Through the real LOGGING configuration, in a process of its own: what production writes."""
    program = (
        "import django, logging\n"
        "django.setup()\n"
        "try:\n"
        "    raise ValueError('the flow failed')\n"
        "except ValueError:\n"
        "    logging.getLogger('conversations.flows.inbound').exception(\n"
        "        'Inbound %s failed; storing it for replay', 'wamid.x\\n' + FORGED)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"FORGED = {FORGED!r}\n{program}"],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "leadbot.settings", "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if "conversations.flows.inbound" in line]
    assert "ERROR conversations.flows.inbound Inbound wamid.x\\n" + FORGED in line
    assert "ValueError: the flow failed" in line  # the traceback rides on the same line
    assert not any(line.startswith(FORGED) for line in result.stderr.splitlines())


def test_the_formatter_writes_control_characters_as_escapes():
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "id %s", ("a\r\nb\x1b[2J\u2028",), None
    )
    assert SingleLineFormatter("%(message)s").format(record) == "id a\\r\\nb\\x1b[2J\\u2028"


def test_printable_text_is_logged_unchanged():
    assert escape_controls("Olá 🌹 «rose» tab-free") == "Olá 🌹 «rose» tab-free"
