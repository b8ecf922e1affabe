"""Every word the bot sends, en-GB, in one place; flow code never spells out a sentence.

Most messages come in a few variants so the bot sounds less canned. The variant is chosen by
the lead's id, so one client always hears the same voice and tests are deterministic.
"""

from django.utils.timezone import localtime

# -- helpers -------------------------------------------------------------------------------


def _pick(lead, *variants, turn=0):
    """The variant for this lead (and `turn`, to vary a phrase said at every step)."""
    return variants[((getattr(lead, "pk", None) or 0) + turn) % len(variants)]


def _first_name(name):
    return (name or "").strip().split(" ")[0][:40]


def join_places(places, conjunction="or"):
    """'London', 'London or Berlin', 'London, Berlin or Paris'."""
    places = list(places)
    if len(places) <= 1:
        return "".join(places)
    return f"{', '.join(places[:-1])} {conjunction} {places[-1]}"


# -- asking questions ----------------------------------------------------------------------


def question_text(prompt, options=()):
    """A question as sent: the artist's prompt, plus a numbered menu for choice questions."""
    if not options:
        return prompt
    menu = "\n".join(
        f"{number}. {option[1] if isinstance(option, list | tuple) else option}"
        for number, option in enumerate(options, start=1)
    )
    return f"{prompt}\n{menu}"


def greeting(lead, name, question):
    first = _first_name(name)
    if first:
        hello = f"Hi {first}!"
        intro = _pick(
            lead,
            "Thanks for getting in touch about a tattoo. I'll ask a few quick questions so the "
            "artist has everything they need — it only takes a couple of minutes.",
            "Lovely to hear from you. I'm the studio's assistant: a few quick questions and your "
            "idea goes straight to the artist.",
            "I'll take a few details about your idea first, then pass them to the artist.",
        )
    else:
        hello = "Hi!"
        intro = _pick(
            lead,
            "Thanks for getting in touch about a tattoo. I'll ask a few quick questions so the "
            "artist has everything they need — it only takes a couple of minutes.",
            "Lovely to hear from you. I'm the studio's assistant: a few quick questions and your "
            "idea goes straight to the artist.",
            "Thanks for your message! I'll take a few details about your idea first, then pass "
            "them to the artist.",
        )
    return f"{hello} {intro}\n\n{question}"


def greeting_with_answer(lead, name, answer, question):
    """The opening when the first message was a question: hello, its answer, the question."""
    first = _first_name(name)
    hello = f"Hi {first}!" if first else "Hi!"
    return (
        f"{hello} {answer}\n\nI'll ask a few quick questions so the artist has everything they "
        f"need.\n\n{question}"
    )


def welcome_back(lead, question):
    intro = _pick(
        lead,
        "Welcome back! Let's pick up where we left off.",
        "Good to hear from you again — let's carry on.",
        "Hello again! Here's where we got to.",
    )
    return f"{intro}\n\n{question}"


def resubscribed(lead, question):
    return (
        "You're back on — you'll get messages from us again. Let's carry on where we left off."
        f"\n\n{question}"
    )


def resubscribed_plain(lead):
    return "You're back on — you'll get messages from us again."


ACKNOWLEDGEMENTS = ("Thanks!", "Got it.", "Great, thank you.", "Perfect.", "Lovely.", "Noted.")


def next_question(lead, question, step=0, noted=()):
    """An acknowledged answer and the next question; `noted` names other answers it gave.

    The acknowledgement moves on with the step, so two in a row are never the same.
    """
    thanks = ACKNOWLEDGEMENTS[((getattr(lead, "pk", None) or 0) + step) % len(ACKNOWLEDGEMENTS)]
    if noted:
        thanks = f"{thanks} {noted_line(noted)}"
    return f"{thanks}\n\n{question}"


def _in_sentence(label):
    """A summary label inside a sentence: "size", "city"; "Instagram" stays a name."""
    label = label.removeprefix("Your ")
    return label if label.split(" ")[0] in {"Instagram"} else label.lower()


def noted_line(labels):
    """ "I've got your size and budget too." """
    return f"I've got your {join_places([_in_sentence(x) for x in labels], 'and')} too."


def noted_only(lead, labels, question):
    """Answers to later questions, none to this one: say what was kept, ask this one again."""
    names = join_places([_in_sentence(label) for label in labels], "and")
    return f"Thanks — I've noted your {names}.\n\n{question}"


