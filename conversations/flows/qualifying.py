"""The consultation (QUALIFYING): each message offered to every unanswered question, the answers
stored and the step moved past whatever is answered; questions the client asks are answered from
the FAQ; after the last question, the confirmation step (flows/confirmation.py).
"""

from dataclasses import dataclass

from conversations import pricing, wording
from conversations.flows import confirmation, handover, script, tour
from conversations.flows.turn import MEDIA_KINDS, TEXT_KINDS
from conversations.models import Faq, Question
from conversations.parsing import Intent, ParsedAnswer, ParseError, format_money
from conversations.parsing.answers import shorten
from conversations.parsing.fragments import DESCRIPTIVE, find_slots, is_substantive, without
from conversations.parsing.text import fold
from conversations.questions import (
    COVERUP,
    LOCATION_CITY,
    LOCATION_COUNTRY,
    PLACEMENT,
    STYLE,
    TRAVEL_CITY,
)

K = Question.Kind
# What skips a question the artist marked optional (Question.required off).
SKIP_WORDS = frozenset({"skip", "pass", "next", "n/a", "rather not say", "prefer not to say"})
# Free-text questions a fragment can answer, by key; the others are reached by their kind.
KEYED_TARGETS = {PLACEMENT, STYLE, COVERUP, LOCATION_CITY}


# -- starting --------------------------------------------------------------------------------


def start(turn):
    """NEW → QUALIFYING: the client wrote in (dispatch hands over if they ask for a person)."""
    turn.transition("start_qualifying", reason="Client wrote in", actor="bot")


def ask_first(turn, opening):
    """Ask the current question (the first, for a new lead), worded by `opening(lead, question)`:
    a greeting, a welcome back, a resubscription. Answers to later questions in the opening
    message ("hi, a rose on my wrist, about 5x5cm") are kept, and said so."""
    labels = opening_answers(turn)
    question = script.prompt(turn)
    if labels:
        question = wording.noted_already(turn.lead, labels, question)
    turn.reply(opening(turn.lead, question), purpose="question")


def opening_answers(turn):
    """Store what the opening message answers of the questions after the current one."""
    step = turn.lead.current_step
    if turn.kind not in TEXT_KINDS or not turn.text or step >= len(turn.script):
        return []
    found = [s for s in find_slots(turn.text) if s.target != target_of(turn.script[step])]
    filled = fill_later(turn, found, step, script.answered_ahead(turn.lead))
    if filled:
        store_filled(turn, filled)
    return [question.summary_label for question in filled]


def open_with_enquiry(turn, name):
    """A first message that asks something ("how much for a tattoo?"): its answer, then the
    first question; True when it was such a message. "Space for a small rose?" gives the idea."""
    found = enquiry_in(turn)
    if found is None:
        return False
    enquiry, row = found
    if row is None or row.hands_over:
        hand_over_enquiry(turn, row)
        return True
    answer = wording.faq_fill(row.answer, turn.studio)
    take_carried_idea(turn, enquiry.carried)
    body = wording.greeting_with_answer(turn.lead, name, answer, script.prompt(turn))
    turn.reply(body, purpose="question")
    return True


# -- QUALIFYING ------------------------------------------------------------------------------


def on_message(turn):
    """QUALIFYING: an answer to the current question, or to the summary after the last one."""
    if turn.intent in (Intent.CONTINUE, Intent.RESTART):
        body = wording.repeat_question(turn.lead, script.prompt(turn))
        turn.reply(body, purpose="question")
    elif turn.lead.current_step >= len(turn.script):
        confirmation.on_confirmation(turn)
    else:
        on_answer(turn, turn.script[turn.lead.current_step])


def enquiry_in(turn):
    """(the enquiry, its FAQ row or None) when the message asks a question; else None."""
    if turn.kind not in TEXT_KINDS or not turn.text:
        return None
    return turn.faqs.match(turn.text)


