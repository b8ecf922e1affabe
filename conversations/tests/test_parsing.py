"""Table tests for the answer parsers, plus property tests; pure Python, no database."""

import json
import string
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.parsing import PARSERS, ParseError, parse_answer
from conversations.parsing.budget import PLAUSIBLE_MAXIMUM, parse_budget
from conversations.parsing.choices import (
    parse_choice,
    parse_complexity,
    parse_handle,
    parse_timing,
    parse_yes_no,
)
from conversations.parsing.corrections import Correction, is_approval, parse_correction
from conversations.parsing.dimensions import parse_dimensions
from conversations.parsing.intents import Intent, detect_intent
from conversations.parsing.location import parse_country, parse_location
from conversations.parsing.signals import looks_like_budget
from conversations.parsing.text import fold, place_key

FAILS = ParseError  # an expected value meaning "raises ParseError"
TODAY = date(2025, 3, 1)  # timing answers like "this summer" depend on the date
PROPERTIES = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])


def outcome(parse, text, **options):
    try:
        return parse(text, **options)
    except ParseError:
        return FAILS


# ---------------------------------------------------------------------------------- budget

BUDGETS = [
    ("£1,200", (120000, "GBP")),
    ("1200 GBP", (120000, "GBP")),
    ("400£", (40000, "GBP")),
    ("€500", (50000, "EUR")),
    ("$600", (60000, "USD")),
    ("1.5k", (150000, "GBP")),
    ("2k", (200000, "GBP")),
    ("400-500", (40000, "GBP")),
    ("around 500 pounds", (50000, "GBP")),
    ("five hundred", (50000, "GBP")),
    ("£400 - £500", (40000, "GBP")),
    ("500 euros", (50000, "EUR")),
    ("about 300 quid", (30000, "GBP")),
    ("between 400 and 500 pounds", (40000, "GBP")),
    ("1-2k", (100000, "GBP")),
    ("500-1k", (50000, "GBP")),
    ("a grand", (100000, "GBP")),
    ("2 grand", (200000, "GBP")),
    ("twelve hundred", (120000, "GBP")),
    ("£99.99", (9999, "GBP")),
    ("€1.200", (120000, "EUR")),
    ("1.200,50 EUR", (120050, "EUR")),
    ("US$800", (80000, "USD")),
    ("CHF 900", (90000, "CHF")),
    ("2 tattoos, £500", (50000, "GBP")),
    ("up to £800", (80000, "GBP")),
    ("I can try 500", (50000, "GBP")),  # "try" is the Turkish lira's code, but in lower case
    ("-200", FAILS),
    ("£-200", FAILS),
    ("minus 200", FAILS),
    ("0", FAILS),
    ("£0", FAILS),
    ("0-200", FAILS),
    ("no idea", FAILS),
    ("", FAILS),
    ("£30", FAILS),
    ("49", FAILS),
    ("07700900123", FAILS),  # a phone number is not a budget
    ("1" + "0" * 40, FAILS),
]


@pytest.mark.parametrize(("text", "expected"), BUDGETS)
def test_budget(text, expected):
    result = outcome(parse_budget, text)
    if expected is FAILS:
        assert result is FAILS
    else:
        assert (result.amount_minor, result.currency) == expected


def test_budget_options():
    assert parse_budget("30", minimum=20).amount_minor == 3000
    assert parse_budget("500", default_currency="EUR").currency == "EUR"
    assert parse_budget("£500").display == "£500"
    with pytest.raises(ParseError) as caught:
        parse_budget("£30")
    assert "£50" in caught.value.reason


# ---------------------------------------------------------------------------------- dimensions

