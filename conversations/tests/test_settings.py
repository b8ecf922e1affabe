"""Settings: safe local defaults, and a hard stop on unsafe production settings."""

import os
import re
import subprocess
import sys

import pytest

from conversations.tests.servers import REPO

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k7#vQ2!pX9zL4mR8wT1yB6nD3fH5jC0sA-eG_uI+oK=aM?bNcV",
    "WHATSAPP_APP_SECRET": "0f3c9a6e1b7d4a2c8e5f0b9d3a6c1e7f",
    "DJANGO_ALLOWED_HOSTS": "leadbot.example.com",
}


def run_in_fresh_interpreter(args, **env):
    """Run with only `env` configuring the app, outside the test run (so DEBUG is really off)."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "WHATSAPP_", "SECURE_", "PYTEST_"))
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env={**clean, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x", **env},
        capture_output=True,
        text=True,
    )


def load_settings(**env):
    """Import the settings in a fresh interpreter that is not running the tests."""
    return run_in_fresh_interpreter(
        ["-c", "import leadbot.settings as s; print(s.DEBUG, s.OUTBOUND_DRY_RUN)"], **env
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


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("DJANGO_SECRET_KEY", "changeme", "looks like a placeholder"),
        ("DJANGO_SECRET_KEY", "x", "is shorter than 50 characters"),
        ("DJANGO_SECRET_KEY", "django-insecure-" + "q8#n2!v" * 8, "looks like a placeholder"),
        ("DJANGO_SECRET_KEY", "CHANGE_ME-" + "p4$Lz9" * 8, "looks like a placeholder"),
        ("DJANGO_SECRET_KEY", "k7#vQ2!pX9zL4mR8wT1yB6nD3fH5jC0", "is shorter than 50 characters"),
        ("DJANGO_SECRET_KEY", "ab" * 30, "has fewer than 5 distinct characters"),
        ("WHATSAPP_APP_SECRET", "a", "is shorter than 16 characters"),
        ("WHATSAPP_APP_SECRET", "replace-me-with-the-app-secret", "looks like a placeholder"),
    ],
)
def test_with_debug_off_a_weak_secret_refuses_to_start(name, value, reason):
    result = load_settings(**{**PRODUCTION, name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured: Refusing to start with DJANGO_DEBUG off and a weak secret" in (
        result.stderr
    )
    assert f"{name} {reason}" in result.stderr


def test_the_refusal_names_the_problem_not_the_secret():
    weak = "django-insecure-3kq$8v!m2#zr9@tl5&wp0*ye7^uc4%xb6(dn1)fh"
    result = load_settings(**{**PRODUCTION, "DJANGO_SECRET_KEY": weak})
    assert "DJANGO_SECRET_KEY looks like a placeholder" in result.stderr
    assert weak not in result.stderr


def test_a_fifty_character_random_secret_key_and_a_meta_app_secret_start():
    assert len(PRODUCTION["DJANGO_SECRET_KEY"]) == 50
    assert len(PRODUCTION["WHATSAPP_APP_SECRET"]) == 32
    assert load_settings(**PRODUCTION).returncode == 0


def documented_production_environment():
    """The `sh` block of docs/operations.md's "Production settings", with `<…>` values filled."""
    text = (REPO / "docs" / "operations.md").read_text()
    section = text.split("## Production settings", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    env = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
    secrets = {
        "DJANGO_SECRET_KEY": PRODUCTION["DJANGO_SECRET_KEY"],
        "WHATSAPP_APP_SECRET": PRODUCTION["WHATSAPP_APP_SECRET"],
    }
    return {k: secrets[k] if v.startswith("<") else v for k, v in env.items()}


def test_check_deploy_with_the_documented_production_environment_has_no_https_warnings():
    env = documented_production_environment()
    assert env["DJANGO_DEBUG"] == "0"

    result = run_in_fresh_interpreter(["manage.py", "check", "--deploy"], **env)

    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "System check identified" in output  # the checks ran
    for warning in ["security.W004", "security.W008", "security.W009", "security.W005"]:
        assert warning not in output


def test_check_deploy_without_the_https_settings_warns_about_hsts_and_the_redirect():
    env = {k: v for k, v in documented_production_environment().items() if "SECURE_" not in k}
    result = run_in_fresh_interpreter(["manage.py", "check", "--deploy"], **env)
    output = result.stdout + result.stderr
    assert "security.W004" in output
    assert "security.W008" in output


def test_an_access_token_turns_real_sending_on():
    result = load_settings(**PRODUCTION, WHATSAPP_ACCESS_TOKEN="EAAG-token")
    assert result.stdout.split() == ["False", "False"]


def test_local_debug_runs_without_secrets():
    result = load_settings(DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_docker_compose_passes_every_setting_the_app_reads():
    settings_source = (REPO / "leadbot" / "settings.py").read_text()
    read = set(re.findall(r'(?:os\.environ\.get|env_bool|env_list)\("([A-Z_]+)"', settings_source))
    compose = (REPO / "docker-compose.yml").read_text()
    passed = set(re.findall(r"^\s+- ([A-Z_]+)(?:=|$)", compose, re.M))
    assert read - passed == set()