def answer_enquiry(turn):
    """A question mid-consultation: the FAQ's answer and the current question again, or the
    artist when the studio has no answer. Never stored as an answer; True when it was one."""
    found = enquiry_in(turn)
    if found is None:
        return False
    enquiry, row = found
    if row is None or row.hands_over:
        hand_over_enquiry(turn, row)
        return True
    answer = wording.faq_fill(row.answer, turn.studio)
    take_carried_idea(turn, enquiry.carried)
    purpose = "question" if turn.lead.current_step < len(turn.script) else "summary"
    turn.reply(wording.faq_answer(turn.lead, answer, script.prompt(turn)), purpose=purpose)
    return True


def hand_over_enquiry(turn, row):
    """A question the FAQ has no answer for: the artist answers it."""
    if row is not None and row.topic == Faq.Topic.ARTIST:
        handover.hand_over(turn, "human")
    else:
        handover.hand_over(turn, "faq", turn.text[:120])


def take_carried_idea(turn, carried):
    """The idea inside "do you have space for a small rose?", as the answer to the current
    free-text question; True when it was taken."""
    step = turn.lead.current_step
    if not carried or step >= len(turn.script) or not is_substantive(carried):
        return False
    question = turn.script[step]
    if script.parser_kind(question) != K.TEXT or question.key in KEYED_TARGETS:
        return False
    parsed = ParsedAnswer(carried, shorten(carried))
    ahead = script.answered_ahead(turn.lead)
    columns = script.answer_columns(turn, question, parsed.value)
    to_step = script.next_step(turn.script, step, ahead)
    columns.update(skipped_columns(turn, step, to_step, ahead, columns))
    if not turn.advance_step(to_step=to_step, **columns):
        return False
    script.store_answer(turn, question, carried, parsed)
    return True


def on_answer(turn, question):
    if turn.kind in MEDIA_KINDS:
        on_media(turn, question)
        return
    if turn.kind not in TEXT_KINDS or not turn.text:
        body = wording.cannot_read(turn.lead, turn.kind, script.prompt(turn))
        turn.reply(body, purpose="question")
        return
    if not question.required and fold(turn.text) in SKIP_WORDS:
        accept(turn, question, turn.text, ParsedAnswer(value=None, display=turn.text))
        return
    if confirmation.correct_mid_flow(turn):
        return
    understand(turn, question)


# -- slot filling ----------------------------------------------------------------------------


def target_of(question):
    """The slot target a question's answers are found by (fragments.py names them)."""
    return question.key if question.key in KEYED_TARGETS else question.kind


def understand(turn, question):
    """Offer the message to the current question and to every unanswered later one."""
    text = turn.text
    found = find_slots(text)
    ahead = script.answered_ahead(turn.lead)
    step = turn.lead.current_step
    own = next((slot for slot in found if slot.target == target_of(question)), None)
    filled = fill_later(turn, [s for s in found if s is not own], step, ahead)
    reading = answer_to_current(turn, question, own, filled, found)
    if isinstance(reading, Reading):
        accept(turn, question, reading.text, reading.parsed, filled if reading.keep_others else {})
    elif filled:
        store_filled(turn, filled)
        labels = [q.summary_label for q in filled]
        turn.reply(wording.noted_only(turn.lead, labels, script.prompt(turn)), purpose="question")
    elif reading.reason:
        fail(turn, question, reading.reason)
    elif reading.elsewhere:  # a size or a budget, already answered: not this answer
        turn.reply(wording.one_at_a_time(turn.lead, script.prompt(turn)), purpose="question")
    else:  # "hello??": nothing to thank for
        turn.reply(wording.not_an_answer(turn.lead, script.prompt(turn)), purpose="question")


@dataclass(frozen=True)
class Reading:
    """The message read as the current question's answer (`keep_others`: and other fragments
    of it answer later questions; False when the whole message was this answer)."""

    text: str
    parsed: ParsedAnswer
    keep_others: bool = True


@dataclass(frozen=True)
class NoReading:
    """Why the message is no answer to the current question: the parser's `reason`, or
    `elsewhere` (it answers another question), or neither (it says nothing)."""

    reason: str = ""
    elsewhere: bool = False