DIMENSIONS = [
    ("10x15cm", ("10", "15")),
    ("10 x 15", ("10", "15")),
    ("10×15", ("10", "15")),
    ("10cm x 15cm", ("10", "15")),
    ("10 by 15 cm", ("10", "15")),
    ("4x6 in", ("10.2", "15.2")),
    ("4x6 inches", ("10.2", "15.2")),
    ('4"x6"', ("10.2", "15.2")),
    ("100mm x 150mm", ("10", "15")),
    ("10.5 x 7", ("10.5", "7")),
    ("10,5 x 7", ("10.5", "7")),
    ("10cm", ("10", "10")),
    ("ten by fifteen cm", ("10", "15")),
    ("about 10cm wide and 15cm tall", ("10", "15")),
    ("10x15 in size", ("10", "15")),  # "in" followed by a word is not inches
    ("10 x 15 mm", ("1", "1.5")),
    ("100 x 100", ("100", "100")),
    ("0x15", FAILS),
    ("0cm", FAILS),
    ("101 x 10", FAILS),
    ("40 x 39.5 inches", FAILS),
    ("palm size", FAILS),
    ("", FAILS),
    ("10x15x2", FAILS),
    ("10 x 15 x 20 cm", FAILS),
    ("10-15cm", FAILS),
    ("-10 x 15", FAILS),
    ("A4", FAILS),
    ("1" + "0" * 30, FAILS),  # wider than the decimal context: still a ParseError
]


@pytest.mark.parametrize(("text", "expected"), DIMENSIONS)
def test_dimensions(text, expected):
    result = outcome(parse_dimensions, text)
    if expected is FAILS:
        assert result is FAILS
    else:
        assert (result.width_cm, result.height_cm) == tuple(Decimal(v) for v in expected)


def test_dimensions_area_and_max():
    dims = parse_dimensions("10 x 15")
    assert dims.area_cm2 == 150
    assert dims.display == "10 × 15 cm"
    assert parse_dimensions("150 x 20", max_cm=200).width_cm == 150
    with pytest.raises(ParseError):
        parse_dimensions("30 x 20", max_cm=25)


# ---------------------------------------------------------------------------------- location

# (city, country_code, region, flexible)
LOCATIONS = [
    ("London", ("London", "GB", "UK", False)),
    ("London, UK", ("London", "GB", "UK", False)),
    ("Berlin Germany", ("Berlin", "DE", "EUROPE", False)),
    ("U.K.", ("", "GB", "UK", False)),
    ("The Netherlands", ("", "NL", "EUROPE", False)),
    ("Republic of Ireland", ("", "IE", "EUROPE", False)),
    ("england, uk", ("", "GB", "UK", False)),
    ("Manchester", ("Manchester", "GB", "UK", False)),
    ("New York", ("New York City", "US", "ROW", False)),
    ("Paris, France", ("Paris", "FR", "EUROPE", False)),
    ("Sydney Australia", ("Sydney", "AU", "ROW", False)),
    ("United Kingdom", ("", "GB", "UK", False)),
    ("Great Britain", ("", "GB", "UK", False)),
    ("Britain", ("", "GB", "UK", False)),
    ("England", ("", "GB", "UK", False)),
    ("Scotland", ("", "GB", "UK", False)),
    ("Wales", ("", "GB", "UK", False)),
    ("Northern Ireland", ("", "GB", "UK", False)),
    ("Belfast Northern Ireland", ("Belfast", "GB", "UK", False)),
    ("Holland", ("", "NL", "EUROPE", False)),
    ("USA", ("", "US", "ROW", False)),
    ("U.S.A.", ("", "US", "ROW", False)),
    ("America", ("", "US", "ROW", False)),
    ("Germany", ("", "DE", "EUROPE", False)),
    ("Germnay", ("", "DE", "EUROPE", False)),  # a typo every close name agrees on
    ("Albany", ("Albany", "US", "ROW", False)),  # not "any" → not flexible
    ("Tiffany", ("Tiffany", "", "", False)),
    ("anywhere", ("", "", "", True)),
    ("I'm flexible", ("", "", "", True)),
    ("don't mind", ("", "", "", True)),
    ("wherever", ("", "", "", True)),
    ("no preference", ("", "", "", True)),
    ("anywhere in the UK", ("", "GB", "UK", True)),
    ("I'm based in Leeds", ("Leeds", "GB", "UK", False)),
    ("London area", ("London", "GB", "UK", False)),
    ("Little Snoring, England", ("Little Snoring", "GB", "UK", False)),
    ("Shoreditch, London, UK", ("London", "GB", "UK", False)),
    ("UK, London", ("London", "GB", "UK", False)),
    ("Atlanta, Georgia", ("Atlanta", "US", "ROW", False)),
    ("Georgia", ("", "GE", "ROW", False)),
    ("Birmingham AL", ("Birmingham", "US", "ROW", False)),  # Alabama, not Albania
    ("LA", ("Los Angeles", "US", "ROW", False)),
    ("Cologne", ("Köln", "DE", "EUROPE", False)),
    ("zurich", ("Zürich", "CH", "EUROPE", False)),
    ("Singapore", ("Singapore", "SG", "ROW", False)),
    ("Mexico", ("", "MX", "ROW", False)),
    ("Lisbon portugal", ("Lisbon", "PT", "EUROPE", False)),
    ("Dublin Ireland", ("Dublin", "IE", "EUROPE", False)),
    ("Jersey", ("", "JE", "EUROPE", False)),  # a Crown Dependency, not part of the UK
    ("London, Ontario", ("London, Ontario", "", "", False)),
    ("asdf", ("Asdf", "", "", False)),  # unknown but place-like: kept as typed
    ("", FAILS),
    ("   ", FAILS),
    ("12345", FAILS),
    ("not sure", FAILS),
    ("I will be travelling around europe for a while in the summer months", FAILS),
    ("!!!", FAILS),
]


