"""The consultation (QUALIFYING, TOUR_CONVERSION_OFFERED): one question at a time, answers
parsed and repaired, a confirmation summary with corrections, then the qualification decision.
"""

import math
import re
from dataclasses import dataclass

from conversations import copy, lifecycle
from conversations.flows import answers as script_answers
from conversations.flows import handover, tour
from conversations.flows.turn import MEDIA_KINDS, TEXT_KINDS
from conversations.models import Answer, Question
from conversations.parsing import Intent, ParsedAnswer, ParseError, parse_yes_no
from conversations.questions import CORRECTION_ALIASES

K = Question.Kind
MAX_FAILURES = 3  # the third failure on one field hands the lead over
# What skips a question the artist marked optional (Question.required off).
SKIP_WORDS = frozenset({"skip", "pass", "next", "n/a", "rather not say", "prefer not to say"})
CONFIRMATION_KEY = "confirmation"
TOUR_KEY = "tour_offer"
# The answers the qualification reads, by the keys of DESIGN.md §8.
COVERUP_KEY, COMPLEXITY_KEY, PLACEMENT_KEY = "coverup", "complexity", "placement"
SIZE_CATEGORIES = ("SMALL", "MEDIUM", "LARGE", "XL")
MAX_XL_DAYS = 4
REGION_MINIMUMS = {
    "UK": "min_budget_uk_minor",
    "EUROPE": "min_budget_europe_minor",
    "ROW": "min_budget_row_minor",
}

# Fragments that look like answers to other questions: the one-question-at-a-time guard.
_SIGNALS = {
    K.DIMENSIONS: re.compile(
        r"\d+(?:[.,]\d+)?\s*(?:cm|mm|in(?:ch(?:es)?)?|\"|”)?\s*(?:x|×|\*|by)\s*\d", re.I
    ),
    K.BUDGET: re.compile(
        r"[£€$]\s*\d|\d\s*(?:k|grand|pounds?|quid|euros?|gbp|eur|usd|dollars?)\b", re.I
    ),
    K.HANDLE: re.compile(r"(?<![\w.])@[a-z0-9._]{2,}|instagram\.com/", re.I),
}
_BUDGET_WORDS = re.compile(r"\b(?:budget|afford|stretch|spend|pay|go up to)\b", re.I)
_CORRECTION = re.compile(
    r"\b(?:change|update|set|make|correct|edit|fix|amend|switch)\s+(?:my\s+|the\s+)?"
    r"(?P<field>[^\W\d_][\w' -]*?)\s*(?:\bto\b|\binto\b|=|:|\bshould be\b)\s*(?P<value>\S.*)$",
    re.IGNORECASE | re.DOTALL,
)
# Approving a summary ("looks good") is not a yes to a yes/no question, so only this step reads it.
_APPROVAL = re.compile(
    r"^(?:(?:it |that |this |all |everything )?(?:looks|sounds|is) (?:good|great|right|fine|"
    r"perfect)|all good|perfect|spot on|great|lovely|brilliant|good to go)\b[\s.!👍]*$",
    re.IGNORECASE,
)
_LABELLED = re.compile(r"^(?P<field>[^\W\d_][\w' -]{0,30}?)\s*[:=]\s*(?P<value>\S.*)$", re.DOTALL)


# -- starting --------------------------------------------------------------------------------


def start(turn, opening):
    """NEW: open the consultation and ask the current question (the first, for a new lead).

    `opening(lead, question)` words the message: a greeting, a welcome back, a resubscription.
    """
    turn.transition("start_qualifying", reason="Client wrote in", actor="bot")
    if handover.wants_a_person(turn):
        handover.hand_over_for_intent(turn)
        return
    turn.reply(opening(turn.lead, prompt(turn)), purpose="question")


def prompt(turn):
    return script_answers.current_prompt(turn.lead, turn.script, lambda: turn.studio)


# -- QUALIFYING ------------------------------------------------------------------------------


def on_message(turn):
    """QUALIFYING: an answer to the current question, or to the summary after the last one."""
    if handover.wants_a_person(turn):
        handover.hand_over_for_intent(turn)
    elif turn.intent in (Intent.CONTINUE, Intent.RESTART):
        turn.reply(copy.repeat_question(turn.lead, prompt(turn)), purpose="question")
    elif turn.lead.current_step >= len(turn.script):
        on_confirmation(turn)
    else:
        on_answer(turn, turn.script[turn.lead.current_step])


