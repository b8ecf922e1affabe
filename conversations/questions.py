"""The default consultation script (DESIGN.md §8), seeded into the Question table.

The script is data: the artist rewords, reorders or drops questions in the admin. The keys are
what the flow and the artist's tools read, so they stay stable; everything else may change.
The keys the flow itself reads are named here, once; every other module imports them.
"""

from dataclasses import asdict, dataclass, field

# Answers the qualification reads (pricing, the cover-up rule, the location facts, the tour).
PLACEMENT = "placement"
STYLE = "style"
COMPLEXITY = "complexity"
COVERUP = "coverup"
LOCATION_CITY = "location_city"
LOCATION_COUNTRY = "location_country"
TRAVEL_CITY = "travel_city"
# Steps that are not questions of the script but keep answers and failure counts like one.
CONFIRMATION = "confirmation"  # the summary the client says yes to
TOUR_OFFER = "tour_offer"  # "would you travel to where the artist works?"


@dataclass(frozen=True)
class DefaultQuestion:
    key: str
    kind: str
    prompt: str
    example: str
    label: str = ""  # how the summary names the answer
    aliases: tuple[str, ...] = ()  # other names for it in "change budget to 800"
    options: list = field(default_factory=list)
    required: bool = True

    def metadata(self):
        """The label and aliases as the Question row stores them."""
        return {"label": self.label, "aliases": list(self.aliases)}


DEFAULT_SCRIPT = (
    DefaultQuestion(
        "idea",
        "text",
        "First, tell me about your idea — what would you like to get tattooed?",
        "A fine-line rose with a small bee beside it",
        label="Idea",
        aliases=("design", "tattoo", "description"),
    ),
    DefaultQuestion(
        PLACEMENT,
        "text",
        "Where on your body would you like it?",
        "Inner left forearm",
        label="Placement",
        aliases=("place", "body part", "position", "spot"),
    ),
    DefaultQuestion(
        "dimensions",
        "dimensions",
        "Roughly how big should it be? Width × height is perfect, e.g. 10 x 15 cm.",
        "10 x 15 cm",
        label="Size",
        aliases=("size", "dimension", "measurements"),
    ),
    DefaultQuestion(
        STYLE,
        "text",
        "What style are you after (fine line, blackwork, realism, traditional …)?",
        "Fine line, black and grey",
        label="Style",
    ),
    DefaultQuestion(
        COMPLEXITY,
        "complexity",
        "How detailed is it? Reply 1 (simple), 2 (medium) or 3 (high detail).",
        "2",
        label="Detail",
        aliases=("detail", "detail level", "level of detail"),
    ),
    DefaultQuestion(
        COVERUP,
        "yes_no",
        "Will this cover up or rework an existing tattoo? (yes/no)",
        "No",
        label="Cover-up",
        aliases=("cover up", "cover-up"),
    ),
    DefaultQuestion(
        "reference_images",
        "media",
        "Do you have any reference images? Send photos or links here, or reply “none”.",
        "https://www.pinterest.com/pin/123456789/",
        label="References",
        aliases=("references", "reference", "images", "pictures", "photos", "refs"),
    ),
    DefaultQuestion(
        "budget",
        "budget",
        "What's your budget for the piece?",
        "£600",
        label="Budget",
        aliases=("price", "my budget"),
    ),
    DefaultQuestion(
        LOCATION_CITY,
        "location",
        "Which city do you live in?",
        "Manchester",
        label="Your city",
        aliases=("city", "home city", "location"),
    ),
    DefaultQuestion(
        LOCATION_COUNTRY,
        "country",
        "And which country?",
        "United Kingdom",
        label="Your country",
        aliases=("country",),
    ),
    DefaultQuestion(
        "instagram_handle",
        "handle",
        "What's your Instagram handle? (reply “none” if you don't have one)",
        "@yourname",
        label="Instagram",
        aliases=("instagram", "insta", "handle", "ig"),
    ),
    DefaultQuestion(
        TRAVEL_CITY,
        "location",
        "Which city would you like to get tattooed in? (or “anywhere”)",
        "London",
        label="Tattoo city",
        aliases=("travel", "tattoo city", "session city"),
    ),
    DefaultQuestion(
        "timing",
        "timing",
        "When would you like to get it done? Reply 1 (ASAP), 2 (in 1–3 months), "
        "3 (in 3–6 months) or 4 (flexible / no rush).",
        "2",
        label="Timing",
        aliases=("when", "date", "dates", "timeframe", "time frame"),
    ),
)

ORDER_STEP = 10  # gaps leave room for the artist to insert questions in between


def seed_default_script(question_model):
    """Create each default question missing by key; the artist's edits are never overwritten.

    Takes the model class so the data migration can pass its historical model; fields that
    model does not have yet (label and aliases before 0008) are left to their migration.
    """
    fields = {f.name for f in question_model._meta.get_fields()}
    created = 0
    for position, question in enumerate(DEFAULT_SCRIPT, start=1):
        defaults = {**asdict(question), **question.metadata()}
        key = defaults.pop("key")
        defaults = {name: value for name, value in defaults.items() if name in fields}
        _, was_created = question_model.objects.get_or_create(
            key=key, defaults={**defaults, "order": position * ORDER_STEP, "active": True}
        )
        created += was_created
    return created


def fill_default_metadata(question_model):
    """Give the default questions their label and aliases where the row has none yet; the
    number of rows changed."""
    changed = 0
    for question in DEFAULT_SCRIPT:
        rows = question_model.objects.filter(key=question.key)
        changed += rows.filter(label="").update(label=question.label)
        if question.aliases:
            changed += rows.filter(aliases=[]).update(aliases=list(question.aliases))
    return changed


def unseed_default_script(question_model):
    """Remove the default questions again (the migration's reverse)."""
    keys = [question.key for question in DEFAULT_SCRIPT]
    return question_model.objects.filter(key__in=keys).delete()[0]