def noted_already(lead, labels, question):
    """The first question, after a first message that answered later ones."""
    names = join_places([_in_sentence(label) for label in labels], "and")
    return f"I've noted your {names} already.\n\n{question}"


def not_an_answer(lead, question):
    """ "hello??" or an empty nudge: no thanks, just the question again."""
    return f"I'm here! {question}"


def faq_answer(lead, answer, question):
    """A client's question answered, then the question they were on, asked again."""
    return f"{answer}\n\n{_pick(lead, 'Now, where were we?', 'Back to your tattoo:')} {question}"


def faq_fill(answer, studio):
    """The studio's FAQ answer with its placeholders filled ({home_city})."""
    try:
        return answer.format_map({"home_city": studio.home_city})
    except (KeyError, ValueError, IndexError, AttributeError):
        return answer


def updated(lead, label, value, question=None):
    """After a correction: only the changed line, and what comes next."""
    return _after_correction(f"Updated: {_in_sentence(label)} {value}", question)


def unchanged(lead, label, value, question=None):
    """A "correction" to what is already there: say so, and what comes next."""
    return _after_correction(f"That's what I have already: {_in_sentence(label)} {value}", question)


def _after_correction(line, question):
    if question is None:
        return f"{line}. Reply YES if everything's right now, or tell me what else to change."
    return f"{line}.\n\n{question}"


def budget_low_note(lead, budget, minimum, question):
    """At the budget answer: the minimum said kindly, and the consultation carries on."""
    return (
        f"Thanks! Just so you know, the artist's minimum for a piece is {minimum} and your "
        f"budget is {budget}. If you can stretch to that, tell me your new budget any time "
        f"(e.g. “budget {minimum}”); otherwise no problem — we'll carry on and the artist "
        f"will still see your idea.\n\n{question}"
    )


def rough_size_note(category):
    """How a guessed size reads in the summary and to the artist."""
    return f"{category.capitalize()} (rough guess)"


# The default FAQ rows (migration 0012 seeds them; the artist edits them in the admin):
# (topic, how clients ask it, the answer; blank passes the question to the artist).
DEFAULT_FAQ = (
    (
        "price",
        "How much does a tattoo cost?",
        "Every piece is priced individually — size, detail and placement all count. Once I've "
        "got your details, the artist will send you a quote.",
    ),
    (
        "deposit",
        "How much is the deposit?",
        "A deposit secures your date and comes off the final price. The artist confirms the "
        "amount with your quote, and you pay it by card through a secure link.",
    ),
    (
        "location",
        "Where are you based?",
        "The artist works from {home_city}; you'll get the exact address with your booking.",
    ),
    (
        "booking",
        "How does booking work?",
        "You answer a few quick questions here, the artist reviews your idea and sends a "
        "quote, then a deposit secures your date.",
    ),
    (
        "availability",
        "Do you have space for a new tattoo?",
        "Yes, the artist is taking bookings! Dates depend on the piece — they'll offer you "
        "some once they've seen your idea.",
    ),
    (
        "aftercare",
        "How do I look after a new tattoo?",
        "You'll get full aftercare instructions on the day. In short: keep it clean, "
        "moisturise lightly, and keep it out of the sun and the pool for two weeks.",
    ),
    ("artist", "Can I talk to the artist directly?", ""),
)


def repeat_question(lead, question):
    return question


def repair(lead, reason, example, attempt):
    """The repair prompt after a failed answer: what went wrong and an answer that works."""
    opening = (
        _pick(lead, "Sorry, I didn't quite get that.", "Hmm, I couldn't make that out.")
        if attempt <= 1
        else _pick(lead, "Sorry, still not quite there.", "Sorry, I'm still not sure.")
    )
    # The parser's reason often carries an example already; only add ours when it differs.
    hint = f"\nSomething like “{example}” works." if example and example not in reason else ""
    return f"{opening} {reason}{hint}"


def one_at_a_time(lead, question):
    intro = _pick(
        lead,
        "Let's take it one question at a time so nothing gets lost.",
        "I'll go through the questions one by one so I get everything right.",
    )
    return f"{intro}\n\n{question}"


def media_kept(lead, question):
    intro = _pick(
        lead,
        "Thanks for the picture — I've kept it with your enquiry.",
        "Got the image, thank you — it's saved with your enquiry.",
    )
    return f"{intro}\n\n{question}"