def on_answer(turn, question):
    if turn.kind in MEDIA_KINDS:
        on_media(turn, question)
        return
    if turn.kind not in TEXT_KINDS or not turn.text:
        turn.reply(copy.cannot_read(turn.lead, turn.kind, prompt(turn)), purpose="question")
        return
    if not question.required and turn.text.casefold().strip(" .!") in SKIP_WORDS:
        accept(turn, question, turn.text, ParsedAnswer(value=None, display=turn.text))
        return
    others = other_answers_in(turn, question)
    try:
        parsed = script_answers.parse_for(question, turn.text, lambda: turn.studio)
    except ParseError as error:
        if others:
            # Not a bad answer, an early one: ask the current question again, no repair count.
            turn.reply(copy.one_at_a_time(turn.lead, prompt(turn)), purpose="question")
        else:
            fail(turn, question, error.reason)
        return
    # Free text accepts anything, so a message carrying two other answers is not taken as one.
    if question.kind == K.TEXT and len(others) >= 2:
        turn.reply(copy.one_at_a_time(turn.lead, prompt(turn)), purpose="question")
        return
    accept(turn, question, turn.text, parsed)


def other_answers_in(turn, question):
    """Kinds of the script's other questions that this message seems to answer as well."""
    kinds = {q.kind for q in turn.script} - {question.kind}
    return {
        kind for kind, pattern in _SIGNALS.items() if kind in kinds and pattern.search(turn.text)
    }


def looks_like_budget(text):
    """A currency, a budget word or a bare amount: "£450", "I could stretch to 450", "450"."""
    return bool(
        _SIGNALS[K.BUDGET].search(text)
        or _BUDGET_WORDS.search(text)
        or re.fullmatch(r"[~≈]?\s*\d[\d,.]*\s*", text)
    )


def on_media(turn, question):
    """Pictures answer the reference question; elsewhere they are kept and the question repeated."""
    step = turn.lead.current_step
    if question.kind == K.MEDIA:
        accept(turn, question, media_text(turn), script_answers.media_answer(turn.inbound))
        return
    previous = turn.script[step - 1] if step > 0 else None
    if previous is not None and previous.kind == K.MEDIA:
        # The rest of a burst of pictures: the next question has just gone out, don't repeat it.
        add_media(turn, previous)
        return
    turn.reply(copy.media_kept(turn.lead, prompt(turn)), purpose="question")


def media_text(turn):
    return turn.text or f"[{turn.kind}]"


def add_media(turn, question):
    """Add attachments to the current reference answer (a new row: answers are append-only)."""
    previous = turn.lead.current_answers().get(question.key)
    record(turn, question, media_text(turn), script_answers.media_answer(turn.inbound, previous))


def accept(turn, question, text, parsed):
    """Store a valid answer and ask the next question, unless the step moved under us."""
    advanced = lifecycle.advance_step(turn.lead.pk, turn.lead.current_step)
    if not advanced:
        return  # someone else answered this step and asked the next question
    turn.lead.current_step = advanced.current_step
    record(turn, question, text, parsed)
    if turn.lead.current_step < len(turn.script):
        question_text = script_answers.question_text(turn.script[turn.lead.current_step])
        body = copy.next_question(turn.lead, question_text, turn.lead.current_step)
        turn.reply(body, purpose="question")
    else:
        turn.reply(prompt(turn), purpose="summary")


def record(turn, question, text, parsed):
    """Append the answer, copy its facts onto the lead and clear the field's failure count."""
    Answer.objects.create(
        lead=turn.lead,
        question_key=question.key,
        text=text,
        value=parsed.value,
        message=turn.message,
    )
    facts = script_answers.facts_for(question, parsed.value)
    # The field's failure count is cleared in the same UPDATE as its facts.
    failures = dict(turn.lead.parse_failures or {})
    if failures.pop(question.key, None) is not None:
        facts["parse_failures"] = failures
    turn.update_lead(**facts)


def count_failure(turn, key):
    failures = dict(turn.lead.parse_failures or {})
    failures[key] = failures.get(key, 0) + 1
    turn.update_lead(parse_failures=failures)
    return failures[key]


def clear_failures(turn, key):
    failures = dict(turn.lead.parse_failures or {})
    if failures.pop(key, None) is not None:
        turn.update_lead(parse_failures=failures)


def third_strike(turn, count, kind, detail=""):
    """Hand the lead over once a field has failed MAX_FAILURES times; True if it did."""
    if count < MAX_FAILURES:
        return False
    handover.hand_over(turn, kind, detail)
    return True


def fail(turn, question, reason, *, correcting=False):
    """A failed answer: a repair prompt with an example, or the artist on the third failure."""
    count = count_failure(turn, question.key)
    if third_strike(turn, count, "parse", question.key):
        return
    if correcting:
        label = copy.label_for(question.key)
        body = copy.correction_repair(turn.lead, label, reason, question.example)
        turn.reply(body, purpose="repair")
    else:
        turn.reply(copy.repair(turn.lead, reason, question.example, count), purpose="repair")


