"""The path converters: what PostgreSQL cannot hold matches no address, and every stored value still
has one."""

from __future__ import annotations

from datetime import date
from urllib.parse import unquote

import pytest
from django.urls import Resolver404, resolve, reverse

from accounts import tokens
from certifications.models import new_feed_token


@pytest.mark.parametrize(
    "path",
    [
        "/programs/\x00/",
        "/programs/MA\x00/edit/",
        "/programs/MA/certifications/tracks/\x00/",
        "/calendar/\x00.ics",
        "/me/invitation/\x00/",
        "/dev/mailbox/\x00/",
        "/placements/1/weeks/2026-02-30/approve/",
        "/placements/1/weeks/0000-00-00/approve/",
        "/placements/1/weeks/2026-03-0\x00/approve/",
    ],
)
def test_it_matches_no_address_for_a_nul_or_an_impossible_date(path):
    with pytest.raises(Resolver404):
        resolve(path)


def test_a_lone_surrogate_matches_no_code():
    with pytest.raises(Resolver404):
        resolve("/programs/\ud800/")


def test_a_code_of_any_storable_shape_still_has_an_address():
    # Track codes are not checked by a pattern: one added in the admin as "CMA (AAMA)" keeps its pages.
    url = reverse("certifications:track-detail", args=["MA-DIPLOMA", "CMA (AAMA) ñ"])
    assert resolve(unquote(url)).kwargs == {"code": "MA-DIPLOMA", "track_code": "CMA (AAMA) ñ"}


def test_every_kind_of_token_the_app_makes_has_an_address():
    for name, token in [
        ("accounts:accept-invitation", tokens.make_token(12345)),
        ("certifications:calendar-feed", new_feed_token()),
        ("notifications:mailbox-message", "20260302T091500123456-0f3a9c1e"),
    ]:
        assert resolve(reverse(name, args=[token])).kwargs, name


def test_a_week_is_a_date_in_the_view_and_in_the_address():
    monday = resolve("/placements/7/weeks/2026-03-02/approve/").kwargs["monday"]
    assert monday == date(2026, 3, 2)
    assert reverse("externships:week-approve", args=[7, monday]) == "/placements/7/weeks/2026-03-02/approve/"
