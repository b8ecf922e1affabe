"""Settings: safe local defaults, and a hard stop on unsafe production settings."""

import os
import subprocess
import sys

from conversations.tests.servers import REPO

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-long-random-production-secret",
    "WHATSAPP_APP_SECRET": "meta-app-secret",
    "DJANGO_ALLOWED_HOSTS": "leadbot.example.com",
}


def load_settings(**env):
    """Import the settings in a fresh interpreter that is not running the tests."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WHATSAPP_"))}
    return subprocess.run(
        [sys.executable, "-c", "import leadbot.settings as s; print(s.DEBUG, s.OUTBOUND_DRY_RUN)"],
        cwd=REPO,
        env={**clean, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x", **env},
        capture_output=True,
        text=True,
    )


def test_production_settings_load():
    result = load_settings(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_with_debug_off_a_missing_secret_refuses_to_start():
    for missing in ["DJANGO_SECRET_KEY", "WHATSAPP_APP_SECRET", "DJANGO_ALLOWED_HOSTS"]:
        env = {k: v for k, v in PRODUCTION.items() if k != missing}
        result = load_settings(**env)
        assert result.returncode != 0, missing
        assert f"set {missing}" in result.stderr, missing


def test_an_access_token_turns_real_sending_on():
    result = load_settings(**PRODUCTION, WHATSAPP_ACCESS_TOKEN="EAAG-token")
    assert result.stdout.split() == ["False", "False"]


def test_local_debug_runs_without_secrets():
    result = load_settings(DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