@pytest.mark.parametrize(("text", "expected"), LOCATIONS)
def test_location(text, expected):
    result = outcome(parse_location, text)
    if expected is FAILS:
        assert result is FAILS
    else:
        assert (result.city, result.country_code, result.region, result.flexible) == expected


COUNTRIES = [
    ("UK", ("", "GB", "UK")),
    ("france", ("", "FR", "EUROPE")),
    ("DE", ("", "DE", "EUROPE")),
    ("The Netherlands", ("", "NL", "EUROPE")),
    ("Russia", ("", "RU", "EUROPE")),
    ("Turkey", ("", "TR", "ROW")),
    ("London", ("London", "GB", "UK")),  # a known city gives its country
    ("Texas", ("Texas", "US", "ROW")),
    ("idk", FAILS),
    ("xyzzy", FAILS),
    ("", FAILS),
]


@pytest.mark.parametrize(("text", "expected"), COUNTRIES)
def test_country(text, expected):
    result = outcome(parse_country, text)
    if expected is FAILS:
        assert result is FAILS
    else:
        assert (result.city, result.country_code, result.region) == expected


# ---------------------------------------------------------------------------------- choices

YES_NO = [
    *[(word, True) for word in ("yes", "Yeah", "yep", "y", "sure", "ok", "correct", "👍", "Yes!")],
    *[(word, False) for word in ("no", "nope", "n", "nah", "not really", "Nope.")],
    ("Yes, it covers an old piece", True),
    ("No, fresh skin", False),
    ("maybe", FAILS),
    ("yes and no", FAILS),
    ("not sure", FAILS),
    ("kind of", FAILS),
    ("hmm", FAILS),
    ("", FAILS),
]


@pytest.mark.parametrize(("text", "expected"), YES_NO)
def test_yes_no(text, expected):
    assert outcome(parse_yes_no, text) is expected


COMPLEXITY = [
    ("1", 1),
    ("2", 2),
    ("3", 3),
    ("simple", 1),
    ("low", 1),
    ("Fairly simple", 1),
    ("medium", 2),
    ("moderate", 2),
    ("moderately detailed", 2),
    ("high detail", 3),
    ("detailed", 3),
    ("complex", 3),
    ("very detailed", 3),
    ("4", FAILS),
    ("0", FAILS),
    ("medium to high", FAILS),
    ("not detailed", FAILS),
    ("idk", FAILS),
]


@pytest.mark.parametrize(("text", "expected"), COMPLEXITY)
def test_complexity(text, expected):
    assert outcome(parse_complexity, text) == expected


HANDLES = [
    ("@name", "name"),
    ("name", "name"),
    ("instagram.com/name", "name"),
    ("https://www.instagram.com/some.name/?hl=en", "some.name"),
    ("my insta is @Ink.Lover", "ink.lover"),
    ("@a", "a"),
    ("none", ""),
    ("no", ""),
    ("don't have one", ""),
    ("I don’t have one", ""),
    ("@this_is_way_too_long_for_instagram_x", FAILS),
    ("bob smith", FAILS),
    (".name", FAILS),
    ("name.", FAILS),
    ("na..me", FAILS),
    ("https://instagram.com/p/ABC123/", FAILS),
    ("@one @two", FAILS),
    ("bob@gmail.com", FAILS),
    ("", FAILS),
]


