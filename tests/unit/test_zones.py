"""Finding a time zone from what a patient or coordinator types, and the places offered."""

from zoneinfo import ZoneInfo

import pytest

from bot.core.zones import ZoneNotFound, find_zone, nearby_zones, place


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Madrid", "Europe/Madrid"),
        ("europe/madrid", "Europe/Madrid"),
        ("madrid", "Europe/Madrid"),
        ("  MADRID ", "Europe/Madrid"),
        ("New York", "America/New_York"),
        ("new_york", "America/New_York"),
        ("sao paulo", "America/Sao_Paulo"),
        ("São Paulo", "America/Sao_Paulo"),
        ("port au prince", "America/Port-au-Prince"),
        ("lond", "Europe/London"),  # the start of one place is enough
        ("UTC", "UTC"),
        ("US/Eastern", "US/Eastern"),  # a full name outside the place areas
    ],
)
def test_a_name_or_a_place_typed_loosely_finds_its_zone(typed, zone):
    assert find_zone(typed).key == zone


def test_two_names_for_one_place_are_one_zone():
    # America/Buenos_Aires is another name for America/Argentina/Buenos_Aires.
    assert find_zone("buenos aires").key == "America/Argentina/Buenos_Aires"
    assert find_zone("Nicosia").key in {"Asia/Nicosia", "Europe/Nicosia"}


@pytest.mark.parametrize(
    ("typed", "candidates"),
    [
        ("sao", {"America/Sao_Paulo", "Africa/Sao_Tome"}),
        ("mad", {"Atlantic/Madeira", "Europe/Madrid"}),
    ],
)
def test_several_places_are_listed_not_guessed(typed, candidates):
    with pytest.raises(ZoneNotFound) as found:
        find_zone(typed)
    assert set(found.value.candidates) == candidates


@pytest.mark.parametrize(
    "typed", ["", "   ", "xyzzy", "Mars/Olympus", "ma", "localtime", "Eastern"]
)
def test_nothing_matches(typed):
    with pytest.raises(ZoneNotFound) as found:
        find_zone(typed)
    assert found.value.candidates == ()


def test_the_clinics_zone_comes_first_then_its_neighbours():
    assert nearby_zones(ZoneInfo("Europe/London")) == (
        "Europe/London",
        "Europe/Dublin",
        "Europe/Lisbon",
        "Europe/Madrid",
        "Europe/Paris",
        "Europe/Berlin",
        "Europe/Athens",
    )
    madrid = nearby_zones(ZoneInfo("Europe/Madrid"))
    assert madrid[0] == "Europe/Madrid" and madrid.count("Europe/Madrid") == 1
    assert nearby_zones(ZoneInfo("America/Chicago"))[:2] == (
        "America/Chicago",
        "America/Los_Angeles",
    )


def test_a_zone_of_no_listed_area_gets_the_world_list():
    offered = nearby_zones(ZoneInfo("UTC"))
    assert offered[0] == "UTC" and "America/New_York" in offered and len(offered) <= 8
    for zone in offered:
        ZoneInfo(zone)


def test_a_place_reads_as_people_write_it():
    assert place("America/Sao_Paulo") == "Sao Paulo"
    assert place("America/Argentina/Buenos_Aires") == "Buenos Aires"
    assert place("UTC") == "UTC"
