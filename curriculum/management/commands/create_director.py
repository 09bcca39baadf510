"""`manage.py create_director`: a program and its first director, on an installation nobody can sign in to yet.

Only a director (or a superuser) may create a program, and a fresh installation has neither. This
makes both in one step, through the same service as the Programs page, so the program gets its
reference certification tracks and compliance defaults as one made there does. No password is typed
on a command line, where it would stay in the shell's history: the director is invited by email, as
every new member of staff is, and sets their own; the link is printed too, for a school whose mail is
not working yet. No superuser is made: the director completes the program's settings (framework,
practicum hours, trigger course) on its page, and adds the staff.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import services as account_services
from accounts.models import User
from curriculum.models import Accreditor, Program
from curriculum.services import create_program

# A refusal names the option to correct, not the model's field.
OPTION_OF = {
    "code": "--program-code",
    "name": "--program-name",
    "time_zone": "--time-zone",
    "accreditor": "--accreditor",
}


class Command(BaseCommand):
    help = "Create a program and its director; a new director is invited by email to set a password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The director's email address (their sign-in).")
        parser.add_argument("--first-name", required=True)
        parser.add_argument("--last-name", required=True)
        parser.add_argument("--program-code", required=True, help="Short code, e.g. MA-DIPLOMA.")
        parser.add_argument("--program-name", required=True, help="e.g. 'Medical Assistant Diploma'.")
        parser.add_argument("--accreditor", required=True, choices=[choice.value for choice in Accreditor])
        parser.add_argument("--time-zone", default="America/New_York", help="The program's, e.g. America/Chicago.")

    def handle(self, *args: Any, **options: Any) -> None:
        email = User.objects.normalize_email(options["email"]).strip().lower()
        program = Program(
            code=options["program_code"],
            name=options["program_name"],
            accreditor=options["accreditor"],
            time_zone=options["time_zone"],
        )
        try:
            User(email=email).clean_fields(exclude=["password"])
            program.full_clean(exclude=["framework", "trigger_course"])
        except ValidationError as error:
            problems = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
            raise CommandError(
                " ".join(f"{OPTION_OF.get(field, field)}: {' '.join(messages)}" for field, messages in problems.items())
            ) from error
        with transaction.atomic():
            director = User.objects.filter(email__iexact=email).first()
            invitation = None
            if director is None:
                director = User.objects.create_user(
                    email, first_name=options["first_name"], last_name=options["last_name"]
                )
                invitation = account_services.invite_users(users=[director], invited_by=None)[0]
            create_program(program=program, director=director)
        self.stdout.write(f"Program {program.code} created; {director.email} directs it.")
        if invitation is not None:
            self.stdout.write(
                f"An invitation is on its way to {director.email}. Its link, to set a password: "
                f"{account_services.invitation_url(invitation)}"
            )
        else:
            self.stdout.write(f"{director.email} already had an account: they sign in as before.")
