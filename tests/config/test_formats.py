"""One style for a date and one for a date and time, per language, everywhere a person reads one."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.formats import date_format

ROOT = Path(__file__).resolve().parents[2]
DATE_FILTER = re.compile(r"""\|date:(?P<quote>["'])(?P<format>[^"']*)(?P=quote)""")
# What a person reads; and what a machine does: ISO 8601 in an input's value or a <time>'s datetime.
READ = {"DATE_FORMAT", "DATETIME_FORMAT", "TIME_FORMAT"}
MACHINE = {"c", "Y-m-d"}


@pytest.mark.parametrize(
    ("language", "day", "moment"),
    [("en", "Oct 26, 2026", "Oct 26, 2026, 2:30 p.m."), ("es", "26 oct 2026", "26 oct 2026, 14:30")],
)
def test_a_date_and_a_date_and_time_read_one_way_in_each_language(language: str, day: str, moment: str) -> None:
    with translation.override(language):
        assert date_format(date(2026, 10, 26)) == day
        assert date_format(date(2026, 10, 26), "SHORT_DATE_FORMAT") == day
        assert date_format(datetime(2026, 10, 26, 14, 30), "DATETIME_FORMAT") == moment
        assert date_format(datetime(2026, 10, 26, 14, 30), "SHORT_DATETIME_FORMAT") == moment
        assert Template("{{ day }}").render(Context({"day": date(2026, 10, 26)})) == day


def test_templates_show_dates_only_in_the_two_styles() -> None:
    """A template that spells its own format ("D j M", "m/d/Y") brings back the mix of styles."""
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "templates").rglob("*.txt")):
        text = template.read_text()
        for match in DATE_FILTER.finditer(text):
            before = text[: match.start()]
            inside_a_tag = before.rfind("<") > before.rfind(">")  # an attribute's value, not the page's text
            if match["format"] in READ or (match["format"] in MACHINE and inside_a_tag):
                continue
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{template.relative_to(ROOT)}:{line}: {match[0]}")
    assert found == []


def test_text_built_with_no_language_active_reads_as_english_does() -> None:
    with translation.override(None):
        assert date_format(date(2026, 10, 26)) == "Oct 26, 2026"
        assert date_format(datetime(2026, 10, 26, 14, 30), "DATETIME_FORMAT") == "Oct 26, 2026, 2:30 p.m."
