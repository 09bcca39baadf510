"""The template filters of curriculum/templatetags/checkoff.py."""

from __future__ import annotations

from decimal import Decimal

from curriculum.templatetags.checkoff import width_percent


def test_width_percent_names_the_class_of_the_nearest_whole_percent():
    assert [width_percent(value) for value in (0, 37, Decimal("37.5"), 37.4, "62")] == [
        "width-percent-0",
        "width-percent-37",
        "width-percent-38",
        "width-percent-37",
        "width-percent-62",
    ]


def test_width_percent_keeps_a_bar_inside_its_track():
    assert [width_percent(value) for value in (-5, 100, 140)] == [
        "width-percent-0",
        "width-percent-100",
        "width-percent-100",
    ]


def test_width_percent_draws_nothing_for_a_missing_or_unreadable_value():
    assert [width_percent(value) for value in (None, "", "n/a", "NaN", "Infinity")] == ["width-percent-0"] * 5


def test_every_width_class_the_filter_names_exists_in_the_stylesheet():
    from django.conf import settings

    stylesheet = (settings.BASE_DIR / "static" / "css" / "checkoff.css").read_text(encoding="utf-8")
    rules = [f".width-percent-{percent} {{ width: {percent}%; }}" for percent in range(101)]
    missing = [rule for rule in rules if rule not in stylesheet]
    assert missing == []
