"""Spanish ships: the catalogue is complete, compiled and current with the sources, and people see it.

After changing strings, refresh the catalogue (needs GNU gettext), translate every new or changed
entry (no empty msgstr, no "#, fuzzy" left), compile it, and commit both files:

    .venv/bin/python manage.py makemessages --locale es --ignore '.venv/*' --ignore '.data/*' \\
        --ignore 'tests/*' --ignore 'bench/*' --no-location
    .venv/bin/python manage.py compilemessages --locale es --ignore '.venv/*'
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from accounts import services
from accounts.models import User
from notifications import services as outbox

ROOT = Path(__file__).resolve().parent.parent
PO_PATH = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
REFRESH = (
    "Refresh the catalogue: .venv/bin/python manage.py makemessages --locale es --ignore '.venv/*' "
    "--ignore '.data/*' --ignore 'tests/*' --ignore 'bench/*' --no-location, translate the new entries in "
    f"{PO_PATH.relative_to(ROOT)}, then .venv/bin/python manage.py compilemessages --locale es --ignore '.venv/*'."
)

# What `makemessages` reads (domain "django": .html, .txt, .py), as the refresh command above sees it.
SKIPPED_DIRS = {"tests", "bench", "locale", "static", "node_modules"}  # at the top; hidden ones anywhere
SOURCE_SUFFIXES = {".py", ".html", ".txt"}

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{\{\s*\w+\s*\}\}")
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


# --- A small reader for .po files -----------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    @property
    def label(self) -> str:
        return f"[{self.msgctxt}] {self.msgid!r}" if self.msgctxt else repr(self.msgid)


def unquote(text: str) -> str:
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda match: ESCAPES.get(match.group(1), match.group(0)), text[1:-1])


def parse_po(text: str) -> tuple[dict[str, str], list[Entry]]:
    """The header's fields and the live entries; obsolete (#~) entries are left out, as gettext does."""
    entries: list[Entry] = []
    current: Entry | None = None
    pending_flags: set[str] = set()
    target: tuple[str, int] | None = None
    started: set[str] = set()

    def begin() -> Entry:
        nonlocal current, pending_flags
        current = Entry(flags=pending_flags)
        pending_flags = set()
        started.clear()
        entries.append(current)
        return current

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            current, target = None, None
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            pending_flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            current, target = None, None
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            assert current is not None and target is not None, f"a string outside an entry: {raw!r}"
            name, index = target
            if name == "msgstr":
                current.msgstr[index] += unquote(line)
            else:
                setattr(current, name, (getattr(current, name) or "") + unquote(line))
            continue
        keyword, _, value = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and (current is None or started - {"msgctxt"}):
            current = begin()
        assert current is not None, f"no msgid before {raw!r}"
        started.add(keyword)
        plural = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if keyword == "msgstr" or plural:
            index = int(plural.group(1)) if plural else 0
            current.msgstr[index] = unquote(value)
            target = ("msgstr", index)
        elif keyword in ("msgctxt", "msgid", "msgid_plural"):
            setattr(current, keyword, unquote(value))
            target = (keyword, 0)
        else:
            raise AssertionError(f"not a .po line: {raw!r}")
    header_entries = [entry for entry in entries if entry.msgid == "" and entry.msgctxt is None]
    assert len(header_entries) == 1, "the catalogue needs exactly one header entry"
    header = header_entries[0]
    fields = dict(line.split(": ", 1) for line in header.msgstr.get(0, "").splitlines() if ": " in line)
    fields["__flags__"] = ",".join(sorted(header.flags))
    return fields, [entry for entry in entries if entry is not header]


def read_catalogue(path: Path = PO_PATH) -> tuple[dict[str, str], list[Entry]]:
    assert path.exists(), f"{path} is missing. {REFRESH}"
    return parse_po(path.read_text(encoding="utf-8"))


# --- The catalogue itself -----------------------------------------------------------------


def test_the_catalogue_is_spanish_utf8_with_two_plural_forms():
    header, _entries = read_catalogue()
    assert header.get("Language") == "es"
    assert header.get("Content-Type") == "text/plain; charset=UTF-8"
    assert header.get("Plural-Forms") == "nplurals=2; plural=(n != 1);"
    assert "fuzzy" not in header["__flags__"], "a fuzzy header is skipped by msgfmt, and with it the plural rule"


