"""Externship pages, one module per part. What several parts need to look up lives here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from accounts.http import AuthenticatedRequest
from curriculum.models import Program
from curriculum.permissions import visible_programs
from externships import permissions


def managed_program(request: AuthenticatedRequest, code: str) -> Program:
    """A program whose externships the person runs: unknown to outsiders (404), forbidden to its
    other staff, such as instructors (403)."""
    program = get_object_or_404(visible_programs(request.user), code=code)
    if not permissions.can_manage_externships(request.user, program):
        raise PermissionDenied
    return program