def fill_later(turn, found, step, ahead):
    """{question: (slot, parsed)} for the fragments a later, unanswered question accepts."""
    later = [q for q in turn.script[step + 1 :] if q.key not in ahead]
    filled = {}
    for slot in found:
        question = next((q for q in later if target_of(q) == slot.target and q not in filled), None)
        if question is None:
            continue
        try:
            parsed = script.parse_for(question, slot.answer, lambda: turn.studio, turn.lead)
        except (ParseError, ValueError):
            continue  # never force a fragment into a field that does not take it
        if question.key == LOCATION_CITY and not parsed.value.get("country_code"):
            continue  # "I'm in love with roses": only a place we know counts, in passing
        filled[question] = (slot, parsed)
    return filled


def answer_to_current(turn, question, own, filled, found):
    """The current question's answer in the message (a Reading), or why there is none."""
    text, studio = turn.text, (lambda: turn.studio)
    if own is not None:
        try:
            parsed = script.parse_for(question, own.answer, studio, turn.lead)
        except (ParseError, ValueError):
            pass
        else:
            return Reading(own.text if filled else text, parsed)
    if script.parser_kind(question) == K.TEXT:
        return free_text_reading(text, filled, found)
    reason = ""
    if filled:
        rest = without(text, [slot for slot, _ in filled.values()])
        if rest:
            try:
                return Reading(rest, script.parse_for(question, rest, studio, turn.lead))
            except ParseError as error:
                reason = error.reason
    try:
        parsed = script.parse_for(question, text, studio, turn.lead)
    except ParseError as error:
        return NoReading() if filled else NoReading(reason or error.reason)
    # The whole message is this answer: nothing of it answers another question.
    return Reading(text, parsed, keep_others=False)


def free_text_reading(text, filled, found):
    """A free-text answer is what the message says besides its other answers, if anything."""
    used = [slot for slot, _ in filled.values()]
    # A size or a budget no question takes is still no idea; a style word may be one.
    cut = used + [s for s in found if s.target not in DESCRIPTIVE and s not in used]
    if not is_substantive(without(text, cut)):
        return NoReading(elsewhere=len(cut) > len(used))
    if not filled:
        return Reading(text, ParsedAnswer(text, shorten(text)))
    rest = without(text, [slot for slot in used if slot.target not in DESCRIPTIVE])
    return Reading(rest, ParsedAnswer(rest, shorten(rest)))


def store_filled(turn, filled):
    """Store answers to later questions only, marked answered ahead (one lead UPDATE)."""
    columns = {}
    failures = dict(turn.lead.parse_failures or {})
    for question, (slot, parsed) in filled.items():
        script.store_answer(turn, question, slot.text, parsed)
        columns.update(script.facts_for(question, parsed.value))
        failures[question.key] = script.ANSWERED_AHEAD
        if inferred_country(question, parsed):
            failures.setdefault(LOCATION_COUNTRY, script.ANSWERED_AHEAD)
    turn.update_lead(parse_failures=failures, **columns)


def inferred_country(question, parsed):
    """A home city that names its country: the country question is not asked."""
    return (
        question.key == LOCATION_CITY
        and isinstance(parsed.value, dict)
        and bool(parsed.value.get("country_code"))
    )


def skipped_columns(turn, step, to_step, ahead, columns):
    """The failure counts once the steps up to `to_step` are behind: their marks cleared."""
    failures = dict(columns.get("parse_failures", turn.lead.parse_failures or {}))
    passed = {q.key for q in turn.script[step:to_step]}
    changed = {k: n for k, n in failures.items() if not (k in passed and n == 0)}
    if "parse_failures" not in columns and changed == (turn.lead.parse_failures or {}):
        return {}  # the common case: nothing to write, so the step UPDATE stays as it was
    return {"parse_failures": changed}