def test_every_message_is_translated_and_none_is_fuzzy():
    _header, entries = read_catalogue()
    assert len(entries) > 100, "the catalogue looks truncated"
    fuzzy = [entry.label for entry in entries if "fuzzy" in entry.flags]
    forms = {0, 1}
    untranslated = [
        entry.label
        for entry in entries
        if set(entry.msgstr) != (forms if entry.msgid_plural is not None else {0})
        or not all(text.strip() for text in entry.msgstr.values())
    ]
    assert not fuzzy, f"fuzzy entries (check them and remove the flag): {fuzzy}"
    assert not untranslated, f"untranslated entries: {untranslated}"


def test_translations_keep_every_placeholder_and_tag():
    _header, entries = read_catalogue()
    broken = []
    for entry in entries:
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural is not None else [])
        names = {name for source in sources for name in _placeholders(source)}
        tags = sorted(HTML_TAG.findall(entry.msgid))
        for text in entry.msgstr.values():
            used = set(_placeholders(text))
            # A plural form may leave out the count ("… tomorrow" for one day), as the English singular
            # may; the forms together still use every name, and no form invents one.
            fits = used <= names if entry.msgid_plural is not None else used == names
            if not fits or sorted(HTML_TAG.findall(text)) != tags:
                broken.append(f"{entry.label} → {text!r}")
        if entry.msgid_plural is not None and entry.msgstr:
            together = {name for text in entry.msgstr.values() for name in _placeholders(text)}
            if together != names:
                broken.append(f"{entry.label}: the forms together lose {sorted(names - together)}")
        if "python-format" in entry.flags:
            percents = [text.count("%%") for text in [*sources, *entry.msgstr.values()]]
            if len(set(percents)) > 1:
                broken.append(f"{entry.label}: a literal %% is lost or added")
    assert not broken, "placeholders or tags differ from the English:\n" + "\n".join(broken)


def _placeholders(text: str) -> list[str]:
    return [match.group(1) or match.group(0) for match in PLACEHOLDER.finditer(text)]


def test_the_compiled_catalogue_matches_the_po():
    """The .mo is committed so a machine without gettext serves Spanish; it must say what the .po says."""
    assert MO_PATH.exists(), f"{MO_PATH} is missing. {REFRESH}"
    _header, entries = read_catalogue()
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in entries:
        expected = [(entry.msgstr.get(0, ""), 1)]
        if entry.msgid_plural is not None:
            expected.append((entry.msgstr.get(1, ""), 2))
        for text, number in expected:
            if not text:
                continue  # untranslated: the test above names it
            if entry.msgctxt is not None and entry.msgid_plural is not None:
                found = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, number)
            elif entry.msgctxt is not None:
                found = compiled.pgettext(entry.msgctxt, entry.msgid)
            elif entry.msgid_plural is not None:
                found = compiled.ngettext(entry.msgid, entry.msgid_plural, number)
            else:
                found = compiled.gettext(entry.msgid)
            if found != text:
                stale.append(entry.label)
    assert not stale, f"django.mo is older than django.po for {stale}. {REFRESH}"


def _copy_sources(destination: Path) -> None:
    """The files makemessages reads, copied so extraction writes nothing into the working tree."""
    for directory, subdirectories, files in os.walk(ROOT):
        here = Path(directory)
        subdirectories[:] = [
            name
            for name in subdirectories
            if not name.startswith(".") and name != "__pycache__" and not (here == ROOT and name in SKIPPED_DIRS)
        ]
        for name in files:
            if Path(name).suffix in SOURCE_SUFFIXES and not name.startswith("."):
                target = destination / (here / name).relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(here / name, target)


EXTRACT = """
import django
from django.conf import settings
settings.configure(USE_I18N=True)
django.setup()
from django.core.management import call_command
call_command("makemessages", locale=["es"], no_location=True, verbosity=0)
"""


