"""What the lead page shows: the timeline, the facts panel and how a reply can reach the client."""

from dataclasses import dataclass
from datetime import datetime

from conversations import wording
from conversations.flows import artist, handover, script
from conversations.models import Direction, Lead, MessageStatus, Question, Status, StudioSettings
from conversations.parsing import format_money

# The delivery ticks of an outbound message, as a chat app shows them.
TICKS = {
    MessageStatus.QUEUED: ("🕓", "queued"),
    MessageStatus.SENT: ("✓", "sent"),
    MessageStatus.DELIVERED: ("✓✓", "delivered"),
    MessageStatus.READ: ("✓✓", "read"),
    MessageStatus.UNKNOWN: ("?", "may have been delivered"),
    MessageStatus.FAILED: ("⚠", "failed, retrying"),
    MessageStatus.DEAD: ("✗", "not delivered"),
}


def who(actor):
    """'bot' -> 'Bot', 'artist:ink' -> 'ink', 'api:ink' -> 'ink (API)'."""
    actor = actor or "bot"
    kind, _, name = actor.partition(":")
    if not name:
        return actor.capitalize()
    return f"{name} (API)" if kind == "api" else name


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: a message (`side` in/out) or a status change (`side` event)."""

    at: datetime
    side: str
    body: str
    by: str = ""
    ticks: str = ""
    state: str = ""
    status: str = ""
    error: str = ""
    template: bool = False


def timeline(lead):
    """Messages and status changes in the order they happened."""
    entries = []
    for message in lead.messages.order_by("created_at", "id"):
        inbound = message.direction == Direction.IN
        ticks, state = (
            ("", message.get_status_display()) if inbound else TICKS.get(message.status, ("", ""))
        )
        entries.append(
            Entry(
                at=message.created_at,
                side="in" if inbound else "out",
                body=message.body or f"[{message.kind}]",
                by="Client" if inbound else who(message.payload.get("actor")),
                ticks=ticks,
                state=state,
                status=message.status,
                error=message.last_error
                if message.status in (MessageStatus.FAILED, MessageStatus.DEAD)
                else "",
                template=bool(message.payload.get("template")),
            )
        )
    for change in lead.status_changes.all():
        entries.append(
            Entry(
                at=change.created_at,
                side="event",
                body=f"{wording.artist_status_label(change.from_status)} → "
                f"{wording.artist_status_label(change.to_status)}",
                by=who(change.actor),
                state=change.transition.replace("_", " "),
                error=change.reason,
            )
        )
    return sorted(entries, key=lambda entry: entry.at)


@dataclass(frozen=True)
class AnswerRow:
    label: str
    raw: str
    parsed: str


def answers(lead, questions, studio):
    """The current answers in script order, the parsed value beside what the client wrote."""
    current = lead.current_answers()
    facts = script.facts(lead, questions, studio, current)
    rows = [AnswerRow(fact.label, fact.text, fact.value) for fact in facts]
    # Answers to questions since taken out of the script, after the rest.
    scripted = {question.key for question in questions}
    for key, answer in sorted(current.items()):
        if key not in scripted:
            rows.append(AnswerRow(key.replace("_", " ").capitalize(), answer.text, ""))
    return rows


def context(lead: Lead):
    studio = StudioSettings.load()
    questions = list(Question.objects.script())
    client = lead.client
    route = artist.reply_route(client)
    last_in = client.messages.filter(direction=Direction.IN).order_by("-created_at").first()
    return {
        "timeline": timeline(lead),
        "status_label": wording.artist_status_label(lead.status),
        "answers": answers(lead, questions, studio),
        "estimate": handover.estimate_text(lead, studio),
        "deposit": format_money(lead.deposit_minor, studio.currency) if lead.deposit_minor else "",
        "failures": {k.replace("_", " "): n for k, n in (lead.parse_failures or {}).items() if n},
        "packet": handover.packet(lead, lead.handover_reason, studio=studio)
        if lead.status == Status.NEEDS_ARTIST_REPLY
        else "",
        "step": f"{min(lead.current_step + 1, len(questions))} of {len(questions)}"
        if lead.status == Status.QUALIFYING and questions
        else "",
        "route": route,
        "window_notice": ""
        if route.free_text
        else wording.artist_outside_window(last_in.created_at if last_in else None),
        "template_notice": wording.artist_template_offer(route.template_name)
        if route.template_name
        else wording.artist_no_template(),
        "opted_out": client.is_opted_out,
    }
