"""The demo program `make run` shows: believable, signed for real, and never made outside DEBUG."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from curriculum.models import Attempt, ChecklistStep, Enrollment, Program, Revocation, Signature


def test_it_refuses_to_run_without_debug(settings, db):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_it_makes_a_demo_worth_looking_at_once(settings, db):
    settings.DEBUG = True
    call_command("seed_demo")
    program = Program.objects.get(code="MA-DIPLOMA")
    for who in ("director", "coordinator", "instructor", "student", "preceptor"):
        person = User.objects.get(email=f"{who}@demo.checkoff.test")
        assert person.check_password("checkoff-demo")
    assert program.framework.code == "MAERB-2022"
    assert ChecklistStep.objects.filter(program=program).exists()
    for cohort in program.cohorts.all():
        assert Enrollment.objects.filter(cohort=cohort).count() > 25  # the roster paginates
    assert Attempt.objects.filter(passed=False).exists()
    assert Revocation.objects.count() == 1
    assert all(signature.is_intact() for signature in Signature.objects.select_related("attempt")[:50])

    call_command("seed_demo", "--if-empty")
    call_command("seed_demo")
    assert Program.objects.count() == 1
