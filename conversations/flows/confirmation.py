"""The confirmation step after the last question: the summary, corrections to it, and the
qualification decision a YES leads to (hand over, follow up, offer the tour, or complete).
"""

from conversations import pricing, wording
from conversations.flows import completion, handover, script, tour
from conversations.flows.turn import MEDIA_KINDS, TEXT_KINDS
from conversations.models import Question, Status
from conversations.parsing import ParseError, format_money, parse_yes_no
from conversations.parsing.corrections import field_name, is_approval, parse_correction
from conversations.questions import CONFIRMATION

# -- the summary -----------------------------------------------------------------------------


def on_confirmation(turn):
    """After the last question: YES qualifies; "change budget to 800" corrects and re-shows."""
    if turn.kind in MEDIA_KINDS:
        media_question = next((q for q in turn.script if q.kind == Question.Kind.MEDIA), None)
        if media_question is not None:
            script.add_media(turn, media_question)
        turn.reply(script.prompt(turn), purpose="summary")
        return
    if turn.kind not in TEXT_KINDS or not turn.text:
        body = wording.cannot_read(turn.lead, turn.kind, script.prompt(turn))
        turn.reply(body, purpose="summary")
        return
    correction = find_correction(turn.text, turn.script)
    if correction is not None:
        question, value = correction
        if question is None:
            labels = [q.summary_label for q in turn.script]
            unclear_confirmation(turn, wording.correction_unknown_field(turn.lead, labels))
        else:
            correct(turn, question, value)
        return
    try:
        confirmed = is_approval(turn.text) or parse_yes_no(turn.text)
    except ParseError:
        unclear_confirmation(turn, wording.confirm_unclear(turn.lead))
        return
    script.clear_failures(turn, CONFIRMATION)
    if confirmed:
        qualify(turn)
    else:
        turn.reply(wording.ask_what_to_change(turn.lead), purpose="summary")


def unclear_confirmation(turn, body):
    count = script.count_failure(turn, CONFIRMATION)
    if not handover.hand_over_after_failures(turn, count, "unclear_summary"):
        turn.reply(body, purpose="summary")


# -- corrections -----------------------------------------------------------------------------


def find_correction(text, script):
    """(question, new value text) for "change budget to 800" or "budget: 800"; (None, value)
    when a change is asked for a field nobody knows; None when the text is no correction."""
    correction = parse_correction(text)
    if correction is None:
        return None
    fields = {}
    for question in script:
        for name in question.names():
            fields.setdefault(field_name(name), question)
    question = fields.get(correction.field)
    if question is None and not correction.asked:
        return None  # "Yes: all good" is not a correction of a field called "yes"
    return question, correction.value


def correct(turn, question, value):
    """Store the corrected answer and confirm only the changed line ("Updated: budget £500–600")."""
    try:
        parsed = script.parse_for(question, value, lambda: turn.studio, turn.lead)
    except ParseError as error:
        count = script.count_failure(turn, question.key)
        if not handover.hand_over_after_failures(turn, count, "parse", question.key):
            body = wording.correction_repair(
                turn.lead, question.summary_label, error.reason, question.example
            )
            turn.reply(body, purpose="repair")
        return
    at_summary = turn.lead.current_step >= len(turn.script)
    question_now = None if at_summary else script.prompt(turn)
    current = turn.lead.current_answers().get(question.key)
    if current is not None and script.display_for(question, current, turn.studio) == (
        parsed.display
    ):
        # "The budget is 500 to 600" when it already is: nothing changed, so no "Updated".
        body = wording.unchanged(turn.lead, question.summary_label, parsed.display, question_now)
        turn.reply(body, purpose="summary" if at_summary else "question")
        return
    ahead = question.key in script.answered_ahead(turn.lead)
    script.record(turn, question, value, parsed)
    if ahead:  # corrected before its turn: its step is still to be skipped
        failures = {**(turn.lead.parse_failures or {}), question.key: script.ANSWERED_AHEAD}
        turn.update_lead(parse_failures=failures)
    body = wording.updated(turn.lead, question.summary_label, parsed.display, question_now)
    turn.reply(body, purpose="summary" if at_summary else "question")


def correct_mid_flow(turn):
    """ "change budget to 500-600" before the summary: an answer already given, changed; True
    when the message was such a correction (the current question is then asked again)."""
    correction = find_correction(turn.text, turn.script)
    if correction is None:
        return False
    question, value = correction
    step = turn.lead.current_step
    if question is None or not value:
        return False
    position = turn.script.index(question)
    answered = position < step or question.key in script.answered_ahead(turn.lead)
    if not answered:
        return False  # "style: fine line" at the style question is just the answer
    correct(turn, question, value)
    return True


# -- the qualification decision --------------------------------------------------------------


def qualify(turn):
    """The end of the consultation: hand over, follow up, offer the tour, or complete."""
    lead, studio = turn.lead, turn.studio
    answers = lead.current_answers()
    found = pricing.estimate(lead.width_cm, lead.height_cm, answers, studio)
    turn.update_lead(
        size_category=found.size_category,
        xl_days=found.xl_days,
        deposit_minor=found.deposit_minor,
    )
    if pricing.is_cover_up(answers):
        handover.hand_over(turn, "cover_up_review")
        return
    if lead.budget_minor is not None and follow_up_budget(turn, answers):
        return
    place = tour.requested(answers)
    if place is not None and lead.status == Status.TOUR_CONVERSION_OFFERED:
        # Offered at the travel-city answer, and accepted: nothing left to ask.
        completion.complete(turn, answers, "accepted the tour offer; ready for your approval")
        return
    if place is not None:
        stops = list(tour.active_stops())
        if not tour.is_served(place, studio, stops):
            tour.offer_tour(turn, place, stops)
            return
    completion.complete(turn, answers, "ready for your approval")


def follow_up_budget(turn, answers):
    """Below the regional minimum (or in a currency we can't compare): NEEDS_FOLLOW_UP."""
    lead, studio = turn.lead, turn.studio
    problem = pricing.budget_problem(lead.budget_minor, lead.currency, lead.region, studio)
    if problem is None:
        return False
    budget = format_money(lead.budget_minor, lead.currency or studio.currency)
    minimum = format_money(pricing.regional_minimum(studio, lead.region), studio.currency)
    if problem == pricing.BudgetProblem.OTHER_CURRENCY:
        reason = wording.artist_budget_other_currency(budget, studio.currency, minimum)
        body = wording.budget_other_currency(lead, budget)
    else:
        reason = wording.artist_budget_below_minimum(
            budget, pricing.region_name(lead.region), minimum
        )
        body = wording.budget_below_minimum(lead, budget, minimum)
    turn.transition("flag_follow_up", reason=reason, actor="bot")
    turn.update_lead(last_holding_reply_at=None)
    turn.reply(body, purpose="follow_up")
    completion.send_new_lead_note(turn, answers, reason)
    return True
