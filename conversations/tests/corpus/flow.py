"""Whole-flow cases: at a step of the default script, what a client types → what is stored
(question key → the Answer's text), which question the reply asks next (a key, "summary",
or None when nobody asks: a handover), and words the reply must or must not carry.

`given` overrides the happy answers used to reach the step (test_flow_support.HAPPY_ANSWERS).
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    at: str
    text: str
    stored: dict = field(default_factory=dict)
    asks: str | None = ""  # "": the same question again, or its repair prompt
    says: tuple = ()
    never_says: tuple = ()
    given: dict = field(default_factory=dict)


NO_THANKS = ("Thank", "Thanks")

FLOW_CORPUS = [
    # Questions and requests: answered or handed over, never stored.
    Case("idea", "can i just message the artist directly pls", asks=None, says=("artist",)),
    Case("idea", "how much is the deposit?", says=("deposit",)),
    Case("idea", "what's the deposit", says=("deposit",)),
    Case("idea", "where are you based", says=("London",)),
    Case("idea", "how much for a tattoo?", says=("quote",)),
    Case("idea", "how does booking work?", says=("deposit",)),
    Case("idea", "how long does it take to heal", says=("aftercare",)),
    Case("placement", "do you have any availability?", says=("taking bookings",)),
    Case("budget", "how much?", says=("priced individually",)),
    Case("timing", "is the deposit refundable?", says=("deposit",)),
    Case("idea", "Do you have space for a small rose?", {"idea": "a small rose"}, "placement"),
    # Other answers typed at a free-text question: kept for their own questions.
    Case("idea", "500", {"budget": "500"}, never_says=("Idea",)),
    Case("idea", "10x15cm", {"dimensions": "10x15cm"}),
    Case(
        "idea",
        "Upper arm, realism, about 10x15, budget 500",
        {
            "placement": "Upper arm",
            "style": "realism",
            "dimensions": "about 10x15",
            "budget": "budget 500",
        },
    ),
    Case(
        "idea", "A fine-line rose", {"idea": "A fine-line rose", "style": "fine-line"}, "placement"
    ),
    Case(
        "idea",
        "A rose on my forearm, about 10x15cm, budget £500, I'm @sam.ink",
        {
            "idea": "A rose on my forearm",
            "placement": "forearm",
            "dimensions": "about 10x15cm",
            "budget": "budget £500",
            "instagram_handle": "@sam.ink",
        },
        "style",
    ),
    Case("idea", "hello??", never_says=NO_THANKS),
    Case("idea", "hi", never_says=NO_THANKS),
    Case("idea", "A rose", {"idea": "A rose"}, "placement"),
    Case("idea", "Ideally a small rose", {"idea": "Ideally a small rose"}, "placement"),
    Case("placement", "Inner left forearm", {"placement": "Inner left forearm"}, "dimensions"),
    Case("placement", "where my old scar is", {"placement": "where my old scar is"}, "dimensions"),
    Case("style", "Can you do fine line?", {"style": "Can you do fine line?"}, "complexity"),
    Case(
        "style", "Fine line, black and grey", {"style": "Fine line, black and grey"}, "complexity"
    ),
    # Places.
    Case(
        "location_city",
        "manchester is fine",
        {"location_city": "manchester is fine"},
        "instagram_handle",  # the country is inferred, not asked
    ),
    Case("location_city", "I'm in Leeds", {"location_city": "I'm in Leeds"}, "instagram_handle"),
    Case("location_city", "Valencia", {"location_city": "Valencia"}, "location_country"),
    Case("location_city", "flexible"),
    Case("location_city", "anywhere"),
    Case("location_city", "any"),
    Case("location_city", "don't care"),
    Case("location_city", "a"),
    Case("location_city", "x"),
    Case("location_city", "nope"),
    Case(
        "location_country",
        "gb",
        {"location_country": "gb"},
        "instagram_handle",
        given={"location_city": "Little Snoring"},
    ),
    Case(
        "travel_city",
        "same",
        {"travel_city": "same"},
        "timing",
        given={"location_city": "London"},  # where the artist works
    ),
    Case(
        "travel_city",
        "there too",
        {"travel_city": "there too"},
        "timing",
        given={"location_city": "London"},
    ),
    # Manchester is not where the artist works: the tour offer, at this answer.
    Case("travel_city", "same", {"travel_city": "same"}, None, says=("Manchester", "London")),
    Case("travel_city", "anywhere", {"travel_city": "anywhere"}, "timing"),
    Case("travel_city", "don't mind", {"travel_city": "don't mind"}, "timing"),
    Case("travel_city", "New York", {"travel_city": "New York"}, None, says=("New York", "YES")),
    # References, sizes, budgets, timing.
    Case("reference_images", "none for now", {"reference_images": "none for now"}, "budget"),
    Case(
        "reference_images",
        "not yet, I'll send some later",
        {"reference_images": "not yet, I'll send some later"},
        "budget",
    ),
    Case("reference_images", "maybe a photo", says=("none",)),
    Case("dimensions", "palm sized", {"dimensions": "palm sized"}, "style"),
    Case("dimensions", "idk", {"dimensions": "idk"}, "style"),
    Case("dimensions", "10x", says=("palm sized",)),
    Case("dimensions", "x12", says=("palm sized",)),
    Case(
        "dimensions",
        "10x15cm and my budget is £500",
        {"dimensions": "10x15cm", "budget": "my budget is £500"},
        "style",
    ),
    Case("budget", "£500-600", {"budget": "£500-600"}, "location_city"),
    Case("budget", "400k"),
    Case("budget", "£300", {"budget": "£300"}, "location_city", says=("minimum", "£400")),
    Case(
        "timing",
        "sometime in spring, no rush",
        {"timing": "sometime in spring, no rush"},
        "summary",
    ),
    # Corrections before the summary: only the changed line, then the question again.
    Case(
        "placement", "change idea to a lotus", {"idea": "a lotus"}, says=("Updated: idea a lotus",)
    ),
]