def cannot_read(lead, kind, question):
    if kind == "audio":
        intro = "Sorry, I can't listen to voice notes here — could you type your answer?"
    else:
        intro = "Sorry, I can't read that kind of message — could you type your answer?"
    return f"{intro}\n\n{question}"


# -- the confirmation summary --------------------------------------------------------------


def summary_line(label, value):
    return f"• {label}: {value}"


def summary(lead, lines):
    intro = _pick(
        lead,
        "Here's what I've got:",
        "Thanks! Here's a summary of your idea:",
        "Lovely — here's everything so far:",
    )
    body = "\n".join(lines) or "(no answers yet)"
    return (
        f"{intro}\n\n{body}\n\nIs that all correct? Reply YES to send it to the artist, or tell "
        "me what to change — for example “change budget to 800”."
    )


def media_display(images, links):
    """'2 images, 1 link' or 'None' for the summary."""
    parts = []
    if images:
        parts.append(f"{images} image{'s' if images != 1 else ''}")
    if links:
        parts.append(f"{links} link{'s' if links != 1 else ''}")
    return ", ".join(parts) or "None"


def ask_what_to_change(lead):
    return (
        "No problem — what would you like to change? For example “change budget to 800” or "
        "“change placement to left forearm”."
    )


def confirm_unclear(lead):
    return (
        "Sorry, I didn't catch that. Reply YES if the summary is right, or tell me what to "
        "change — for example “change budget to 800”."
    )


def correction_unknown_field(lead, labels):
    return (
        f"Which answer would you like to change? You can change: {', '.join(labels)}. "
        "For example “change budget to 800”."
    )


def correction_repair(lead, label, reason, example):
    hint = f" For example: “change {label.lower()} to {example}”." if example else ""
    return f"Sorry, I couldn't use that for {label.lower()}. {reason}{hint}"


# -- the end of the consultation -----------------------------------------------------------


def qualified(lead):
    return _pick(
        lead,
        "Thank you — that's everything I need! The artist will look at your idea and get back "
        "to you here soon.",
        "All done, thank you! Your idea is with the artist now; they'll reply here soon.",
        "Perfect, that's everything. The artist will review your idea and be in touch here.",
    )


def budget_below_minimum(lead, budget, minimum):
    return (
        f"Thanks! Just so you know, the artist's minimum for a piece is {minimum}, and your "
        f"budget is {budget}. If you can stretch to that, reply with your new budget; either "
        "way the artist will look at your idea and get back to you."
    )


def budget_other_currency(lead, budget):
    return (
        f"Thanks! The artist prices in pounds, so they'll check your budget of {budget} and "
        "get back to you here."
    )


def budget_noted(lead, budget):
    return f"Thanks — I've updated your budget to {budget} and passed it on to the artist."


TOUR_YES = "tour_yes"
TOUR_NO = "tour_no"


def tour_buttons():
    return [(TOUR_YES, "Yes, I can travel"), (TOUR_NO, "No, thanks")]


def tour_offer(lead, city, places):
    return (
        f"Thanks! The artist isn't working in {city} at the moment — they're in "
        f"{join_places(places, 'and')}. Would you be happy to travel to "
        f"{join_places(places)} for your session? Reply YES or NO."
    )


def tour_offer_now(lead, city, places):
    """The tour offer at the travel-city answer, before the last questions."""
    return (
        f"Just so you know, the artist isn't working in {city} at the moment — they're in "
        f"{join_places(places, 'and')}. Would you be happy to travel to {join_places(places)} "
        "for your session? Reply YES or NO."
    )


def tour_accepted_carry_on(lead, question):
    return f"Brilliant, thank you! Let's finish up.\n\n{question}"


def tour_unclear(lead, places):
    return (
        f"Sorry, I didn't catch that — would you be able to come to {join_places(places)}? "
        "Reply YES or NO."
    )


def tour_declined(lead, city):
    return (
        "No problem at all. I've put you on the waitlist, and we'll let you know if the artist "
        f"comes to {city}."
    )


# -- handover ------------------------------------------------------------------------------