# -- the confirmation step -------------------------------------------------------------------


def on_confirmation(turn):
    """After the last question: YES qualifies; "change budget to 800" corrects and re-shows."""
    if turn.kind in MEDIA_KINDS:
        media_question = next((q for q in turn.script if q.kind == K.MEDIA), None)
        if media_question is not None:
            add_media(turn, media_question)
        turn.reply(prompt(turn), purpose="summary")
        return
    if turn.kind not in TEXT_KINDS or not turn.text:
        turn.reply(copy.cannot_read(turn.lead, turn.kind, prompt(turn)), purpose="summary")
        return
    correction = find_correction(turn.text, turn.script)
    if correction is not None:
        question, value = correction
        if question is None:
            labels = [copy.label_for(q.key) for q in turn.script]
            unclear_confirmation(turn, copy.correction_unknown_field(turn.lead, labels))
        else:
            correct(turn, question, value)
        return
    try:
        confirmed = bool(_APPROVAL.match(turn.text)) or parse_yes_no(turn.text)
    except ParseError:
        unclear_confirmation(turn, copy.confirm_unclear(turn.lead))
        return
    clear_failures(turn, CONFIRMATION_KEY)
    if confirmed:
        qualify(turn)
    else:
        turn.reply(copy.ask_what_to_change(turn.lead), purpose="summary")


def unclear_confirmation(turn, body):
    if not third_strike(turn, count_failure(turn, CONFIRMATION_KEY), "confirmation"):
        turn.reply(body, purpose="summary")


def _fold(name):
    name = re.sub(r"^(?:my|the|your)\s+", "", name.casefold().replace("-", " ").strip())
    return " ".join(name.split())


def find_correction(text, script):
    """(question, new value text) for "change budget to 800" or "budget: 800"; (None, value)
    when a change is asked for a field nobody knows; None when the text is no correction."""
    verb = _CORRECTION.search(text)
    match = verb or _LABELLED.match(text.strip())
    if match is None:
        return None
    fields = {}
    for question in script:
        names = (
            question.key,
            question.key.replace("_", " "),
            copy.label_for(question.key),
            *CORRECTION_ALIASES.get(question.key, ()),
        )
        for name in names:
            fields.setdefault(_fold(name), question)
    question = fields.get(_fold(match.group("field")))
    if question is None and not verb:
        return None  # "Yes: all good" is not a correction of a field called "yes"
    return question, match.group("value").strip().lstrip(":=- ").strip()


def correct(turn, question, value):
    try:
        parsed = script_answers.parse_for(question, value, lambda: turn.studio)
    except ParseError as error:
        fail(turn, question, error.reason, correcting=True)
        return
    record(turn, question, value, parsed)
    turn.reply(prompt(turn), purpose="summary")


# -- the qualification decision --------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    size_category: str
    xl_days: int | None
    deposit_minor: int | None


def bumps(answers, studio):
    """What makes a piece a size category bigger than its area: each counts one step."""
    found = []
    complexity = answers.get(COMPLEXITY_KEY)
    if complexity is not None and complexity.value == 3:
        found.append("high detail")
    coverup = answers.get(COVERUP_KEY)
    if coverup is not None and coverup.value is True:
        found.append("cover-up")
    placement = answers.get(PLACEMENT_KEY)
    if placement is not None and any(
        re.search(
            rf"(?<![\w']){re.escape(str(hard).casefold())}(?![\w'])", placement.text.casefold()
        )
        for hard in studio.hard_placements
    ):
        found.append("hard placement")
    return found


def estimate(lead, answers, studio):
    """Size category from the area (bumped a step per hard factor), XL days and the deposit."""
    if lead.width_cm is None or lead.height_cm is None:
        return Estimate("", None, None)
    area = lead.width_cm * lead.height_cm
    limits = (studio.small_max_cm2, studio.medium_max_cm2, studio.large_max_cm2)
    index = sum(area >= limit for limit in limits)
    category = SIZE_CATEGORIES[min(index + len(bumps(answers, studio)), len(limits))]
    if category == "XL":
        days = min(max(math.ceil(area / studio.xl_cm2_per_day), 1), MAX_XL_DAYS)
        return Estimate(category, days, studio.deposit_xl_per_day_minor * days)
    deposit = {
        "SMALL": studio.deposit_small_minor,
        "MEDIUM": studio.deposit_medium_minor,
        "LARGE": studio.deposit_large_minor,
    }[category]
    return Estimate(category, None, deposit)