@pytest.mark.parametrize(("text", "expected"), HANDLES)
def test_handle(text, expected):
    assert outcome(parse_handle, text) == expected


TIMINGS = [
    ("asap", "asap"),
    ("ASAP please!", "asap"),
    ("as soon as possible", "asap"),
    ("2 weeks", "asap"),
    ("next month", "1_3_months"),
    ("in 2 months", "1_3_months"),
    ("in two months", "1_3_months"),
    ("6 weeks", "1_3_months"),
    ("1-3 months", "1_3_months"),
    ("this summer", "1_3_months"),  # three months after 1 March
    ("in June", "1_3_months"),
    ("3-6 months", "3_6_months"),
    ("in 4 months", "3_6_months"),
    ("later this year", "3_6_months"),
    ("half a year", "3_6_months"),
    ("no rush", "flexible"),
    ("whenever", "flexible"),
    ("next year", "flexible"),
    ("I may want it soon", "asap"),  # "may" the verb is not May the month
    ("1", "asap"),
    ("2", "1_3_months"),
    ("3", "3_6_months"),
    ("4", "flexible"),
    ("5", FAILS),
    ("not now, maybe next year", FAILS),
    ("", FAILS),
]


@pytest.mark.parametrize(("text", "expected"), TIMINGS)
def test_timing(text, expected):
    assert outcome(parse_timing, text, today=TODAY) == expected


STYLES = [("blackwork", "Blackwork"), ("fine_line", "Fine line"), ("bg", "Black and grey")]
CHOICES = [
    ("1", "blackwork"),
    ("2.", "fine_line"),
    ("option 3", "bg"),
    ("fine_line", "fine_line"),
    ("FINE LINE", "fine_line"),
    ("the fine line one please", "fine_line"),
    ("black and grey", "bg"),
    ("4", FAILS),
    ("0", FAILS),
    ("watercolour", FAILS),
]


@pytest.mark.parametrize(("text", "expected"), CHOICES)
def test_choice(text, expected):
    assert outcome(parse_choice, text, options=STYLES) == expected


# ---------------------------------------------------------------------------------- intents

INTENTS = [
    *[
        (text, Intent.OPT_OUT)
        for text in ("STOP", "stop.", " Stop! ", "STOPALL", "unsubscribe", "OPT OUT", "opt-out")
    ],
    *[(text, Intent.OPT_OUT) for text in ("END", "quit", "Cancel")],
    *[(text, Intent.RESTART) for text in ("START", "resume", "UNSTOP")],
    ("continue", Intent.CONTINUE),
    ("Can I talk to a human?", Intent.HUMAN),
    ("I want to speak to the artist", Intent.HUMAN),
    ("is the artist around", Intent.HUMAN),
    ("real person please", Intent.HUMAN),
    ("can I talk to someone", Intent.HUMAN),
    ("speak to someone", Intent.HUMAN),
    ("human", Intent.HUMAN),
    ("Artist please", Intent.HUMAN),
    ("Is this a bot? I want a human", Intent.HUMAN),
    ("I'd like to chat with the artist about pricing", Intent.HUMAN),
    ("A portrait of my favourite artist", None),
    ("a human heart with roses", None),
    ("an anatomical human skull", None),
    ("I want a refund", Intent.REFUND),
    ("can I get my money back", Intent.REFUND),
    ("delete my data", Intent.DELETE_DATA),
    ("please delete my details", Intent.DELETE_DATA),
    ("remove my data", Intent.DELETE_DATA),
    ("GDPR request", Intent.DELETE_DATA),
    ("any discount?", Intent.PRICE_HAGGLE),
    ("can you do it cheaper", Intent.PRICE_HAGGLE),
    ("could you lower the price", Intent.PRICE_HAGGLE),
    ("what's your best price", Intent.PRICE_HAGGLE),
    ("can we negotiate", Intent.PRICE_HAGGLE),
    ("when are you free", Intent.SCHEDULING),
    ("what dates do you have", Intent.SCHEDULING),
    ("what's your availability", Intent.SCHEDULING),
    ("are you available next week", Intent.SCHEDULING),
    ("book me in for friday", Intent.SCHEDULING),
    ("I'll stop by", None),
    ("don't stop", None),
    ("stop please", None),  # carrier keywords only as the whole message
    ("cancel my appointment", None),
    ("the end", None),
    ("Ideally a small rose", None),
    ("to discover my strength", None),
    ("Can you do fine line?", None),
    ("the artistic style", None),
    ("I saw the artist's work", None),
    ("humanity", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), INTENTS)