def handover(lead, kind):
    """What the client hears when a person takes over; `kind` says why."""
    if kind == "refund":
        return (
            "I've passed your refund question to the artist, who'll get back to you here "
            "personally."
        )
    if kind == "delete_data":
        return (
            "I've passed your request to delete your data to the artist; they'll confirm here "
            "once it's done."
        )
    if kind == "parse":
        return (
            "Sorry, I'm struggling to understand that one. I've asked the artist to pick it up "
            "with you personally — they'll reply here."
        )
    if kind == "faq":
        return "Good question — I've passed it to the artist, who'll answer you here personally."
    if kind == "cover_up_review":
        return (
            "Thanks! Cover-ups need the artist's own eye, so I've passed your details to them "
            "— they'll get back to you here."
        )
    return _pick(
        lead,
        "Of course — I've passed your message to the artist, who'll reply here as soon as they "
        "can.",
        "No problem, I've asked the artist to get back to you personally. They'll reply here.",
    )


def holding_reply(lead):
    return _pick(
        lead,
        "Thanks for your message — the artist has it and will reply as soon as they can.",
        "Thank you! Your message is with the artist; they'll get back to you here soon.",
    )


def resumed(lead, question):
    return f"Thanks for waiting! Let's carry on where we left off.\n\n{question}"


# -- opting out ----------------------------------------------------------------------------


def opt_out_confirmation(lead):
    return "You won't get any more messages from us. If you change your mind, just reply START."


# -- statuses without a conversation -------------------------------------------------------


def acknowledgement(lead, status, *, deposit=None):
    """The occasional reply while the lead waits on someone else."""
    if status == "AWAITING_DEPOSIT":
        amount = f" of {deposit}" if deposit else ""
        return (
            f"Thanks! Your booking is waiting on the deposit{amount}; the payment link is in "
            "my earlier message. Reply here if you need any help."
        )
    if status == "DEPOSIT_EXPIRED":
        return (
            "Thanks for your message. Your deposit link has expired — the artist will be in "
            "touch about a new one."
        )
    if status in ("DEPOSIT_PAID", "BOOKING_LINK_SENT", "BOOKING_PENDING"):
        return "Thanks! Your deposit is in and the artist will confirm your date with you here."
    if status == "COLLECTING_TIME_WINDOWS":
        return "Thanks! The artist is looking at dates and will confirm with you here."
    if status == "NEEDS_FOLLOW_UP":
        return "Thanks for your message — the artist will look at your enquiry and get back to you."
    if status in ("BOOKED",):
        return "Thanks for your message! The artist will see it and reply if needed."
    return _pick(
        lead,
        "Thanks! The artist is reviewing your enquiry and will be in touch soon.",
        "Thank you — your enquiry is with the artist, who'll get back to you here.",
    )


# -- notices outside any lead (used by flows/inbound.py) -----------------------------------


def pilot_not_available():
    return (
        "Thanks for your message! This number isn't taking enquiries just yet — please get in "
        "touch through the studio's Instagram instead."
    )


def panic_holding_reply():
    return (
        "Thanks for your message! The assistant is paused for a moment; the artist will reply "
        "to you personally."
    )


def panic_artist_note(client, body):
    return f"Paused: message from {client.display_name or client.address}: {body[:300]}"


# -- notes to the artist (their own phone, not the client) ---------------------------------


def artist_packet(lead, *, client, reason, answers, failures, estimate, recent):
    """The handover packet: everything the artist needs to pick the conversation up."""
    lines = [
        f"🙋 Lead #{lead.pk} needs you: {reason}",
        f"Client: {client.display_name or '(no name)'} · {client.address} ({client.channel})",
    ]
    if answers:
        lines += ["", "Answers:", *answers]
    if failures:
        lines += ["", "Not understood: " + ", ".join(f"{k} ×{n}" for k, n in failures.items())]
    if estimate:
        lines += ["", f"Estimate: {estimate}"]
    if recent:
        lines += ["", "Last messages:", *recent]
    return "\n".join(lines)


def artist_recent_line(message):
    arrow = "←" if message.direction == "in" else "→"
    when = localtime(message.created_at).strftime("%d %b %H:%M")
    body = message.body if len(message.body) <= 120 else message.body[:119] + "…"
    return f"{when} {arrow} {body or f'[{message.kind}]'}"


def artist_estimate(size_category, xl_days, deposit):
    if not size_category:
        return ""
    days = f", {xl_days} day{'s' if xl_days != 1 else ''}" if xl_days else ""
    return f"{size_category}{days}; deposit {deposit}" if deposit else f"{size_category}{days}"


