"""Places as people write them: out of a sentence, refusals for non-places, "same" as home,
flexible only where the question allows it, country codes, and a country a city gives."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.parsing import ParseError, parse_answer
from conversations.parsing.location import (
    Location,
    country_is_certain,
    parse_country,
    parse_location,
)

PROPERTIES = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
HOME = parse_location("Manchester")


def place(location):
    return (location.city, location.country_code, location.flexible)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("manchester is fine", ("Manchester", "GB", False)),
        ("I'm in Leeds", ("Leeds", "GB", False)),
        ("london please", ("London", "GB", False)),
        ("leeds would be great", ("Leeds", "GB", False)),
        ("probably Manchester", ("Manchester", "GB", False)),
        ("Germany is fine", ("", "DE", False)),
    ],
)
def test_a_place_is_read_out_of_a_sentence(text, expected):
    assert place(parse_location(text)) == expected


@pytest.mark.parametrize("text", ["Little Snoring", "Stoke Newington", "Tiffany"])
def test_an_unknown_place_name_is_still_kept_as_typed(text):
    assert parse_location(text).city == text


@pytest.mark.parametrize("text", ["a", "x", "zz", "nope", "nah", "is fine", "ok", "yes"])
def test_a_non_place_is_refused(text):
    with pytest.raises(ParseError):
        parse_location(text)


@pytest.mark.parametrize("text", ["flexible", "any", "anywhere", "don't care", "don't mind"])
def test_flexible_is_refused_where_the_question_wants_a_city(text):
    with pytest.raises(ParseError, match="city you live in"):
        parse_location(text, allow_flexible=False)


@pytest.mark.parametrize("text", ["flexible", "any", "anywhere", "don't care", "don't mind"])
def test_flexible_is_accepted_where_the_question_allows_it(text):
    assert parse_location(text).flexible


def test_flexible_with_a_country_keeps_the_country():
    assert place(parse_location("anywhere in the UK")) == ("", "GB", True)


@pytest.mark.parametrize("text", ["same", "Same", "here", "there too", "same city", "same please"])
def test_same_at_the_travel_question_is_the_home_city(text):
    assert parse_location(text, home=HOME) == HOME


def test_same_without_a_home_city_asks_for_the_name():
    with pytest.raises(ParseError, match="by name"):
        parse_location("same")


def test_a_home_city_answer_value_can_be_the_home_of_the_travel_question():
    stored = parse_answer("location", "Leeds").value
    assert parse_location("there too", home=Location(**stored)).city == "Leeds"


@pytest.mark.parametrize(
    ("text", "code"),
    [("gb", "GB"), ("uk", "GB"), ("GB", "GB"), ("fr", "FR"), ("deu", "DE"), ("U.K.", "GB")],
)
def test_iso_codes_name_countries_at_the_country_question(text, code):
    assert parse_country(text).country_code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [("United Kingdom", "GB"), ("Britain", "GB"), ("Holland", "NL"), ("the States", "US")],
)
def test_common_names_name_countries(text, code):
    assert parse_country(text).country_code == code


def test_gb_is_a_country_at_the_city_question_too():
    assert place(parse_location("gb")) == ("", "GB", False)


@pytest.mark.parametrize("city", ["Manchester", "London", "Leeds", "Birmingham", "Paris"])
def test_an_unambiguous_city_gives_its_country_for_certain(city):
    assert country_is_certain(parse_location(city))


@pytest.mark.parametrize("city", ["Valencia", "Cambridge"])
def test_a_city_with_a_namesake_abroad_leaves_the_country_open(city):
    assert not country_is_certain(parse_location(city))


def test_a_city_typed_as_unknown_gives_no_country():
    assert not country_is_certain(parse_location("Little Snoring"))


def test_a_country_alone_is_certain():
    assert country_is_certain(parse_location("UK"))


@PROPERTIES
@given(st.text(max_size=80), st.booleans(), st.booleans())
def test_the_location_parser_raises_only_parse_errors(text, allow_flexible, with_home):
    home = HOME if with_home else None
    try:
        location = parse_location(text, allow_flexible=allow_flexible, home=home)
    except ParseError as error:
        assert error.reason
    else:
        assert allow_flexible or not location.flexible
        assert isinstance(country_is_certain(location), bool)


@PROPERTIES
@given(st.text(max_size=80))
def test_the_country_parser_raises_only_parse_errors(text):
    try:
        location = parse_country(text)
    except ParseError as error:
        assert error.reason
    else:
        assert location.country_code or location.flexible
