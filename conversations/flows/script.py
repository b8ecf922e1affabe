"""The script as the client meets it: question text, parsing and storing an answer, its facts,
the per-field failure counts, the summary.

Every reader of an answer goes through `parse_for`, so the step validation, the summary and the
qualification checks understand a value the same way.
"""

import copy
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from conversations import wording
from conversations.models import Answer, Faq, Question, StudioSettings
from conversations.parsing import ParsedAnswer, ParseError, parse_answer, parse_media
from conversations.parsing.enquiries import FaqEntry, FaqMatcher
from conversations.parsing.location import Location, home_location
from conversations.questions import LOCATION_CITY
from leadbot.postgres import rows

K = Question.Kind


def parse_options(question, studio, lead=None):
    """Keyword options of the question's parser; `studio` is loaded only when a kind needs it.

    The home-city question takes no "anywhere" and keeps a country only when it is certain
    (else the country question asks it); the travel question reads "same" as the lead's home.
    """
    if question.kind == K.BUDGET:
        studio = studio() if callable(studio) else studio
        return {"minimum": studio.budget_floor, "default_currency": studio.currency}
    if question.kind == K.CHOICE:
        return {"options": question.options}
    if question.kind == K.LOCATION:
        if question.key == LOCATION_CITY:
            return {"allow_flexible": False, "certain_country_only": True}
        home = home_location(lead.city, lead.country_code) if lead is not None else None
        return {"home": home}
    return {}


def parser_kind(question):
    # A choice question the artist left without options can only be read as free text.
    if question.kind == K.CHOICE and not question.options:
        return K.TEXT
    return question.kind


def parse_for(question, text, studio=StudioSettings.load, lead=None):
    """Parse `text` as an answer to `question` (of `lead`, when "same" needs its home city);
    raises ParseError."""
    return parse_answer(parser_kind(question), text, **parse_options(question, studio, lead))


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
    return ParsedAnswer(value, wording.media_display(len(value["media"]), len(value["urls"])))


def display_for(question, answer, studio):
    """How a stored answer reads in the summary (the parser's own wording where it applies)."""
    if question.kind == K.MEDIA and isinstance(answer.value, dict):
        value = answer.value
        return wording.media_display(len(value.get("media", [])), len(value.get("urls", [])))
    if question.kind in (K.LOCATION, K.COUNTRY) and isinstance(answer.value, dict):
        # The stored place, not a re-parse: "same" meant the home city of that moment.
        with suppress(TypeError):
            return Location(**answer.value).display
    try:
        return parse_for(question, answer.text, studio).display
    except (ParseError, ValueError):
        return answer.text


def facts_for(question, value):
    """The Lead columns an answer fills in; the rest of it lives in its Answer row."""
    if value is None:  # an optional question, skipped
        return {}
    if question.kind == K.DIMENSIONS:
        if "width_cm" not in value:  # "not sure yet": no size to price
            return {}
        return {"width_cm": Decimal(value["width_cm"]), "height_cm": Decimal(value["height_cm"])}
    if question.kind == K.BUDGET:
        return {"budget_minor": value["amount_minor"], "currency": value["currency"]}
    if question.kind == K.COUNTRY and value.get("country_code"):
        return {"country_code": value["country_code"], "region": value["region"]}
    if question.kind == K.LOCATION and question.key == LOCATION_CITY:
        facts = {"city": value.get("city", "")[:120]}
        # "Berlin, Germany" answers the country too; the country question may still correct it.
        if value.get("country_code"):
            facts.update(country_code=value["country_code"], region=value["region"])
        return facts
    return {}


def question_text(question):
    options = question.options if question.kind == K.CHOICE else ()
    return wording.question_text(question.prompt, options)


@dataclass(frozen=True)
class Fact:
    """One answered question as every reader shows it: the summary, the admin, the API."""

    key: str
    label: str
    value: str  # as the summary reads it ("£500–600")
    text: str  # what the client wrote ("budget £500-600")


def facts(lead, script, studio, answers=None):
    """The current answer (latest wins) to every scripted question, in script order."""
    answers = lead.current_answers() if answers is None else answers
    return [
        Fact(q.key, q.summary_label, display_for(q, answers[q.key], studio), answers[q.key].text)
        for q in script
        if q.key in answers
    ]


def labelled_answers(lead, script, studio, answers=None):
    """'• Budget: £600' lines: the current answer (latest wins) to every scripted question."""
    return [wording.summary_line(f.label, f.value) for f in facts(lead, script, studio, answers)]


