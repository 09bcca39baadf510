"""`manage.py create_director`: the program and its first director on a fresh installation."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.models import Invitation, User
from curriculum.models import Program, StaffRole
from curriculum.permissions import can_create_program, can_edit_program

pytestmark = pytest.mark.django_db

ARGUMENTS = [
    "--first-name", "Dana", "--last-name", "Reyes", "--program-code", "MA-DIPLOMA",
    "--program-name", "Medical Assistant Diploma", "--accreditor", "caahep", "--time-zone", "America/Chicago",
]  # fmt: skip


def create(email: str, *arguments: str) -> str:
    out = StringIO()
    call_command("create_director", email, *(arguments or ARGUMENTS), stdout=out)
    return out.getvalue()


def test_a_new_director_gets_the_program_and_an_invitation(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        output = create("Dana.Reyes@School.EDU")
    director = User.objects.get(email="dana.reyes@school.edu")
    program = Program.objects.get(code="MA-DIPLOMA")
    assert (program.name, program.accreditor, program.time_zone) == (
        "Medical Assistant Diploma",
        "caahep",
        "America/Chicago",
    )
    assert StaffRole.objects.filter(user=director, program=program, role=StaffRole.Role.DIRECTOR).exists()
    assert can_edit_program(director, program) and can_create_program(director)
    # No password on the command line: none is set, the invitation sets it.
    assert not director.has_usable_password()
    assert not director.is_superuser
    invitation = Invitation.objects.get(user=director)
    assert [message.to for message in mail.outbox] == [["dana.reyes@school.edu"]]
    assert "/me/invitation/" in output
    assert "MA-DIPLOMA created; dana.reyes@school.edu directs it" in output
    assert invitation.accepted_at is None


def test_the_program_gets_its_defaults_as_one_made_on_the_programs_page():
    create("dana@school.edu")
    program = Program.objects.get(code="MA-DIPLOMA")
    assert program.certification_tracks.exists()  # the reference certification tracks, as the Programs page gives


def test_someone_with_an_account_directs_the_new_program_without_a_new_invitation(alice):
    output = create(alice.email.upper())
    assert StaffRole.objects.filter(user=alice, program__code="MA-DIPLOMA", role=StaffRole.Role.DIRECTOR).exists()
    assert not Invitation.objects.filter(user=alice).exists()
    assert "already had an account" in output


@pytest.mark.parametrize(
    ("email", "replace", "message"),
    [
        ("dana@school.edu", ("MA-DIPLOMA", "not a code!"), "code"),
        ("dana@school.edu", ("America/Chicago", "Mars/Olympus"), "Mars/Olympus"),
        ("not-an-email", None, "email"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_made(email, replace, message):
    arguments = [replace[1] if replace and argument == replace[0] else argument for argument in ARGUMENTS]
    with pytest.raises(CommandError, match=f"(?i){message}"):
        create(email, *arguments)
    assert not Program.objects.exists()
    assert not User.objects.filter(email=email).exists()


def test_a_code_in_use_is_refused(alice):
    create(alice.email)
    with pytest.raises(CommandError):
        create("someone.else@school.edu")
    assert not User.objects.filter(email="someone.else@school.edu").exists()


def test_an_unknown_accreditor_is_refused():
    arguments = ["NOPE" if argument == "caahep" else argument for argument in ARGUMENTS]
    with pytest.raises(CommandError, match="accreditor"):
        create("dana@school.edu", *arguments)
