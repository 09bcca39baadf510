"""Curriculum pages, one module per part: coursework.py (programs, rosters, coursework),
checkoffs.py (performing and signing check-offs), grid.py (competency progress), records.py
(the student's record, its PDF and access log), frameworks.py (frameworks and checklists),
reminders.py (the program's reminder outbox and timings), setup_imports.py (cohorts and courses
from files)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from accounts.http import AuthenticatedRequest
from accounts.models import User
from curriculum.models import Program
from curriculum.permissions import visible_programs


def program_for(request: AuthenticatedRequest, code: str, allowed: Callable[[User, Program], bool]) -> Program:
    """A program the person is staff of (404 for outsiders) where `allowed` lets them act (403 otherwise)."""
    program = get_object_or_404(visible_programs(request.user), code=code)
    if not allowed(request.user, program):
        raise PermissionDenied
    return program
