"""The one field for a list typed as text (site specialties, exam domains, eligibility routes)."""

from __future__ import annotations

import pytest
from django import forms
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.forms import ItemsField


def field(**options) -> ItemsField:
    return ItemsField(label="Specialties", item_max_length=20, required=False, **options)


def test_it_trims_items_and_leaves_out_blanks_and_repeats_ignoring_case():
    assert field().clean(" pediatrics,, Pediatrics , family  medicine,") == ["pediatrics", "family medicine"]


def test_one_a_line_when_asked():
    assert field(separator="\n").clean(" a, b \r\n\n c ") == ["a, b", "c"]


@pytest.mark.parametrize("text", ["a\x00b", "\x00", "fine, fi\x00ne"])
def test_a_nul_is_refused_naming_the_field(text):
    with pytest.raises(forms.ValidationError) as refused:
        field().clean(text)
    assert refused.value.messages == ["Specialties: remove the null character; it cannot be stored."]


def test_an_item_too_long_is_refused_naming_the_field_and_the_item():
    with pytest.raises(forms.ValidationError) as refused:
        field().clean("short, a specialty much too long")
    assert refused.value.messages == [
        "Specialties: “a specialty much too long” is too long, at most 20 characters each."
    ]


def test_a_required_list_needs_an_item():
    with pytest.raises(forms.ValidationError):
        ItemsField(item_max_length=10).clean(" , ,")


def test_it_shows_a_stored_list_as_the_text_it_reads():
    assert field().prepare_value(["a", "b"]) == "a, b"
    assert field(separator="\n").prepare_value(["a", "b"]) == "a\nb"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_gives_storable_items_within_the_limit_or_a_validation_error(text):
    try:
        items = field().clean(text)
    except forms.ValidationError:
        return
    for item in items:
        assert item and item == item.strip() and "\x00" not in item and len(item) <= 20
        assert "," not in item
    assert len({item.casefold() for item in items}) == len(items)
    assert field().clean(field().prepare_value(items)) == items
