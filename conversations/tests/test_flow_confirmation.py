"""The confirmation step: the summary, corrections to it, and the qualification decision a YES
leads to (the cover-up rule, the regional budget minimums)."""

import pytest

from conversations.flows.confirmation import find_correction
from conversations.models import Answer, Message, Question, Status, StudioSettings
from conversations.tests.test_flow_support import Chat, at_summary, photo, started

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(make_client, seeded_script):
    return started(make_client(display_name="Alex"))


# -- the confirmation step --------------------------------------------------------------


def test_a_correction_to_the_value_already_there_says_so_and_stores_nothing(chat, seeded_script):
    at_summary(chat, seeded_script)
    budget = chat.lead.current_answers()["budget"]
    reply = chat.say(f"change budget to {budget.text}")
    assert reply.startswith("That's what I have already: budget")
    assert "Updated" not in reply
    assert Answer.objects.filter(lead=chat.lead, question_key="budget").count() == 1


def test_change_budget_to_800_updates_the_answer_and_confirms_only_that_line(chat, seeded_script):
    at_summary(chat, seeded_script)
    updated = chat.say("change budget to 800")
    assert updated.startswith("Updated: budget £800.")  # only the changed line
    lead = chat.lead
    assert lead.budget_minor == 80000
    assert Answer.objects.filter(lead=lead, question_key="budget").count() == 2  # append-only
    assert lead.current_step == len(seeded_script)

    assert "Updated: size 20 × 25 cm" in chat.say("Could you change the size to 20 x 25 cm")
    assert "Updated: Instagram @new.handle" in chat.say("Instagram: @new.handle")

    chat.say("yes")
    lead = chat.lead
    assert lead.status == Status.PENDING_APPROVAL
    assert (lead.size_category, lead.xl_days, lead.deposit_minor) == ("XL", 2, 40000)


def test_a_correction_that_does_not_parse_gets_a_repair_prompt(chat, seeded_script):
    at_summary(chat, seeded_script)
    reply = chat.say("change budget to loads")
    assert "budget" in reply
    assert chat.lead.parse_failures == {"budget": 1}
    assert chat.lead.budget_minor == 50000


def test_a_correction_of_an_unknown_field_lists_the_fields(chat, seeded_script):
    at_summary(chat, seeded_script)
    reply = chat.say("change the colour to red")
    assert "Budget" in reply and "Placement" in reply


def test_no_at_the_summary_asks_what_to_change(chat, seeded_script):
    at_summary(chat, seeded_script)
    assert "what would you like to change" in chat.say("no")
    assert chat.lead.status == Status.QUALIFYING


def test_an_unclear_reply_to_the_summary_three_times_hands_over(chat, seeded_script):
    at_summary(chat, seeded_script)
    chat.say("hmm")
    chat.say("what?")
    chat.say("eh")
    assert chat.lead.status == Status.NEEDS_ARTIST_REPLY
    assert "summary" in chat.lead.handover_reason


def test_a_photo_at_the_summary_joins_the_references_and_the_summary_is_shown_again(
    chat, seeded_script
):
    at_summary(chat, seeded_script)
    summary = chat.say(kind="image", media=[photo()])
    assert "References: 1 image, 1 link" in summary


@pytest.mark.parametrize("text", ["yes", "Looks good!", "all good", "perfect", "that's right"])
def test_common_approvals_confirm_the_summary(chat, seeded_script, text):
    at_summary(chat, seeded_script)
    chat.say(text)
    assert chat.lead.status == Status.PENDING_APPROVAL


# -- corrections name a question by its key, label or aliases ---------------------------


def test_a_question_the_artist_adds_gets_its_label_in_the_summary_and_its_aliases_correct_it(
    make_client, seeded_script
):
    Question.objects.create(
        key="colour_scheme",
        prompt="Colour, or black and grey?",
        order=999,
        label="Colours",
        aliases=["palette"],
    )
    chat = Chat(make_client(), "flow")
    chat.say("hi")
    at_summary(chat, list(Question.objects.script()), colour_scheme="Black and grey")
    assert "Updated: colours full colour" in chat.say("change palette to full colour")


def test_a_question_without_a_label_is_named_by_its_key_and_corrected_by_it():
    question = Question(key="skin_tone", kind=Question.Kind.TEXT)
    assert question.summary_label == "Skin tone"
    assert find_correction("change skin tone to fair", [question]) == (question, "fair")
    assert find_correction("Skin tone: fair", [question]) == (question, "fair")


def test_a_labelled_reply_that_names_no_question_is_no_correction():
    question = Question(key="budget", kind=Question.Kind.BUDGET, label="Budget")
    assert find_correction("Yes: all good", [question]) is None
    assert find_correction("change the colour to red", [question]) == (None, "red")


def test_aliases_the_artist_typed_as_one_string_still_count():
    question = Question(key="budget", kind=Question.Kind.BUDGET, aliases="price")
    assert find_correction("change price to 800", [question]) == (question, "800")


# -- the qualification decision ---------------------------------------------------------


def test_a_cover_up_is_handed_over_with_its_estimate(chat, seeded_script, settings):
    settings.ARTIST_PHONE = "447700900000"
    at_summary(chat, seeded_script, coverup="yes, an old tribal piece")
    reply = chat.say("yes")
    lead = chat.lead
    assert lead.status == Status.NEEDS_ARTIST_REPLY
    assert "Cover-up" in lead.handover_reason
    assert "Cover-ups" in reply
    assert lead.size_category == "LARGE"  # MEDIUM by area, one step up for the cover-up
    packet = Message.objects.outbound().get(client__address="447700900000")
    assert "Estimate: LARGE; deposit £200" in packet.body


@pytest.mark.parametrize(
    ("country", "budget", "status"),
    [
        ("France", "£450", Status.NEEDS_FOLLOW_UP),  # EUROPE minimum £500
        ("France", "£500", Status.PENDING_APPROVAL),
        ("Australia", "£550", Status.NEEDS_FOLLOW_UP),  # ROW minimum £600
        ("UK", "£400", Status.PENDING_APPROVAL),  # the minimum itself is enough
        ("UK", "€900", Status.NEEDS_FOLLOW_UP),  # another currency: the artist decides
    ],
)
def test_regional_budget_minimums(chat, seeded_script, country, budget, status):
    # A village geonames doesn't know: the country question is asked.
    at_summary(
        chat, seeded_script, location_city="Little Snoring", location_country=country, budget=budget
    )
    chat.say("yes")
    assert chat.lead.status == status


def test_the_minimums_are_the_artists_settings(chat, seeded_script):
    StudioSettings.objects.update_or_create(pk=1, defaults={"min_budget_uk_minor": 60000})
    at_summary(chat, seeded_script)
    chat.say("yes")
    assert chat.lead.status == Status.NEEDS_FOLLOW_UP