def test_intent(text, expected):
    assert detect_intent(text) == expected


# ---------------------------------------------------------------------------------- registry

ANSWERS = [
    ("text", "  a rose  ", {}, "a rose", "a rose"),
    (
        "dimensions",
        "10x15",
        {},
        {"width_cm": "10.0", "height_cm": "15.0", "area_cm2": "150.00"},
        "10 × 15 cm",
    ),
    ("budget", "£500", {}, {"amount_minor": 50000, "currency": "GBP"}, "£500"),
    (
        "location",
        "Paris, France",
        {},
        {
            "city": "Paris",
            "country_code": "FR",
            "country": "France",
            "region": "EUROPE",
            "flexible": False,
        },
        "Paris, France",
    ),
    (
        "country",
        "uk",
        {},
        {
            "city": "",
            "country_code": "GB",
            "country": "United Kingdom",
            "region": "UK",
            "flexible": False,
        },
        "United Kingdom",
    ),
    ("choice", "2", {"options": STYLES}, "fine_line", "Fine line"),
    ("yes_no", "yep", {}, True, "Yes"),
    ("complexity", "detailed", {}, 3, "High detail (3)"),
    ("media", "like www.example.com/a.jpg.", {}, {"urls": ["www.example.com/a.jpg"]}, "1 link"),
    ("media", "none", {}, {"urls": []}, "None"),
    ("handle", "@ink", {}, "ink", "@ink"),
    ("timing", "4", {}, "flexible", "Flexible"),
]


@pytest.mark.parametrize(("kind", "text", "options", "value", "display"), ANSWERS)
def test_parse_answer(kind, text, options, value, display):
    parsed = parse_answer(kind, text, **options)
    assert (parsed.value, parsed.display) == (value, display)
    json.dumps(parsed.value)


@pytest.mark.parametrize(
    ("kind", "text"),
    [("text", "   "), ("media", "maybe a photo"), ("budget", "lots"), ("yes_no", "?")],
)
def test_parse_answer_rejects(kind, text):
    with pytest.raises(ParseError) as caught:
        parse_answer(kind, text)
    assert caught.value.reason


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown answer kind"):
        parse_answer("horoscope", "leo")


# ---------------------------------------------------------------------------------- properties


@PROPERTIES
@given(st.text(max_size=60))
def test_budget_never_below_minimum(text):
    result = outcome(parse_budget, text)
    assert result is FAILS or result.amount_minor >= 50 * 100 > 0


@PROPERTIES
@given(
    st.integers(min_value=1, max_value=999_999),
    st.sampled_from(["£{:,}", "{} GBP", "{}£", "£{}", "{} pounds", "about {} quid"]),
)
def test_budget_reads_any_written_amount(amount, template):
    result = outcome(parse_budget, template.format(amount))
    if amount < 50 or amount > PLAUSIBLE_MAXIMUM:
        assert result is FAILS
    else:
        assert (result.amount_minor, result.currency) == (amount * 100, "GBP")


@PROPERTIES
@given(st.text(max_size=60), st.integers(min_value=1, max_value=300))
def test_dimensions_stay_within_max(text, max_cm):
    result = outcome(parse_dimensions, text, max_cm=max_cm)
    if result is not FAILS:
        assert 0 < result.width_cm <= max_cm
        assert 0 < result.height_cm <= max_cm


@PROPERTIES
@given(
    st.decimals(min_value=0, max_value=500, places=1),
    st.decimals(min_value=0, max_value=500, places=1),
    st.sampled_from(["{}x{}", "{} x {} cm", "{}cm by {}cm", "{}mm x {}mm", "{} x {} in"]),
)
def test_dimensions_generated(width, height, template):
    result = outcome(parse_dimensions, template.format(width, height))
    if result is not FAILS:
        assert 0 < result.width_cm <= 100
        assert 0 < result.height_cm <= 100
        assert result.area_cm2 == result.width_cm * result.height_cm


