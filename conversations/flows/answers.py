"""The script as the client meets it: question text, parsing an answer, its facts, the summary.

Every reader of an answer goes through `parse_for`, so the step validation, the summary and the
qualification checks understand a value the same way.
"""

from contextlib import suppress
from decimal import Decimal

from conversations import copy
from conversations.models import Question, StudioSettings
from conversations.parsing import ParsedAnswer, ParseError, parse_answer, parse_media

K = Question.Kind


def parse_options(question, studio):
    """Keyword options of the question's parser; `studio` is loaded only when a kind needs it."""
    if question.kind == K.BUDGET:
        studio = studio() if callable(studio) else studio
        return {"minimum": studio.budget_floor, "default_currency": studio.currency}
    if question.kind == K.CHOICE:
        return {"options": question.options}
    return {}


def parser_kind(question):
    # A choice question the artist left without options can only be read as free text.
    if question.kind == K.CHOICE and not question.options:
        return K.TEXT
    return question.kind


def parse_for(question, text, studio=StudioSettings.load):
    """Parse `text` as an answer to `question`; raises ParseError."""
    return parse_answer(parser_kind(question), text, **parse_options(question, studio))


def media_answer(inbound, previous=None):
    """The value of a reference-images answer made of attachments (added to earlier ones)."""
    value = {"urls": [], "media": []}
    if previous and isinstance(previous.value, dict):
        value["urls"] = list(previous.value.get("urls", []))
        value["media"] = list(previous.value.get("media", []))
    for media in inbound.media:
        value["media"].append(
            {"kind": media.kind, "media_id": media.media_id, "mime_type": media.mime_type}
        )
        with suppress(ParseError):  # a caption may carry links too
            value["urls"] += parse_media(media.caption, allow_none=False)
    return ParsedAnswer(value, copy.media_display(len(value["media"]), len(value["urls"])))


def display_for(question, answer, studio):
    """How a stored answer reads in the summary (the parser's own wording where it applies)."""
    if question.kind == K.MEDIA and isinstance(answer.value, dict):
        value = answer.value
        return copy.media_display(len(value.get("media", [])), len(value.get("urls", [])))
    try:
        return parse_for(question, answer.text, studio).display
    except (ParseError, ValueError):
        return answer.text


def facts_for(question, value):
    """The Lead columns an answer fills in; the rest of it lives in its Answer row."""
    if value is None:  # an optional question, skipped
        return {}
    if question.kind == K.DIMENSIONS:
        return {"width_cm": Decimal(value["width_cm"]), "height_cm": Decimal(value["height_cm"])}
    if question.kind == K.BUDGET:
        return {"budget_minor": value["amount_minor"], "currency": value["currency"]}
    if question.kind == K.COUNTRY and value.get("country_code"):
        return {"country_code": value["country_code"], "region": value["region"]}
    if question.kind == K.LOCATION and question.key == "location_city":
        facts = {"city": value.get("city", "")[:120]}
        # "Berlin, Germany" answers the country too; the country question may still correct it.
        if value.get("country_code"):
            facts.update(country_code=value["country_code"], region=value["region"])
        return facts
    return {}


def question_text(question):
    options = question.options if question.kind == K.CHOICE else ()
    return copy.question_text(question.prompt, options)


def labelled_answers(lead, script, studio, answers=None):
    """'• Budget: £600' lines: the current answer (latest wins) to every scripted question."""
    answers = lead.current_answers() if answers is None else answers
    return [
        copy.summary_line(copy.label_for(q.key), display_for(q, answers[q.key], studio))
        for q in script
        if q.key in answers
    ]


def summary_text(lead, script, studio):
    """The confirmation summary the client says yes to, or corrects."""
    return copy.summary(lead, labelled_answers(lead, script, studio))


def current_prompt(lead, script, studio=StudioSettings.load):
    """What the client is being asked now: the current question, or the summary after the last."""
    if lead.current_step < len(script):
        return question_text(script[lead.current_step])
    studio = studio() if callable(studio) else studio
    return summary_text(lead, script, studio)
