"""The consultation (QUALIFYING): one question at a time, each answer parsed, stored and the step
advanced, or repaired; after the last question the confirmation step (flows/confirmation.py).
"""

from conversations import wording
from conversations.flows import confirmation, handover, script
from conversations.flows.turn import MEDIA_KINDS, TEXT_KINDS
from conversations.models import Question
from conversations.parsing import Intent, ParsedAnswer, ParseError
from conversations.parsing.signals import kinds_answered_in
from conversations.parsing.text import fold

K = Question.Kind
# What skips a question the artist marked optional (Question.required off).
SKIP_WORDS = frozenset({"skip", "pass", "next", "n/a", "rather not say", "prefer not to say"})


# -- starting --------------------------------------------------------------------------------


def start(turn):
    """NEW → QUALIFYING: the client wrote in (dispatch hands over if they ask for a person)."""
    turn.transition("start_qualifying", reason="Client wrote in", actor="bot")


def ask_first(turn, opening):
    """Ask the current question (the first, for a new lead), worded by `opening(lead, question)`:
    a greeting, a welcome back, a resubscription."""
    turn.reply(opening(turn.lead, script.prompt(turn)), purpose="question")


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
    others = other_answers_in(turn, question)
    try:
        parsed = script.parse_for(question, turn.text, lambda: turn.studio)
    except ParseError as error:
        if others:
            # Not a bad answer, an early one: ask the current question again, no repair count.
            one_at_a_time(turn)
        else:
            fail(turn, question, error.reason)
        return
    # Free text accepts anything, so a message carrying two other answers is not taken as one.
    if question.kind == K.TEXT and len(others) >= 2:
        one_at_a_time(turn)
        return
    accept(turn, question, turn.text, parsed)


def other_answers_in(turn, question):
    """Kinds of the script's other questions that this message seems to answer as well."""
    return kinds_answered_in(turn.text, {q.kind for q in turn.script} - {question.kind})


def one_at_a_time(turn):
    turn.reply(wording.one_at_a_time(turn.lead, script.prompt(turn)), purpose="question")


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


def accept(turn, question, text, parsed):
    """Store a valid answer and ask the next question, unless the step moved under us."""
    # One UPDATE moves the step and writes the answer's facts (and the turn's pending columns).
    advanced = turn.advance_step(**script.answer_columns(turn, question, parsed.value))
    if not advanced:
        return  # someone else answered this step and asked the next question
    script.store_answer(turn, question, text, parsed)
    if turn.lead.current_step < len(turn.script):
        question_text = script.question_text(turn.script[turn.lead.current_step])
        body = wording.next_question(turn.lead, question_text, turn.lead.current_step)
        turn.reply(body, purpose="question")
    else:
        turn.reply(script.prompt(turn), purpose="summary")


def fail(turn, question, reason):
    """A failed answer: a repair prompt with an example, or the artist on the third failure."""
    count = script.count_failure(turn, question.key)
    if not handover.hand_over_after_failures(turn, count, "parse", question.key):
        turn.reply(wording.repair(turn.lead, reason, question.example, count), purpose="repair")
