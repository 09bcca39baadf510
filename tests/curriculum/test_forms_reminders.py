"""The reminder timings form reads days typed as free text: whatever is typed, it answers with days
or a message, never an exception."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from curriculum.forms_reminders import TimingForm
from notifications.kinds import timed_kinds


def timing_form(offsets: str, send_at: str = "09:00") -> TimingForm:
    kind = next(iter(timed_kinds().values()))
    return TimingForm({f"{kind.key}-offsets": offsets, f"{kind.key}-send_at": send_at}, kind=kind)


def test_days_are_read_whatever_separates_them():
    form = timing_form(" 30, 7;1 ,, ")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["offsets"] == [30, 7, 1]


def test_digits_that_are_not_plain_digits_are_refused_with_the_kinds_name():
    # "²" is a digit to str.isdigit() but not to int(): it raised ValueError, a 500 on the page.
    for typed in ("²", "7, ³", "١٢"):
        form = timing_form(typed)
        assert not form.is_valid()
        assert "write whole numbers of days separated by commas" in form.errors["offsets"][0]


@settings(max_examples=200, deadline=None)
@given(offsets=st.text(max_size=80), send_at=st.text(max_size=12))
@example(offsets="²", send_at="09:00")
@example(offsets="9" * 59, send_at="25:61")
def test_any_text_gives_whole_days_or_a_message(offsets, send_at):
    form = timing_form(offsets, send_at)
    if form.is_valid():
        assert all(isinstance(day, int) and day >= 0 for day in form.cleaned_data["offsets"])
    else:
        assert form.errors
