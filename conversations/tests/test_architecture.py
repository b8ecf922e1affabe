"""The import contracts of pyproject.toml hold for the tree, and an arrow the wrong way breaks them.

Each breaking case runs `lint-imports` on a copy of the source with one import added.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root):
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path):
    """A copy of the packages and pyproject.toml that a test may add imports to."""
    ignore = shutil.ignore_patterns("__pycache__", "tests")
    for package in ("conversations", "bookings", "leadbot"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    return tmp_path


def add_import(tree, module_path, statement):
    with open(tree / module_path, "a") as module:
        module.write(f"\n{statement}\n")


def test_the_tree_keeps_every_import_contract():
    result = lint_imports(REPO)

    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


def test_the_unchanged_copy_keeps_every_import_contract(tree):
    result = lint_imports(tree)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module_path", "statement", "importer", "imported"),
    [
        # The hook list of issue 8: transitions calling back up into a flow.
        ("conversations/transitions.py", "from conversations import flows", "transitions", "flows"),
        ("conversations/parsing/budget.py", "from conversations import flows", "parsing", "flows"),
        (
            "conversations/channels/base.py",
            "from conversations import outbox",
            "channels",
            "outbox",
        ),
        (
            "conversations/models.py",
            "from conversations import transitions",
            "models",
            "transitions",
        ),
        ("conversations/flows/script.py", "from conversations import admin", "flows", "admin"),
        # Siblings on one layer are independent.
        (
            "conversations/outbox.py",
            "from conversations import transitions",
            "outbox",
            "transitions",
        ),
    ],
)
def test_an_import_up_or_across_a_layer_breaks_the_layers(
    tree, module_path, statement, importer, imported
):
    add_import(tree, module_path, statement)

    result = lint_imports(tree)

    assert result.returncode == 1
    assert (
        f"conversations.{importer} is not allowed to import conversations.{imported}"
        in result.stdout
    )


def test_a_channel_that_imports_the_models_breaks_the_pure_contract(tree):
    add_import(tree, "conversations/channels/base.py", "from conversations import models")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "conversations.channels is not allowed to import conversations.models" in result.stdout


def test_a_parser_that_imports_django_breaks_the_pure_contract(tree):
    add_import(tree, "conversations/parsing/budget.py", "from django.conf import settings")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "conversations.parsing is not allowed to import django" in result.stdout


def test_a_circle_between_two_flows_breaks_the_acyclic_contract(tree):
    # qualifying already imports script; this closes the circle.
    add_import(tree, "conversations/flows/script.py", "from conversations.flows import qualifying")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "No cycles are allowed in conversations.flows." in result.stdout
    assert (
        "- .script -> .qualifying" in result.stdout or "- .qualifying -> .script" in result.stdout
    )


def test_a_module_placed_in_no_layer_breaks_the_layers(tree):
    (tree / "conversations" / "reports.py").write_text("REPORTS = []\n")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "conversations.reports" in result.stdout


def test_the_app_importing_the_project_urls_breaks_the_project_layers(tree):
    add_import(tree, "conversations/flows/script.py", "import leadbot.urls")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "conversations is not allowed to import leadbot.urls" in result.stdout
