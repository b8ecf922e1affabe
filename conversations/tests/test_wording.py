"""The client-facing copy: en-GB, complete sentences, a stable variant per lead."""

import inspect
import re
from types import SimpleNamespace

import pytest

from conversations import wording
from conversations.models import Client, Lead

SAMPLES = {
    "lead": None,
    "name": "Sam Smith",
    "question": "Where on your body would you like it?",
    "reason": "Please give a number.",
    "example": "£600",
    "attempt": 1,
    "kind": "audio",
    "lines": ["• Budget: £600"],
    "labels": ["Idea", "Budget"],
    "label": "Budget",
    "budget": "£300",
    "minimum": "£400",
    "city": "Glasgow",
    "places": ["London", "Berlin"],
    "status": "AWAITING_DEPOSIT",
    "step": 3,
    "images": 2,
    "links": 1,
    "answer": "Every piece is priced individually.",
    "value": "£500–600",
    "category": "SMALL",
    "studio": SimpleNamespace(home_city="London"),
}
CLIENT_FACING = [
    name
    for name, function in inspect.getmembers(wording, inspect.isfunction)
    if function.__module__ == wording.__name__
    and not name.startswith(("_", "artist_", "panic_artist"))
    and name not in {"join_places", "summary_line", "question_text", "tour_buttons"}
]


def render(function, lead):
    parameters = inspect.signature(function).parameters
    kwargs = {name: SAMPLES[name] for name in parameters if name in SAMPLES}
    if "lead" in kwargs:
        kwargs["lead"] = lead
    return function(**kwargs)


@pytest.mark.parametrize("name", CLIENT_FACING)
@pytest.mark.parametrize("pk", [1, 2, 3, 4, 5])
def test_every_message_renders_without_leftover_placeholders(name, pk):
    text = render(getattr(wording, name), Lead(pk=pk))
    assert isinstance(text, str) and text.strip()
    assert not re.search(r"\{\w*\}", text)
    for american in ("color", "favorite", "center"):
        assert american not in text.lower()


def test_the_variant_is_stable_per_lead_and_varies_across_leads():
    first = {wording.holding_reply(Lead(pk=pk)) for pk in range(10)}
    assert len(first) > 1
    assert wording.greeting(Lead(pk=7), "", "Q?") == wording.greeting(Lead(pk=7), "", "Q?")


def test_the_thanks_before_each_question_varies_along_the_conversation():
    lead = Lead(pk=1)
    assert len({wording.next_question(lead, "Q?", step) for step in range(4)}) == 4


def test_a_greeting_uses_the_first_name_only():
    assert wording.greeting(Lead(pk=1), "Sam Smith", "Q?").startswith("Hi Sam!")
    assert wording.greeting(Lead(pk=1), "", "Q?").startswith("Hi!")


def test_the_repair_prompt_adds_the_example_unless_the_reason_has_it():
    assert "“£600”" in wording.repair(Lead(pk=1), "Please give a number.", "£600", 1)
    with_example = wording.repair(Lead(pk=1), "For example 10 x 15 cm.", "10 x 15 cm", 1)
    assert with_example.count("10 x 15 cm") == 1


def test_notices_for_the_inbound_path():
    client = Client(address="447700900123", display_name="")
    assert "447700900123" in wording.panic_artist_note(client, "hello")
    assert wording.pilot_not_available() and wording.panic_holding_reply()
