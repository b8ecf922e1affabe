"""The default consultation script (DESIGN.md §8), seeded into the Question table.

The script is data: the artist rewords, reorders or drops questions in the admin. The keys are
what the flow and the artist's tools read, so they stay stable; everything else may change.
"""

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class DefaultQuestion:
    key: str
    kind: str
    prompt: str
    example: str
    options: list = field(default_factory=list)
    required: bool = True


DEFAULT_SCRIPT = (
    DefaultQuestion(
        "idea",
        "text",
        "First, tell me about your idea — what would you like to get tattooed?",
        "A fine-line rose with a small bee beside it",
    ),
    DefaultQuestion(
        "placement",
        "text",
        "Where on your body would you like it?",
        "Inner left forearm",
    ),
    DefaultQuestion(
        "dimensions",
        "dimensions",
        "Roughly how big should it be? Width × height is perfect, e.g. 10 x 15 cm.",
        "10 x 15 cm",
    ),
    DefaultQuestion(
        "style",
        "text",
        "What style are you after (fine line, blackwork, realism, traditional …)?",
        "Fine line, black and grey",
    ),
    DefaultQuestion(
        "complexity",
        "complexity",
        "How detailed is it? Reply 1 (simple), 2 (medium) or 3 (high detail).",
        "2",
    ),
    DefaultQuestion(
        "coverup",
        "yes_no",
        "Will this cover up or rework an existing tattoo? (yes/no)",
        "No",
    ),
    DefaultQuestion(
        "reference_images",
        "media",
        "Do you have any reference images? Send photos or links here, or reply “none”.",
        "https://www.pinterest.com/pin/123456789/",
    ),
    DefaultQuestion(
        "budget",
        "budget",
        "What's your budget for the piece?",
        "£600",
    ),
    DefaultQuestion(
        "location_city",
        "location",
        "Which city do you live in?",
        "Manchester",
    ),
    DefaultQuestion(
        "location_country",
        "country",
        "And which country?",
        "United Kingdom",
    ),
    DefaultQuestion(
        "instagram_handle",
        "handle",
        "What's your Instagram handle? (reply “none” if you don't have one)",
        "@yourname",
    ),
    DefaultQuestion(
        "travel_city",
        "location",
        "Which city would you like to get tattooed in? (or “anywhere”)",
        "London",
    ),
    DefaultQuestion(
        "timing",
        "timing",
        "When would you like to get it done? Reply 1 (ASAP), 2 (in 1–3 months), "
        "3 (in 3–6 months) or 4 (flexible / no rush).",
        "2",
    ),
)

# Other names a client may use for an answer in "change budget to 800".
CORRECTION_ALIASES = {
    "idea": ("design", "tattoo", "description"),
    "placement": ("place", "body part", "position", "spot"),
    "dimensions": ("size", "dimension", "measurements"),
    "style": (),
    "complexity": ("detail", "detail level", "level of detail"),
    "coverup": ("cover up", "cover-up"),
    "reference_images": ("references", "reference", "images", "pictures", "photos", "refs"),
    "budget": ("price", "my budget"),
    "location_city": ("city", "home city", "location"),
    "location_country": ("country",),
    "instagram_handle": ("instagram", "insta", "handle", "ig"),
    "travel_city": ("travel", "tattoo city", "session city"),
    "timing": ("when", "date", "dates", "timeframe", "time frame"),
}

ORDER_STEP = 10  # gaps leave room for the artist to insert questions in between


def seed_default_script(question_model):
    """Create each default question missing by key; the artist's edits are never overwritten.

    Takes the model class so the data migration can pass its historical model.
    """
    created = 0
    for position, question in enumerate(DEFAULT_SCRIPT, start=1):
        defaults = asdict(question)
        key = defaults.pop("key")
        _, was_created = question_model.objects.get_or_create(
            key=key, defaults={**defaults, "order": position * ORDER_STEP, "active": True}
        )
        created += was_created
    return created


def unseed_default_script(question_model):
    """Remove the default questions again (the migration's reverse)."""
    keys = [question.key for question in DEFAULT_SCRIPT]
    return question_model.objects.filter(key__in=keys).delete()[0]