def artist_new_lead(lead, *, client, answers, estimate, headline):
    lines = [
        f"✨ Lead #{lead.pk}: {headline}",
        f"Client: {client.display_name or '(no name)'} · {client.address}",
        "",
        *answers,
    ]
    if estimate:
        lines += ["", f"Estimate: {estimate}"]
    return "\n".join(lines)


def artist_budget_update(lead, budget):
    return f"💷 Lead #{lead.pk} updated their budget to {budget}."


def artist_budget_below_minimum(budget, region, minimum):
    return f"Budget {budget} is below the {region} minimum of {minimum}"


def artist_budget_other_currency(budget, currency, minimum):
    return f"Budget {budget} is not in {currency}; the minimum is {minimum}"


def artist_tour_reason(city, places):
    return f"Wants {city}; the artist works in {join_places(places, 'and')}"


def artist_handover_reason(kind, detail=""):
    """The handover reason stored on the lead and shown to the artist."""
    reasons = {
        "artist": "The artist took over",
        "human": "Client asked for a person",
        "refund": "Client asked about a refund",
        "delete_data": "Client asked to delete their data",
        "price_haggle": "Client wants to discuss the price",
        "scheduling": "Client asked about dates or availability",
        "cover_up_review": "Cover-up: needs the artist's assessment",
        "faq": f"Client asked: “{detail}”",
        "parse": f"Could not understand the answer to “{detail}” after 3 tries",
        "unclear_summary": "Could not confirm the summary after 3 tries",
        "unclear_tour_reply": "Could not understand the reply to the tour offer after 3 tries",
    }
    return reasons.get(kind, detail or kind)


# -- reminders to a quiet client (send_reminders) ------------------------------------------


def reminder(lead, question, custom=""):
    """The nudge after a few hours of silence; `custom` is the artist's own opening, if any."""
    opening = custom.strip() or _pick(
        lead,
        "Just checking in — whenever you have a moment, here's where we got to.",
        "No rush! When you're ready, we can carry on from here.",
    )
    return f"{opening}\n\n{question}"


def last_reminder(lead, question, custom=""):
    """The last reminder before the enquiry is set aside; the client can still pick it up."""
    opening = custom.strip() or (
        "One last nudge: I'll set your enquiry aside soon, but you can pick it up any time "
        "by replying here."
    )
    return f"{opening}\n\n{question}"