def regional_minimum(studio, region):
    """The budget minimum for the client's region (UK when the region is unknown)."""
    return getattr(studio, REGION_MINIMUMS.get(region, REGION_MINIMUMS["UK"]))


def qualify(turn):
    """The end of the consultation: hand over, follow up, offer the tour, or complete."""
    lead, studio = turn.lead, turn.studio
    answers = lead.current_answers()
    found = estimate(lead, answers, studio)
    turn.update_lead(
        size_category=found.size_category,
        xl_days=found.xl_days,
        deposit_minor=found.deposit_minor,
    )
    coverup = answers.get(COVERUP_KEY)
    if coverup is not None and coverup.value is True:
        handover.hand_over(turn, "coverup")
        return
    if lead.budget_minor is not None and follow_up_budget(turn, answers):
        return
    place = tour.requested(answers)
    if place is not None:
        stops = list(tour.active_stops())
        if not tour.is_served(place, studio, stops):
            offer_tour(turn, place, stops)
            return
    complete(turn, answers, "ready for your approval")


def follow_up_budget(turn, answers):
    """Below the regional minimum (or in a currency we can't compare): NEEDS_FOLLOW_UP."""
    lead, studio = turn.lead, turn.studio
    minimum = regional_minimum(studio, lead.region)
    budget = copy.money(lead.budget_minor, lead.currency or studio.currency)
    minimum_text = copy.money(minimum, studio.currency)
    if lead.currency and lead.currency != studio.currency:
        reason = f"Budget {budget} is not in {studio.currency}; the minimum is {minimum_text}"
        body = copy.budget_other_currency(lead, budget)
    elif lead.budget_minor < minimum:
        region = lead.region or "UK"
        reason = f"Budget {budget} is below the {region} minimum of {minimum_text}"
        body = copy.budget_below_minimum(lead, budget, minimum_text)
    else:
        return False
    turn.transition("flag_follow_up", reason=reason, actor="bot")
    turn.update_lead(last_holding_reply_at=None)
    turn.reply(body, purpose="follow_up")
    notify_artist(turn, answers, reason)
    return True


def offer_tour(turn, place, stops):
    studio = turn.studio
    where = copy.join_places(tour.places(studio, stops), "and")
    reason = f"Wants {tour.place_name(place)}; the artist works in {where}"
    turn.transition("offer_tour", reason=reason, actor="bot")
    tour.send_offer(turn.lead, place, studio, stops)


def complete(turn, answers, headline):
    turn.transition("complete_qualification", reason=headline.capitalize(), actor="bot")
    turn.reply(copy.qualified(turn.lead), purpose="qualified")
    notify_artist(turn, answers, headline)


def notify_artist(turn, answers, headline):
    lead, studio = turn.lead, turn.studio
    deposit = copy.money(lead.deposit_minor, studio.currency) if lead.deposit_minor else ""
    body = copy.artist_new_lead(
        lead,
        client=lead.client,
        answers=script_answers.labelled_answers(lead, turn.script, studio, answers),
        estimate=copy.artist_estimate(lead.size_category, lead.xl_days, deposit),
        headline=headline,
    )
    handover.notify_artist(body, lead=lead)


# -- TOUR_CONVERSION_OFFERED -----------------------------------------------------------------


def on_tour_reply(turn):
    """Yes to the tour offer completes the qualification; no puts the client on the waitlist."""
    if handover.wants_a_person(turn):
        handover.hand_over_for_intent(turn)
        return
    decision = {copy.TOUR_YES: True, copy.TOUR_NO: False}.get(turn.inbound.reply_id)
    if decision is None:
        try:
            decision = parse_yes_no(turn.text)
        except ParseError:
            unclear_tour_reply(turn)
            return
    Answer.objects.create(
        lead=turn.lead,
        question_key=TOUR_KEY,
        text=turn.text or turn.inbound.reply_id,
        value=decision,
        message=turn.message,
    )
    clear_failures(turn, TOUR_KEY)
    answers = turn.lead.current_answers()
    if decision:
        complete(turn, answers, "accepted the tour offer; ready for your approval")
        return
    place = tour.requested(answers) or {}
    turn.transition("waitlist", reason="Declined the tour offer", actor="client")
    turn.reply(copy.tour_declined(turn.lead, tour.place_name(place)), purpose="waitlisted")


def unclear_tour_reply(turn):
    if third_strike(turn, count_failure(turn, TOUR_KEY), "tour_offer"):
        return
    stops = list(tour.active_stops())
    body = copy.tour_unclear(turn.lead, tour.places(turn.studio, stops))
    turn.reply(body, purpose="tour_offer", buttons=copy.tour_buttons())