@PROPERTIES
@given(st.sampled_from(sorted(PARSERS)), st.text(max_size=80))
def test_every_parser_fails_only_with_parse_error(kind, text):
    options = {"options": STYLES} if kind == "choice" else {}
    try:
        parsed = parse_answer(kind, text, **options)
    except ParseError as error:
        assert error.reason
    else:
        json.dumps(parsed.value)
        assert isinstance(parsed.display, str)


@PROPERTIES
@given(st.text(max_size=80))
def test_location_regions(text):
    result = outcome(parse_location, text)
    if result is not FAILS:
        assert result.region in {"UK", "EUROPE", "ROW", ""}
        assert bool(result.region) == bool(result.country_code)
        assert (result.region == "UK") == (result.country_code == "GB")


@PROPERTIES
@given(
    st.sampled_from(["stop", "STOP", "Stop", "unsubscribe", "STOPALL", "opt out", "quit"]),
    st.text(alphabet=" \t\n", max_size=3),
    st.text(alphabet=".!? ", max_size=3),
)
def test_opt_out_keyword_whatever_the_padding(word, before, after):
    assert detect_intent(before + word + after) == Intent.OPT_OUT


@PROPERTIES
@given(st.text(alphabet=string.ascii_letters + " ", min_size=1, max_size=40))
def test_opt_out_keyword_inside_a_sentence_is_not_opt_out(words):
    assert detect_intent(f"{words} stop {words}".strip()) != Intent.OPT_OUT or not words.strip()


# -- one range gap for budgets and sizes ------------------------------------------------


@pytest.mark.parametrize("gap", ["-", "–", "to", "or", "and", "till", "until", "~", "/"])
def test_two_sizes_with_a_range_between_them_are_a_range_not_width_and_height(gap):
    with pytest.raises(ParseError, match="width and height"):
        parse_dimensions(f"10 {gap} 15 cm")


@pytest.mark.parametrize("gap", ["-", "–", "to", "or", "and", "till", "until", "~", "/"])
def test_a_budget_range_gives_its_lower_bound_in_the_upper_bounds_currency(gap):
    budget = parse_budget(f"400 {gap} 500 euros")
    assert (budget.amount_minor, budget.currency) == (40000, "EUR")


# -- one fold for phrases ---------------------------------------------------------------


def test_the_fold_ignores_case_curly_apostrophes_skin_tones_spacing_and_end_punctuation():
    assert fold("  That’s  RIGHT 👍🏽 !") == "that's right 👍"


def test_place_keys_ignore_accents_and_punctuation():
    assert place_key("Zürich") == place_key("zurich")
    assert place_key("St. Albans") == place_key("st albans")


# -- what looks like a budget -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("£450", True),
        ("I could stretch to 450", True),
        ("450", True),
        ("I live at 120 Baker Street", False),
    ],
)
def test_what_looks_like_a_budget(text, expected):
    assert looks_like_budget(text) is expected


# -- corrections and approvals of the summary -------------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "value", "asked"),
    [
        ("change budget to 800", "budget", "800", True),
        ("Could you change the size to 20 x 25 cm", "size", "20 x 25 cm", True),
        ("Instagram: @new.handle", "instagram", "@new.handle", False),
        ("update my Cover-Up = yes", "cover up", "yes", True),
    ],
)
def test_a_correction_names_a_field_and_its_new_value(text, field, value, asked):
    assert parse_correction(text) == Correction(field, value, asked)


@pytest.mark.parametrize("text", ["yes", "a rose", "change of plan"])
def test_a_reply_without_a_field_and_value_is_no_correction(text):
    assert parse_correction(text) is None


@pytest.mark.parametrize("text", ["Looks good!", "all good", "perfect", "spot on 👍"])
def test_approvals_of_the_summary(text):
    assert is_approval(text)


@pytest.mark.parametrize("text", ["yes", "looks good but change the budget", "good"])
def test_what_is_not_an_approval(text):
    assert not is_approval(text)