def artist_sweep_reason(transition, idle_for):
    """The history line of a lead the scheduled sweep set aside."""
    hours = int(idle_for.total_seconds() // 3600)
    span = f"{hours // 24} days" if hours % 24 == 0 and hours >= 48 else f"{hours} hours"
    if transition == "abandon":
        return f"No message from the client for {span}"
    return f"No activity for {span}"


# == session reminders (issue 12, the diary: flows/reminders.py) ==========================


def _session_when(start, today):
    """'tomorrow at 10:00', 'today at 14:30' or 'on Tuesday 3 June at 10:00' (local times)."""
    days = (start.date() - today).days
    day = {0: "today", 1: "tomorrow"}.get(days, f"on {start:%A} {start.day} {start:%B}")
    return f"{day} at {start:%H:%M}"


def session_reminder(lead, name="", start=None, today=None, kind="48h"):
    """48 or 24 hours before a booked session; `start` and `today` in the artist's zone."""
    when = _session_when(start, today) if start and today else "soon"
    first = _first_name(name)
    hello = f"Hi {first}! " if first else "Hi! "
    if kind == "48h":
        return (
            f"{hello}A reminder that your tattoo session is {when}. If anything has changed, "
            "reply here as soon as you can so we can sort it out."
        )
    return (
        f"{hello}See you {when} for your session. Come well rested and fed, and bring "
        "any reference you'd like to look at again. Just reply here if something comes up."
    )


# == deposits and booking (issue 12: flows/deposits.py, flows/booking.py) ===================
# -- to the client --------------------------------------------------------------------------


def deposit_policy(lead=None):
    return (
        "The deposit is non-refundable and comes off the total price of your tattoo. If you "
        "need to move your date, just let us know at least 48 hours before."
    )


def _the_deposit(amount):
    return f"the {amount} deposit" if amount else "the deposit"


def approved(lead, custom=""):
    """How the message on approval opens: the artist's own words (approval_message), or ours."""
    return custom.strip() or _pick(
        lead,
        "Great news — the artist would love to do your tattoo!",
        "Good news: the artist is happy to take your idea on!",
    )


def deposit_link(lead, amount="", url="", opening=""):
    """The card payment link after approval; sent again as it is while it is still valid."""
    return (
        f"{approved(lead, opening)} To secure your session, please pay "
        f"{_the_deposit(amount)} here:\n{url}\n\n"
        f"{deposit_policy(lead)} The link works for 24 hours."
    )


def deposit_bank_transfer(lead, amount="", bank_details="", opening=""):
    """No card payments set up: how to pay by bank transfer; the artist confirms it by hand."""
    details = bank_details.strip() or "The artist will send you their bank details here."
    return (
        f"{approved(lead, opening)} To secure your session, please "
        f"pay {_the_deposit(amount)} by bank transfer:\n{details}\n\nPlease use your name as the "
        f"reference. {deposit_policy(lead)}"
    )


def deposit_fresh_link(lead, amount="", url=""):
    return (
        f"Here's a fresh link for {_the_deposit(amount)}:\n{url}\n\n{deposit_policy(lead)} "
        "This one works for 24 hours too."
    )


def deposit_expired(lead):
    """The link lapsed unpaid (the sweep, or Stripe's own expiry): how to get a new one."""
    return (
        "Your deposit link has expired, so nothing was charged. Whenever you're ready, just "
        "reply here and I'll send you a fresh one."
    )


def deposit_checkout_item(lead=None):
    """The line item on Stripe's payment page."""
    return "Deposit for your tattoo session"


def deposit_received_while_away(lead, question=""):
    """Paid after the enquiry had been set aside: re-confirm the details, then book."""
    return (
        "Thank you — your deposit is in! Before we find you a date, could you check your "
        f"details are still right?\n\n{question}"
    ).strip()


def deposit_expired_waiting(lead):
    return (
        "Thanks for your message. Your deposit link has expired — the artist will be in touch "
        "about a new one."
    )


def deposit_received(lead, options=()):
    """The deposit is in: the slots on offer, or (none free) a request for a few times."""
    if not options:
        return (
            "Thank you — your deposit is in! The diary's full for the next few weeks, so tell "
            "me two or three days and times that would suit you (for example “Tuesday "
            "afternoon” or “Sat 14 March from 11am”) and the artist will find a slot."
        )
    return f"Thank you — your deposit is in! {_slot_menu(options)}"


def _slot_menu(options):
    lines = "\n".join(f"{number}. {option}" for number, option in enumerate(options, start=1))
    return (
        f"Which of these times suits you?\n{lines}\n\nReply with the number, or NONE if none "
        "of them work."
    )


def slot_options(lead, options=()):
    """The free slots again (after an unclear reply, or when the artist restarts booking)."""
    if not options:
        return ask_time_windows(lead)
    return _slot_menu(options)


def slot_unclear(lead, options=()):
    count = len(options) or 4
    return (
        f"Sorry, I didn't catch which one you'd like. Please reply with a number from 1 to "
        f"{count}, or NONE if none of those times work."
    )


def slot_taken(lead, options=()):
    if not options:
        return (
            "Sorry, that time has just been taken. Tell me two or three days and times that "
            "would suit you and the artist will find another slot."
        )
    return f"Sorry, that time has just been taken. {_slot_menu(options)}"


def booking_confirmed(lead, when="your session"):
    return (
        f"You're booked in for {when}! We'll send you a reminder beforehand. If anything "
        "changes, just reply here."
    )


def ask_time_windows(lead):
    return (
        "No problem. Tell me two or three days and times that would suit you — for example "
        "“Tuesday afternoon” or “Sat 14 March from 11am” — and the artist will find a slot."
    )


def time_windows_unclear(lead):
    return (
        "Sorry, I couldn't read that as days and times. Could you give me two or three, like "
        "“Monday morning” or “Fri 20 March after 2pm”?"
    )


def time_windows_noted(lead):
    return "Thanks! I've passed those times to the artist, who'll offer you a slot here soon."


def booking_link(lead, url=""):
    """For artists who book on their own page: where to choose the date."""
    where = url or "the link the artist sends you"
    return (
        f"Thanks — your deposit is sorted. Please choose your date here: {where}\n\nReply "
        "here once you've booked, or if you have any questions."
    )


def booking_cancelled(lead):
    return "Your booking has been cancelled. If you'd like to find another date, just reply here."


def resubscribed_agreed(lead, question="", agreed=""):
    """START after STOP, for a lead the artist had approved: what was kept, then re-confirm."""
    kept = agreed or agreed_summary()
    return f"You're back on — you'll get messages from us again. {kept}\n\n{question}".strip()


# -- to the artist ---------------------------------------------------------------------------


def artist_deposit_paid(lead, amount, *, was=""):
    extra = f" (the lead was {was}: please check)" if was else ""
    return f"💳 Lead #{lead.pk} paid the {amount} deposit{extra}."


def artist_deposit_paid_opted_out(lead, amount):
    return (
        f"💳 Lead #{lead.pk} paid the {amount} deposit but has opted out of messages: "
        "please contact them yourself."
    )


def artist_deposit_link_failed(lead, error):
    return (
        f"⚠️ Lead #{lead.pk}: Stripe wouldn't create the deposit link ({error[:200]}). Please "
        "send the client a payment link yourself."
    )


def artist_booked(lead, when, deposit=""):
    client = lead.client
    paid = f"; deposit {deposit} paid" if deposit else ""
    return f"📅 Lead #{lead.pk} booked {when} ({client.display_name or client.address}){paid}."


def artist_time_windows(lead, text, windows=()):
    read = f"\nRead as: {'; '.join(windows)}" if windows else ""
    return f"🗓️ Lead #{lead.pk} can't make the free slots. Their times: “{text}”{read}"


def artist_booking_needs_you(lead, reason):
    return f"🗓️ Lead #{lead.pk}: {reason}"


def artist_restarted_agreed(lead, agreed):
    return f"🔁 Lead #{lead.pk} sent START after STOP; kept: {agreed}. They're re-confirming."


def agreed_summary(deposit="", booking=""):
    """What a returning client had agreed: “Your £150 deposit is paid.”"""
    parts = []
    if deposit:
        parts.append(f"your {deposit} deposit is paid")
    if booking:
        parts.append(f"your session on {booking} is still booked")
    if not parts:
        return "Nothing's been lost: everything you told us is still here."
    sentence = " and ".join(parts)
    return f"Nothing's been lost: {sentence}."


# -- the artist's workspace (the admin, issue 10) ------------------------------------------
# The lines the artist reads in the admin.


def artist_skipped_because(status):
    return f"it is {artist_status_label(status)} now"


def artist_status_label(status):
    """A status as the artist reads it: PENDING_APPROVAL -> "pending approval"."""
    return str(status).replace("_", " ").lower()


def artist_done(label):
    return f"{label}: done."


def artist_moved_meanwhile(label, status):
    return (
        f"Couldn't {label.lower()}: the lead is {artist_status_label(status)} now (someone else "
        "moved it, or it doesn't apply any more). Nothing was changed."
    )


def artist_may_not_act():
    return "You can read this lead but not change it."


def artist_reply_queued():
    return "Reply queued: it goes out in a moment."


def artist_reply_opted_out():
    return "This client opted out, so nothing was sent."


def artist_outside_window(last_message_at):
    if last_message_at is None:
        return "They haven't written to us on WhatsApp yet, so free text won't reach them."
    when = localtime(last_message_at).strftime("%d %b %H:%M")
    return f"Their last message was {when}: WhatsApp only delivers free text within 24 hours of it."


def artist_template_offer(template_name):
    return f"Your reply can still go inside the approved template “{template_name}”."


def artist_no_template():
    return (
        "No approved template is set up (REMINDER_TEMPLATE), so WhatsApp can't carry a reply "
        "now. It opens again when they write."
    )


def artist_bulk_report(label, changed, skipped):
    """'Rejected: 3 changed. Skipped 1: #12 (it is booked now).'"""
    report = f"{label}: {changed} changed."
    if skipped:
        reasons = "; ".join(f"#{lead.pk} ({why})" for lead, why in skipped)
        report += f" Skipped {len(skipped)}: {reasons}."
    return report


def artist_replayed(done, total):
    return f"Replayed {done} of {total} failed message(s)."


def artist_retried(done, total):
    return f"Queued {done} of {total} dead message(s) to send again."


def artist_reason_needed(label):
    return f"Give a reason to {label.lower()}: it goes in the lead's history."


def artist_reply_outside_window():
    return (
        "WhatsApp's 24-hour window has closed: nothing was sent. Choose the template to reach them."
    )