def on_media(turn, question):
    """Pictures answer the reference question; elsewhere they are kept and the question repeated."""
    step = turn.lead.current_step
    if question.kind == K.MEDIA:
        answer = script.media_answer(turn.inbound)
        accept(turn, question, script.media_text(turn), answer)
        return
    previous = turn.script[step - 1] if step > 0 else None
    if previous is not None and previous.kind == K.MEDIA:
        # The rest of a burst of pictures: the next question has just gone out, don't repeat it.
        script.add_media(turn, previous)
        return
    turn.reply(wording.media_kept(turn.lead, script.prompt(turn)), purpose="question")


def accept(turn, question, text, parsed, filled=None):
    """Store a valid answer (and those to later questions), ask the next unanswered question,
    unless the step moved under us."""
    filled = filled or {}
    step = turn.lead.current_step
    ahead = script.answered_ahead(turn.lead)
    # One UPDATE moves the step and writes the answers' facts (and the turn's pending columns).
    columns = script.answer_columns(turn, question, parsed.value)
    if filled or inferred_country(question, parsed):
        failures = dict(columns.get("parse_failures", turn.lead.parse_failures or {}))
        for other, (_slot, other_parsed) in filled.items():
            columns.update(script.facts_for(other, other_parsed.value))
            failures[other.key] = script.ANSWERED_AHEAD
            if inferred_country(other, other_parsed):
                failures.setdefault(LOCATION_COUNTRY, script.ANSWERED_AHEAD)
        if inferred_country(question, parsed):
            failures.setdefault(LOCATION_COUNTRY, script.ANSWERED_AHEAD)
        columns["parse_failures"] = failures
        ahead = script.answered_ahead_in(failures)
    to_step = script.next_step(turn.script, step, ahead)
    columns.update(skipped_columns(turn, step, to_step, ahead, columns))
    advanced = turn.advance_step(to_step=to_step, **columns)
    if not advanced:
        return  # someone else answered this step and asked the next question
    script.store_answer(turn, question, text, parsed)
    for other, (slot, other_parsed) in filled.items():
        script.store_answer(turn, other, slot.text, other_parsed)
    answered = [question, *filled]
    if out_of_area(turn, answered):
        return
    next_prompt = script.prompt(turn)
    if turn.lead.current_step >= len(turn.script):
        turn.reply(next_prompt, purpose="summary")
        return
    if low_budget(turn, answered, next_prompt):
        return
    labels = [q.summary_label for q in filled]
    body = wording.next_question(turn.lead, next_prompt, turn.lead.current_step, labels)
    turn.reply(body, purpose="question")


def out_of_area(turn, answered):
    """A travel city the artist doesn't work in: the tour offer now, not after the summary."""
    if not any(q.key == TRAVEL_CITY for q in answered):
        return False
    place = tour.requested(turn.lead.current_answers())
    if place is None:
        return False
    stops = list(tour.active_stops())
    if tour.is_served(place, turn.studio, stops):
        return False
    tour.offer_tour(turn, place, stops, early=True)
    return True


def low_budget(turn, answered, next_prompt):
    """A budget under the minimum: said kindly at the answer, and the consultation goes on."""
    lead, studio = turn.lead, turn.studio
    if not any(q.kind == K.BUDGET for q in answered) or lead.budget_minor is None:
        return False
    problem = pricing.budget_problem(lead.budget_minor, lead.currency, lead.region, studio)
    if problem != pricing.BudgetProblem.BELOW_MINIMUM:
        return False
    budget = format_money(lead.budget_minor, lead.currency or studio.currency)
    minimum = format_money(pricing.regional_minimum(studio, lead.region), studio.currency)
    turn.reply(wording.budget_low_note(lead, budget, minimum, next_prompt), purpose="question")
    return True


def fail(turn, question, reason):
    """A failed answer: a repair prompt with an example, or the artist on the third failure."""
    count = script.count_failure(turn, question.key)
    if not handover.hand_over_after_failures(turn, count, "parse", question.key):
        turn.reply(wording.repair(turn.lead, reason, question.example, count), purpose="repair")