def summary_text(lead, script, studio):
    """The confirmation summary the client says yes to, or corrects."""
    return wording.summary(lead, labelled_answers(lead, script, studio))


def current_prompt(lead, script, studio=StudioSettings.load):
    """What the client is being asked now: the current question, or the summary after the last."""
    if lead.current_step < len(script):
        return question_text(script[lead.current_step])
    studio = studio() if callable(studio) else studio
    return summary_text(lead, script, studio)


def prompt(turn):
    """What the client of this turn is being asked now."""
    return current_prompt(turn.lead, turn.script, lambda: turn.studio)


# -- storing answers -------------------------------------------------------------------------


def record(turn, question, text, parsed):
    """Append the answer, copy its facts onto the lead and clear the field's failure count."""
    store_answer(turn, question, text, parsed)
    turn.update_lead(**answer_columns(turn, question, parsed.value))


def store_answer(turn, question, text, parsed):
    """Append the answer row (answers are append-only; the newest counts)."""
    rows.insert(
        Answer(
            lead=turn.lead,
            question_key=question.key,
            text=text,
            value=parsed.value,
            message=turn.message,
        )
    )


def answer_columns(turn, question, value):
    """The lead columns an answer writes: its facts, and its field's failure count cleared."""
    columns = facts_for(question, value)
    failures = dict(turn.lead.parse_failures or {})
    if failures.pop(question.key, None) is not None:
        columns["parse_failures"] = failures
    return columns


def media_text(turn):
    return turn.text or f"[{turn.kind}]"


def add_media(turn, question):
    """Add attachments to the current reference answer (a new row: answers are append-only)."""
    previous = turn.lead.current_answers().get(question.key)
    record(turn, question, media_text(turn), media_answer(turn.inbound, previous))


def count_failure(turn, key):
    """One more failed answer for `key`; the count so far."""
    failures = dict(turn.lead.parse_failures or {})
    failures[key] = failures.get(key, 0) + 1
    turn.update_lead(parse_failures=failures)
    return failures[key]


def clear_failures(turn, key):
    failures = dict(turn.lead.parse_failures or {})
    if failures.pop(key, None) is not None:
        turn.update_lead(parse_failures=failures)


# -- answers given before their question -----------------------------------------------------

# A failure count of 0 marks a question answered before its turn (slot filling, or a country
# inferred from the city): the flow skips its step without reading the answers again.
ANSWERED_AHEAD = 0


def answered_ahead(lead):
    """Keys of the questions answered ahead of their step."""
    return answered_ahead_in(lead.parse_failures or {})


def answered_ahead_in(failures):
    return {key for key, count in failures.items() if count == ANSWERED_AHEAD}


def next_step(script, step, ahead):
    """The first step after `step` whose question is not answered yet (len(script): the summary)."""
    step += 1
    while step < len(script) and script[step].key in ahead:
        step += 1
    return step


# -- the per-process cache -----------------------------------------------------------------


class CachedConfig:
    """The script and the studio settings as of one config version, kept by each process.

    The version (migration 0011) changes with every write to either table, so a process that
    reads it under the sender's lock never uses a script older than the one committed.
    """

    def __init__(self):
        self._key = None
        self._config = ((), None, None)

    def _current(self, version):
        key = (connection.settings_dict["NAME"], version)
        if version is None or key != self._key:
            script = tuple(Question.objects.script())
            studio, created = StudioSettings.objects.get_or_create(pk=1)
            config = (script, studio, Faqs(Faq.objects.active()))
            # Creating the settings row moved the version on: `version` no longer names this.
            if version is None or created:
                return config
            self._key, self._config = key, config
        return self._config

    def script(self, version):
        """The active questions in order, as of `version` (None: read them now, uncached)."""
        return list(self._current(version)[0])

    def studio(self, version):
        """A private copy of the studio settings as of `version` (None: read now, uncached)."""
        return copy.copy(self._current(version)[1])

    def faqs(self, version):
        """The active FAQ rows and their matcher, as of `version` (shared: read only)."""
        return self._current(version)[2]


class Faqs:
    """The studio's FAQ rows and the matcher compiled from them, once per config version."""

    def __init__(self, rows):
        self.rows = {str(row.pk): row for row in rows}
        self.matcher = FaqMatcher(
            FaqEntry(key, row.topic, row.phrases()) for key, row in self.rows.items()
        )

    def match(self, text):
        """(the enquiry, its FAQ row or None) for a message that asks a question; else None."""
        enquiry = self.matcher.match(text)
        if enquiry is None:
            return None
        return enquiry, self.rows.get(enquiry.key)


CONFIG = CachedConfig()
