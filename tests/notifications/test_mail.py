"""The reminder's message written straight to MIME reads, parsed, exactly like the one Django builds."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from django.conf import settings
from django.core.mail.message import sanitize_address
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from notifications.mail import Letter, envelope_address, letter_bytes, letter_message

LETTERS = [
    Letter(
        subject="[Checkoff] Your CMA exam is in 7 days",
        text="Hello Ana,\n\nYour CMA exam is in 7 days.\n",
        html="<p>Hello Ana,</p><h1>Your CMA exam is in 7 days</h1>",
        to="ana@school.test",
        headers={"X-Checkoff-Reminder": "42"},
    ),
    Letter(
        subject="[Checkoff] «Examen final» vence mañana — ¿listo?",
        text="Hola, Begoña:\n\nSu práctica en Clínica Núñez comienza en 7 días.\n" + "línea larga " * 40,
        html="<p>Hola, Begoña:</p><p>Su práctica en Clínica Núñez comienza en 7 días.</p>",
        to="begona@school.test",
        headers={"X-Checkoff-Reminder": "7"},
    ),
]


def _parsed(raw: bytes) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


@pytest.mark.parametrize("eight_bit", [True, False], ids=["8bit", "base64"])
@pytest.mark.parametrize("letter", LETTERS, ids=["english", "spanish"])
def test_the_written_message_reads_like_djangos(letter, eight_bit):
    from_email = sanitize_address(settings.DEFAULT_FROM_EMAIL, "utf-8")
    ours = _parsed(letter_bytes(letter, from_email=from_email, to=letter.to, eight_bit=eight_bit))
    djangos = _parsed(letter_message(letter).message().as_bytes(linesep="\r\n"))  # type: ignore[call-arg]
    for header in ("Subject", "From", "To", "X-Checkoff-Reminder", "MIME-Version"):
        assert str(ours[header]).strip() == str(djangos[header]).strip(), header
    assert ours.get_content_type() == djangos.get_content_type() == "multipart/alternative"
    for kind in ("plain", "html"):
        assert (
            ours.get_body(preferencelist=(kind,)).get_content()
            == djangos.get_body(preferencelist=(kind,)).get_content()
        )
    assert ours["Message-ID"] and ours["Date"]


def test_every_line_ends_in_crlf_and_stays_within_smtps_limit():
    raw = letter_bytes(LETTERS[1], from_email="Checkoff <no-reply@checkoff.test>", to="begona@school.test")
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 998
    head, _blank, _body = raw.partition(b"\r\n\r\n")
    assert all(len(line) <= 78 for line in head.split(b"\r\n") if line.startswith((b"Subject", b" =?")))


def test_a_line_break_in_a_value_cannot_add_a_header():
    letter = Letter(
        subject="Hi\r\nBcc: everyone@elsewhere.test",
        text="x",
        html="x",
        to="ana@school.test",
        headers={"X-Checkoff-Reminder": "1"},
    )
    parsed = _parsed(letter_bytes(letter, from_email="a@b.test", to="ana@school.test"))
    assert parsed["Bcc"] is None
    assert str(parsed["Subject"]) == "Hi Bcc: everyone@elsewhere.test"


def test_an_unusual_address_goes_through_djangos_sanitizing():
    assert envelope_address("ana@school.test") == "ana@school.test"
    encoded = envelope_address("ana@escuela-ñ.test")
    assert encoded.startswith("ana@xn--") and encoded.isascii()
    with pytest.raises(ValueError):
        envelope_address("ana@school.test\r\nBcc: x@y.test")


def test_a_line_too_long_for_smtp_goes_in_base64_even_where_8bit_is_taken():
    letter = Letter(subject="s", text="a" * 1200, html="<p>short</p>", to="ana@school.test", headers={})
    raw = letter_bytes(letter, from_email="a@b.test", to="ana@school.test", eight_bit=True)
    assert raw.count(b"Content-Transfer-Encoding: base64") == 1
    assert raw.count(b"Content-Transfer-Encoding: 8bit") == 1
    assert _parsed(raw).get_body(preferencelist=("plain",)).get_content() == "a" * 1200


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_letters_reach_a_real_smtp_server_whole(pipelining):
    from django.core.mail.backends.smtp import EmailBackend

    from notifications.mail import LetterSender
    from notifications.mail_sink import MailSink

    with MailSink() as sink:
        backend = EmailBackend(host=sink.host, port=sink.port, use_tls=False, use_ssl=False)
        with backend:
            sender = LetterSender(backend)
            assert sender.eight_bit and sender.pipelining  # what the sink, like production servers, says
            sender.pipelining = pipelining
            for letter in LETTERS:
                sender.send(sender.prepare(letter))
        assert sink.reminder_counts() == {42: 1, 7: 1}
        assert [message.recipients for message in sink.received()] == [("ana@school.test",), ("begona@school.test",)]


# --- Any text a reminder may carry -----------------------------------------------------------------

HEADER_NAMES = ["Content-Type", "MIME-Version", "Subject", "From", "To", "Date", "Message-ID", "X-Checkoff-Reminder"]


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    subject=st.text(max_size=200),
    reminder=st.text(max_size=60),
    text=st.text(max_size=400),
    html=st.text(max_size=400),
    eight_bit=st.booleans(),
)
@example(
    subject="Exam\r\nBcc: everyone@elsewhere.test\r\n\r\nbody",
    reminder="1\nX-Injected: yes",
    text="a\r.\r\n.\n",
    html="<p>\u2028</p>",
    eight_bit=True,
)
@example(subject="¿listo? 🩺 مرحبا \u202e" * 8, reminder="٧", text="\x00", html="", eight_bit=False)
def test_any_text_stays_in_its_header_or_its_part(subject, reminder, text, html, eight_bit):
    letter = Letter(
        subject=subject, text=text, html=html, to="ana@school.test", headers={"X-Checkoff-Reminder": reminder}
    )
    raw = letter_bytes(letter, from_email="a@b.test", to="ana@school.test", eight_bit=eight_bit)
    head, _blank, _body = raw.partition(b"\r\n\r\n")
    assert b"\r\n".join(head.split(b"\r\n")) == head and b"\n" not in head.replace(b"\r\n", b"")
    parsed = _parsed(raw)
    # A line break in a value never makes a header of its own: exactly the headers written, once each.
    assert list(parsed.keys()) == HEADER_NAMES
    assert str(parsed["Subject"]) == " ".join(subject.split())
    assert str(parsed["X-Checkoff-Reminder"]) == " ".join(reminder.split())
    plain, rich = (part.get_content() for part in parsed.iter_parts())
    assert lines_of(plain) == lines_of(text)
    assert lines_of(rich) == lines_of(html)
    # No bare CR or LF anywhere: SMTP carries CRLF line ends only.
    assert b"\r" not in raw.replace(b"\r\n", b"") and b"\n" not in raw.replace(b"\r\n", b"")


def lines_of(text: str) -> list[str]:
    """Lines as a mail reader sees them: any of CRLF, CR and LF ends one; the last line end is the part's."""
    return re.sub(r"\r\n|\r", "\n", text).removesuffix("\n").split("\n")
