"""The default consultation script: what it asks, that its examples parse, and its seeding."""

import importlib

import pytest
from django.apps import apps as django_apps

from conversations.models import Question
from conversations.parsing import parse_answer
from conversations.parsing.corrections import field_name
from conversations.questions import (
    DEFAULT_SCRIPT,
    fill_default_metadata,
    seed_default_script,
    unseed_default_script,
)

DESIGN_ORDER = [
    "idea",
    "placement",
    "dimensions",
    "style",
    "complexity",
    "coverup",
    "reference_images",
    "budget",
    "location_city",
    "location_country",
    "instagram_handle",
    "travel_city",
    "timing",
]


def test_the_default_script_is_the_thirteen_questions_of_design_section_8():
    assert [q.key for q in DEFAULT_SCRIPT] == DESIGN_ORDER


def test_every_kind_is_a_question_kind_with_a_parser():
    for question in DEFAULT_SCRIPT:
        assert question.kind in Question.Kind.values, question.key
    assert {q.kind for q in DEFAULT_SCRIPT} >= {"text", "dimensions", "budget", "location"}


@pytest.mark.parametrize("question", DEFAULT_SCRIPT, ids=lambda q: q.key)
def test_every_example_is_accepted_by_its_parser(question):
    assert question.example and question.prompt
    options = {"options": question.options} if question.kind == "choice" else {}
    parsed = parse_answer(question.kind, question.example, **options)
    assert parsed.display


def test_every_default_question_has_a_summary_label():
    assert all(question.label for question in DEFAULT_SCRIPT)


def test_no_name_for_a_correction_means_two_default_questions():
    owners = {}
    for question in DEFAULT_SCRIPT:
        names = (question.key, question.key.replace("_", " "), question.label, *question.aliases)
        for name in {field_name(name) for name in names}:
            assert owners.setdefault(name, question.key) == question.key, name


@pytest.mark.django_db
def test_the_migrations_gave_the_default_questions_their_labels_and_aliases():
    size = Question.objects.get(key="dimensions")
    assert (size.label, size.aliases) == ("Size", ["size", "dimension", "measurements"])
    assert Question.objects.filter(label="").count() == 0


@pytest.mark.django_db
def test_filling_the_metadata_keeps_the_artists_labels_and_aliases(seeded_script):
    migration = importlib.import_module("conversations.migrations.0008_question_label_aliases")
    Question.objects.update(label="", aliases=[])  # a database from before 0008
    Question.objects.filter(key="budget").update(label="Spend", aliases=["money"])
    migration.fill(django_apps, None)
    budget, size = Question.objects.get(key="budget"), Question.objects.get(key="dimensions")
    assert (budget.label, budget.aliases) == ("Spend", ["money"])
    assert (size.label, size.aliases) == ("Size", ["size", "dimension", "measurements"])
    assert fill_default_metadata(Question) == 0


@pytest.mark.django_db
def test_the_migration_seeded_the_script_in_order():
    assert [q.key for q in Question.objects.script()] == DESIGN_ORDER


@pytest.mark.django_db
def test_seeding_again_changes_nothing_and_keeps_the_artists_edits(seeded_script):
    Question.objects.filter(key="idea").update(prompt="What are we tattooing?", order=999)
    Question.objects.filter(key="style").update(active=False)
    assert seed_default_script(Question) == 0
    assert Question.objects.count() == len(DEFAULT_SCRIPT)
    idea = Question.objects.get(key="idea")
    assert (idea.prompt, idea.order) == ("What are we tattooing?", 999)
    assert not Question.objects.get(key="style").active


@pytest.mark.django_db
def test_the_migration_runs_forwards_and_backwards(seeded_script):
    migration = importlib.import_module("conversations.migrations.0003_seed_questions")
    Question.objects.create(key="colour", prompt="Colour?", order=5)
    migration.unseed(django_apps, None)
    assert list(Question.objects.values_list("key", flat=True)) == ["colour"]
    migration.seed(django_apps, None)
    migration.seed(django_apps, None)
    assert Question.objects.count() == len(DEFAULT_SCRIPT) + 1
    assert unseed_default_script(Question) == len(DEFAULT_SCRIPT)