def test_the_catalogue_is_current_with_the_sources(tmp_path):
    """A string marked for translation but missing from django.po (or one removed from the code) fails here."""
    missing_tools = [tool for tool in ("xgettext", "msguniq") if shutil.which(tool) is None]
    if missing_tools:
        reason = (
            f"GNU gettext is not installed ({', '.join(missing_tools)} missing): cannot check that the Spanish "
            "catalogue covers every string in the sources. Install it (apt-get install gettext)."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        warnings.warn(reason, stacklevel=1)
        pytest.skip(reason)
    sources = tmp_path / "sources"
    _copy_sources(sources)
    (sources / "locale").mkdir()
    environment = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", EXTRACT],
        cwd=sources,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    _fresh_header, fresh = parse_po((sources / "locale/es/LC_MESSAGES/django.po").read_text(encoding="utf-8"))
    _header, committed = read_catalogue()
    fresh_keys = {entry.key: entry for entry in fresh}
    committed_keys = {entry.key: entry for entry in committed}
    missing = [entry.label for key, entry in fresh_keys.items() if key not in committed_keys]
    stale = [entry.label for key, entry in committed_keys.items() if key not in fresh_keys]
    assert not missing, f"strings in the sources that django.po lacks: {missing}. {REFRESH}"
    assert not stale, f"entries in django.po that no source uses any more: {stale}. {REFRESH}"


# --- What people see ----------------------------------------------------------------------


def test_a_person_who_prefers_spanish_sees_their_home_page_in_spanish(client, alice):
    alice.preferred_language = "es"
    alice.save(update_fields=["preferred_language"])
    client.force_login(alice)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Hola, {alice.first_name}" in page
    assert "Sus cursos" in page
    assert "Nunca ingrese datos que identifiquen a pacientes." in page
    assert "Your courses" not in page


def test_a_person_without_a_preference_sees_english(client, alice):
    client.force_login(alice)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your courses" in page
    assert "Sus cursos" not in page


def test_a_director_who_prefers_spanish_sees_choice_labels_and_counts_in_spanish(client, dana, program, alice):
    dana.preferred_language = "es"
    dana.save(update_fields=["preferred_language"])
    client.force_login(dana)
    page = client.get(reverse("home")).content.decode()
    assert "Programas que usted dirige" in page
    assert "1 cohorte" in page
    assert "1 estudiante actual" in page


def test_the_sign_in_page_follows_the_browsers_language(client, db):
    """allauth's own Spanish and ours together: our overrides of its templates must not hide its catalogue."""
    page = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es">' in page
    assert "Iniciar sesión" in page  # allauth's catalogue
    assert "Contraseña" in page  # allauth's form
    assert "Ir al contenido" in page  # ours
    assert "Sign In" not in page
    english = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sign In" in english


def test_the_password_reset_page_is_spanish_too(client, db):
    page = client.get(reverse("account_reset_password"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "¿Ha olvidado su contraseña?" in page  # allauth's catalogue
    assert "Nunca ingrese datos que identifiquen a pacientes." in page  # ours
    assert "Password Reset" not in page


def test_an_invitation_to_a_person_who_prefers_spanish_is_in_spanish(db):
    newcomer = User.objects.create_user("nueva@school.test", first_name="Lucía", preferred_language="es")
    services.invite_users(users=[newcomer], invited_by=None)
    language_before = translation.get_language()
    assert outbox.send_due() == 1
    message = mail.outbox[-1]
    html = message.alternatives[0][0]
    assert message.subject == "Está invitado(a) a Checkoff"
    assert "Hola, Lucía:" in message.body
    assert "Elija aquí su contraseña para iniciar sesión:" in message.body
    assert "evaluaciones de competencias" in message.body
    assert "Elija su contraseña" in html
    assert "Choose your password" not in message.body + html
    assert translation.get_language() == language_before


def test_an_invitation_to_a_person_without_a_preference_is_in_english(db):
    newcomer = User.objects.create_user("new@school.test", first_name="Nia")
    services.invite_users(users=[newcomer], invited_by=None)
    with translation.override("es"):
        outbox.send_due()
    assert mail.outbox[-1].subject == "You are invited to Checkoff"
