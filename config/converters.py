"""Path converters for the segments of our addresses that are not numbers.

A `str` segment is percent-decoded, so `/programs/%00/` hands the view a NUL, which PostgreSQL text
cannot hold: the lookup raised a DataError and the page answered 500. These converters refuse such
characters at the resolver, so an address holding one matches no pattern and is a 404 like any other
unknown address, and no view has to guard its own lookups. Importing this module registers them;
`config/urls.py` does so before the apps' URLs are built.
"""

from __future__ import annotations

from datetime import date

from django.urls import register_converter

# Characters a PostgreSQL text value cannot hold: NUL, and lone surrogates (they have no UTF-8 form).
UNSTORABLE = r"\x00\ud800-\udfff"


class CodeConverter:
    """A program's or a certification track's code.

    Anything but a slash and what PostgreSQL cannot store: codes are checked by their forms, not here,
    so a code already stored in any shape still has an address (a stricter pattern would make
    `reverse` fail, and every page linking that code answer 500)."""

    regex = rf"[^/{UNSTORABLE}]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class TokenConverter:
    """A credential carried in an address: a calendar feed's token, an invitation's signed token,
    a demo mailbox message's key. They are URL-safe by construction (`secrets.token_urlsafe`,
    `signing.dumps`, a timestamp and hex), so anything else cannot be one."""

    regex = r"[A-Za-z0-9_.:-]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class DateConverter:
    """An ISO date (`2026-03-02`); an impossible one (`2026-02-30`) matches nothing, so it is a 404."""

    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def to_python(self, value: str) -> date:
        return date.fromisoformat(value)  # a ValueError tells the resolver this pattern does not match

    def to_url(self, value: date | str) -> str:
        return value.isoformat() if isinstance(value, date) else value


register_converter(CodeConverter, "code")
register_converter(TokenConverter, "token")
register_converter(DateConverter, "date")
