"""The ``named_options`` filter keeps what it wrote for a list of places by the places' own
codes and names: the same list is written once, and any change to it is written afresh. The
``name_of`` filter shows a place by its name."""

from __future__ import annotations

from ledger.services.listing import Place
from ledger.web import name_of, named_options


def test_options_are_escaped_and_the_chosen_one_selected() -> None:
    places = [Place("E1", "Ashford"), Place("E2", "Dover & <Deal>")]
    assert named_options(places, "E2") == (
        '<option value="E1">Ashford</option>'
        '<option value="E2" selected>Dover &amp; &lt;Deal&gt;</option>')
    assert named_options(places, None) == (
        '<option value="E1">Ashford</option><option value="E2">Dover &amp; &lt;Deal&gt;</option>')


def test_a_renamed_added_or_removed_place_is_written_afresh() -> None:
    places = [Place("E1", "Ashford"), Place("E2", "Dover")]
    assert "Dover" in named_options(places, None)
    renamed = [Place("E1", "Ashford"), Place("E2", "Dover District")]
    assert ">Dover District<" in named_options(renamed, None)
    assert named_options([*renamed, Place("E3", "Folkestone")], None).endswith(
        '<option value="E3">Folkestone</option>')
    assert named_options(renamed[:1], None) == '<option value="E1">Ashford</option>'
    assert named_options([], "E1") == ""


def test_name_of_shows_a_place_by_name_and_an_unknown_code_as_it_is() -> None:
    names = {"ashford-central": "Ashford Central"}
    assert name_of("ashford-central", names) == "Ashford Central"
    assert name_of("gone-division", names) == "gone-division"
    assert name_of(None, names) is None


def test_choosing_marks_only_the_chosen_option_and_leaves_the_list_as_it_was() -> None:
    places = [Place("a&b", "A and B"), Place("c", "C")]
    assert named_options(places, "a&b") == (
        '<option value="a&amp;b" selected>A and B</option><option value="c">C</option>')
    assert named_options(places, "c") == (
        '<option value="a&amp;b">A and B</option><option value="c" selected>C</option>')
    unchosen = '<option value="a&amp;b">A and B</option><option value="c">C</option>'
    assert named_options(places, "zzz") == unchosen
    assert named_options(places, "") == unchosen
    assert named_options(places, None) == unchosen
